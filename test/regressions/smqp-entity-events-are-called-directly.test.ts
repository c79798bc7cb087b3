import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Engine } from 'bpmn-engine';
import { fixture } from '../helpers/system.js';

/**
 * Issue 20: in the smqp that bpmn-elements builds every element's broker with
 * (11.0.1, nested under bpmn-elements), each queue and each exchange had an
 * event exchange of its own — a topic exchange with a delivery queue and its
 * consumer — and every listener on it (the broker's bookkeeping, one per
 * binding for the queue's `delete`) a queue and a consumer with a queue of
 * its own. An engine of the shipped diagram was 53 000 objects and 2.5 MB, with
 * 4 051 queues reachable from it; every acknowledged message went through three of those
 * queues to reach the broker's bookkeeping.
 * patches/bpmn-elements++smqp+11.0.1.patch calls the listeners of a queue's
 * or an exchange's events directly, in the order they were added (smqp only
 * ever listens to these itself): 23 600 objects and 1.3 MB per engine. It
 * also makes an exchange's delivery queue at its first delivery (most never
 * deliver) and shares compiled routing-key patterns: 18 100 objects, 1.06 MB.
 */
const smqpUrl = () => {
  const elements = dirname(fileURLToPath(import.meta.resolve('bpmn-elements')));
  const path = join(elements, '..', 'node_modules', 'smqp', 'src', 'index.js');
  expect(existsSync(path), `bpmn-elements' own smqp at ${path} (the patch's target)`).to.equal(true);
  return pathToFileURL(path).href;
};

/** Objects reachable from `root`, by constructor name. */
function census(root: object): Map<string, number> {
  const seen = new Set<object>();
  const byName = new Map<string, number>();
  const stack: unknown[] = [root];
  while (stack.length) {
    const o = stack.pop();
    if (!o || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    const name = (o as { constructor?: { name?: string } }).constructor?.name ?? '?';
    byName.set(name, (byName.get(name) ?? 0) + 1);
    if (o instanceof Map) for (const [k, v] of o) stack.push(k, v);
    else if (o instanceof Set) for (const v of o) stack.push(v);
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) stack.push(d.value);
    }
  }
  return byName;
}

