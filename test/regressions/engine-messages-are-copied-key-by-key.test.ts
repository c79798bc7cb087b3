import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine } from 'bpmn-engine';
import { fixture } from '../helpers/system.js';

/**
 * Issue 20: every broker message of bpmn-elements (smqp's Message) and every
 * content it clones (cloneContent) was copied by object spread and then given
 * more properties (messageId, timestamp, parent, consumerTag), which takes
 * V8's slow path; each message also drew its id from Math.random().toString(16).
 * A shipped completion makes about 500 messages and 400 content clones.
 * patches/bpmn-elements++smqp+11.0.1.patch and patches/bpmn-elements+17.3.0.patch
 * copy key by key (copyOwn, also for the other hot `{ ...a, key }` literals: an
 * event's properties, an activity's and a flow's message, an outbound flow, a
 * temporary subscription's options) and number the ids. In memory, five runs
 * each alternating, the shipped diagram's start 9.17 -> 7.27 ms, recovery 4.51 ->
 * 3.45 ms, completion 3.41 -> 2.12 ms (medians). What must not change is what a
 * spread copy gives: the same own keys and values in the same order, shallow,
 * nothing shared that was cloned before, an own `__proto__` key kept as a key.
 */
const elements = dirname(fileURLToPath(import.meta.resolve('bpmn-elements')));
const nested = (file: string) => {
  const path = join(elements, '..', 'node_modules', 'smqp', 'src', file);
  expect(existsSync(path), `bpmn-elements' own smqp at ${path} (the patch's target)`).to.equal(true);
  return pathToFileURL(path).href;
};

