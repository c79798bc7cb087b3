import { expect } from 'chai';
import { Engine } from 'bpmn-engine';
import { stateWithoutSource } from '../../engine/bpmn.js';
import { fixture } from '../helpers/system.js';

/**
 * Issue 20: bpmn-engine's getState() serialized the whole diagram (moddle-context-serializer) into every
 * state, and the runtime deleted it again (the diagram is in the definitions table): 0.4 ms of every command
 * on the shipped diagram, a tenth of its engine time, and a large string for the collector.
 * patches/bpmn-engine+25.0.1.patch adds getState({ source: false }); engine/bpmn.ts stateWithoutSource uses it.
 */
describe('Regression: the state a command stores is taken without serializing the diagram', () => {
  it('Given an engine waiting at a task, when the state to store is taken, then the diagram is not serialized, and a plain getState() still carries it', async () => {
    const engine = new Engine({ name: 'state', source: fixture('simple.bpmn') });
    await engine.execute();
    const source = (engine.execution as any).definitions[0].environment.options.source;
    const serialize = source.serialize;
    let calls = 0;
    source.serialize = function (...args: unknown[]) {
      calls++;
      return serialize.apply(this, args);
    };
    try {
      const stored = await stateWithoutSource(engine);
      expect(calls).to.equal(0);
      expect(stored.definitions).to.have.length(1);
      expect(stored.definitions[0]).to.not.have.property('source');
      expect(stored.definitions[0].execution).to.be.an('object');
      const full: any = await engine.getState();
      expect(calls).to.equal(1);
      expect(full.definitions[0].source).to.be.a('string');
      // The same state but for the diagram.
      delete full.definitions[0].source;
      expect(JSON.parse(JSON.stringify(stored))).to.deep.equal(JSON.parse(JSON.stringify(full)));
    } finally {
      source.serialize = serialize;
      await engine.stop();
    }
  });
});