describe('Regression: smqp calls the listeners of a queue’s and an exchange’s events directly', () => {
  it('Given an engine of simple.bpmn waiting at its user task, then it holds fewer than 200 smqp queues (555 without the patch, 131 with it)', async () => {
    const engine = new Engine({ name: 'census', source: fixture('simple.bpmn') });
    await engine.execute();
    try {
      expect(engine.state).to.equal('running');
      const queues = census(engine).get('Queue') ?? 0;
      expect(queues).to.be.greaterThan(0);
      expect(queues).to.be.below(200);
    } finally {
      await engine.stop();
    }
  });

  describe('the broker’s bookkeeping, bindings and shovels still hear those events', () => {
    let Broker: any;
    before(async () => {
      ({ Broker } = await import(smqpUrl()));
    });

    it('Given a consumer tag in use, when another consumer takes it, then the broker refuses; when the first is cancelled, then the tag is free', () => {
      const broker = new Broker();
      broker.assertQueue('a');
      broker.assertQueue('b');
      const first = broker.consume('a', () => {}, { consumerTag: 'clerk' });
      expect(() => broker.consume('b', () => {}, { consumerTag: 'clerk' })).to.throw(/clerk is occupied/);
      expect(broker.consumerCount).to.equal(1);
      first.cancel();
      expect(broker.consumerCount).to.equal(0);
      expect(() => broker.consume('b', () => {}, { consumerTag: 'clerk' })).to.not.throw();
    });

    it('Given a queue bound to an exchange, when the queue is deleted, then its binding goes and the broker forgets the queue', () => {
      const broker = new Broker();
      broker.assertExchange('run', 'topic');
      broker.assertQueue('run-q');
      broker.bindQueue('run-q', 'run', 'run.#');
      expect(broker.getExchange('run').bindingCount).to.equal(1);
      broker.deleteQueue('run-q');
      expect(broker.getQueue('run-q')).to.equal(undefined);
      expect(broker.getExchange('run')?.bindingCount ?? 0).to.equal(0);
    });

    it('Given an auto-delete exchange, when its last binding goes, then the broker forgets the exchange', () => {
      const broker = new Broker();
      broker.assertExchange('tmp', 'topic', { autoDelete: true });
      broker.assertQueue('q');
      broker.bindQueue('q', 'tmp', '#');
      broker.unbindQueue('q', 'tmp', '#');
      expect(broker.getExchange('tmp')).to.equal(undefined);
    });

    it('Given confirmed messages acknowledged and rejected, then the broker tells its listeners in order, and a rejected one goes to the dead-letter exchange', () => {
      const broker = new Broker();
      broker.assertExchange('x', 'topic');
      broker.assertExchange('dead', 'topic');
      broker.assertQueue('q', { deadLetterExchange: 'dead' });
      broker.assertQueue('dead-q');
      broker.bindQueue('q', 'x', '#');
      broker.bindQueue('dead-q', 'dead', '#');
      const heard: string[] = [];
      broker.on('message.*', (event: { name: string; fields: { routingKey: string } }) => heard.push(`${event.name} ${event.fields.routingKey}`));
      broker.consume('q', (_key: string, message: { ack(): void; nack(a: boolean, b: boolean): void; fields: { routingKey: string } }) => {
        if (message.fields.routingKey === 'two') message.nack(false, false);
        else message.ack();
      });
      broker.publish('x', 'one', null, { confirm: true });
      broker.publish('x', 'two', null, { confirm: true });
      expect(heard).to.deep.equal(['message.ack one', 'message.nack two']);
      expect(broker.getQueue('dead-q').messages.map((m: { fields: { routingKey: string } }) => m.fields.routingKey)).to.deep.equal(['two']);
    });

    it('Given an exchange whose state holds a message not yet delivered, when recovered, then the message reaches its bound queue; an exchange that never delivered has none in its state', () => {
      const broker = new Broker();
      broker.recover({
        queues: [{ name: 'q', options: { durable: true } }],
        exchanges: [
          { name: 'quiet', type: 'topic', options: { durable: true, autoDelete: false } },
          {
            name: 'x',
            type: 'topic',
            options: { durable: true, autoDelete: false },
            deliveryQueue: { name: 'delivery-q', options: { autoDelete: false }, messages: [{ fields: { routingKey: 'run.start' }, content: { content: { id: 1 } }, properties: {} }] },
            bindings: [{ id: 'q/run.#', options: { priority: 0 }, queueName: 'q', pattern: 'run.#' }],
          },
        ],
      });
      expect(broker.getQueue('q').messages.map((m: { fields: { routingKey: string }; content: unknown }) => [m.fields.routingKey, m.content])).to.deep.equal([['run.start', { id: 1 }]]);
      expect(broker.getExchange('x').undeliveredCount).to.equal(0);
      expect(broker.getExchange('quiet').undeliveredCount).to.equal(0);
      expect(broker.getExchange('quiet').getState()).to.not.have.property('deliveryQueue');
    });

    it('Given bindings with the same and different patterns, then each routes as its own pattern says', () => {
      const broker = new Broker();
      broker.assertExchange('event', 'topic');
      for (const q of ['all', 'activity', 'end', 'one-word']) broker.assertQueue(q);
      broker.bindQueue('all', 'event', '#');
      broker.bindQueue('activity', 'event', 'activity.#');
      broker.bindQueue('end', 'event', 'activity.end');
      broker.bindQueue('one-word', 'event', 'activity.*');
      broker.assertQueue('activity-too');
      broker.bindQueue('activity-too', 'event', 'activity.#');
      for (const key of ['activity.end', 'activity.timer.expired', 'process.end']) broker.publish('event', key);
      const keys = (q: string) => broker.getQueue(q).messages.map((m: { fields: { routingKey: string } }) => m.fields.routingKey);
      expect(keys('all')).to.deep.equal(['activity.end', 'activity.timer.expired', 'process.end']);
      expect(keys('activity')).to.deep.equal(['activity.end', 'activity.timer.expired']);
      expect(keys('activity-too')).to.deep.equal(['activity.end', 'activity.timer.expired']);
      expect(keys('end')).to.deep.equal(['activity.end']);
      expect(keys('one-word')).to.deep.equal(['activity.end']);
    });

    it('Given a shovel between two exchanges, when its source exchange is deleted, then the shovel closes', () => {
      const broker = new Broker();
      broker.assertExchange('from', 'topic');
      broker.assertExchange('to', 'topic');
      broker.assertQueue('sink');
      broker.bindQueue('sink', 'to', '#');
      const got: string[] = [];
      broker.consume('sink', (key: string, message: { ack(): void }) => {
        got.push(key);
        message.ack();
      });
      broker.createShovel('s', { broker, exchange: 'from' }, { broker, exchange: 'to' });
      broker.publish('from', 'a');
      expect(got).to.deep.equal(['a']);
      broker.deleteExchange('from');
      expect(broker.getShovel('s')).to.equal(undefined);
    });
  });
});