describe("Regression: the engine's messages and contents are copied key by key, as a spread would", () => {
  it('Given messages made without an id, then each gets its own, numbered within the process; a given id, timestamp and the other properties are kept', async () => {
    const { Message } = await import(nested('Message.js'));
    const ids = Array.from({ length: 2000 }, () => new Message({ routingKey: 'a' }, {}, { persistent: true }).properties.messageId);
    expect(new Set(ids).size).to.equal(ids.length);
    // The patch numbers them after a per-process prefix (before: ten random hex digits each).
    const [, prefix, first] = /^smq\.mid-([0-9a-f]{6})([0-9a-z]+)$/.exec(ids[0])!;
    expect(ids[1]).to.equal(`smq.mid-${prefix}${(parseInt(first, 36) + 1).toString(36)}`);
    const given = new Message({ routingKey: 'b' }, { x: 1 }, { messageId: 'given', timestamp: 7, type: 'enter' });
    expect(given.properties).to.deep.equal({ messageId: 'given', timestamp: 7, type: 'enter' });
    const expiring = new Message({ routingKey: 'c' }, {}, { timestamp: 10, expiration: '5' });
    expect(expiring.properties.ttl).to.equal(15);
  });

  it("Given fields with a consumer tag and properties with an own __proto__ key, then the message's copies leave the tag out, keep the key as a key, and share nothing with what was passed", async () => {
    const { Message } = await import(nested('Message.js'));
    const fields = { routingKey: 'run.execute', exchange: 'run', consumerTag: 'old-tag' };
    const properties = JSON.parse('{"type":"x","__proto__":{"polluted":true}}');
    const m = new Message(fields, { id: 'c' }, properties);
    expect(m.fields).to.deep.equal({ routingKey: 'run.execute', exchange: 'run' });
    expect(Object.getPrototypeOf(m.properties)).to.equal(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(m.properties, '__proto__')).to.equal(true);
    expect((m.properties as any).polluted).to.equal(undefined);
    m._consume('new-tag', () => {});
    expect(m.fields.consumerTag).to.equal('new-tag');
    expect(fields.consumerTag).to.equal('old-tag');
    expect(m.properties).to.not.equal(properties);
  });

  it('Given a queue with messages, when one taken by a consumer is requeued and the queue is recovered from its state, then they come back marked redelivered, without the old consumer tag, with their properties', async () => {
    const { Broker } = await import(nested('index.js'));
    const broker = new Broker();
    broker.assertQueue('q', { durable: true, autoDelete: false });
    broker.sendToQueue('q', { n: 1 }, { persistent: true, type: 'first' });
    broker.sendToQueue('q', { n: 2 }, { persistent: true, type: 'second' });
    const got: any[] = [];
    broker.consume('q', (_key: string, message: any) => got.push(message), { consumerTag: 'clerk', prefetch: 1 });
    expect(got[0].fields).to.include({ consumerTag: 'clerk' });
    got[0].nack(false, true);
    expect(got[1].content.n).to.equal(1);
    expect(got[1].fields).to.include({ redelivered: true, consumerTag: 'clerk' });
    // Cancelled with the message unacknowledged: it goes back to the queue, no longer the clerk's.
    broker.cancel('clerk');
    const requeued = broker.getQueue('q').messages[0];
    expect(requeued.fields.redelivered).to.equal(true);
    expect(requeued.fields).to.not.have.property('consumerTag');
    const state = JSON.parse(JSON.stringify(broker.getState()));
    const recovered = new Broker().recover(state);
    const messages = recovered.getQueue('q').messages;
    expect(messages.map((m: any) => [m.content.n, m.fields.redelivered, m.properties.type])).to.deep.equal([
      [1, true, 'first'],
      [2, true, 'second'],
    ]);
  });

  it('Given a queue with a message time to live, then a message without an expiration gets it, and one with its own keeps it', async () => {
    const { Broker } = await import(nested('index.js'));
    const broker = new Broker();
    broker.assertQueue('ttl', { messageTtl: 1000 });
    broker.sendToQueue('ttl', {}, { timestamp: 100 });
    broker.sendToQueue('ttl', {}, { timestamp: 100, expiration: 50 });
    const properties = { timestamp: 100 };
    broker.sendToQueue('ttl', {}, properties);
    expect(broker.getQueue('ttl').messages.map((m: any) => m.properties.ttl)).to.deep.equal([1100, 150, 1100]);
    expect(properties).to.deep.equal({ timestamp: 100 });
  });

  it('Given a content with a parent path, inbound flows and a discard sequence, when cloned with an extension, then the clone equals a spread copy and owns its parent, path and lists', async () => {
    const { cloneContent, cloneMessage } = await import(pathToFileURL(join(elements, 'messageHelper.js')).href);
    const content = {
      id: 'handle',
      type: 'bpmn:UserTask',
      state: 'wait',
      parent: { id: 'sub', type: 'bpmn:SubProcess', executionId: 'sub_1', path: [{ id: 'p', type: 'bpmn:Process', executionId: 'p_1' }] },
      inbound: [{ id: 'f1', type: 'bpmn:SequenceFlow', parent: { id: 'p', executionId: 'p_1' } }],
      discardSequence: ['a', 'b'],
    };
    const clone = cloneContent(content, { state: 'end', isRecovered: true });
    expect(clone).to.deep.equal({ ...content, state: 'end', isRecovered: true });
    expect(Object.keys(clone)).to.deep.equal(Object.keys({ ...content, state: 'end', isRecovered: true }));
    expect(clone.parent).to.not.equal(content.parent);
    expect(clone.parent.path[0]).to.not.equal(content.parent.path[0]);
    expect(clone.inbound[0]).to.not.equal(content.inbound[0]);
    expect(clone.discardSequence).to.not.equal(content.discardSequence);
    const withProto = cloneContent(JSON.parse('{"id":"x","__proto__":{"polluted":true}}'));
    expect(Object.getPrototypeOf(withProto)).to.equal(Object.prototype);
    expect(withProto.polluted).to.equal(undefined);
    const message = { fields: { routingKey: 'r' }, content: { id: 'y' }, properties: { type: 't' } };
    const copied = cloneMessage(message, { extra: 1 });
    expect(copied).to.deep.equal({ fields: { routingKey: 'r' }, content: { id: 'y', extra: 1 }, properties: { type: 't' } });
    expect(copied.fields).to.not.equal(message.fields);
    expect(copied.properties).to.not.equal(message.properties);
  });

  it("Given an engine running a diagram, then the events it publishes keep their properties in order, not mandatory", async () => {
    const engine = new Engine({ name: 'events', source: fixture('simple.bpmn') });
    const events: Array<{ key: string; properties: Record<string, unknown> }> = [];
    engine.broker.subscribeTmp('event', 'activity.#', (key: string, message: any) => events.push({ key, properties: message.properties }), { noAck: true });
    await engine.execute();
    const wait = events.find((e) => e.key === 'activity.wait');
    expect(wait, events.map((e) => e.key).join(', ')).to.not.equal(undefined);
    // As the process and the definition passed them on (delegate), made not mandatory on the way.
    expect(Object.keys(wait!.properties)).to.deep.equal(['messageId', 'timestamp', 'delegate', 'mandatory']);
    expect(wait!.properties.mandatory).to.equal(false);
    expect(wait!.properties.messageId).to.be.a('string');
    await engine.stop();
  });
});
