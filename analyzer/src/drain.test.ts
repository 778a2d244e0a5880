import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessBus, memoryLogger, ValidationError } from '@tally/common';
import { ANALYZER_CONTROL_DEAD_QUEUE, ANALYZER_CONTROL_EXCHANGE, drainedKey, drainKey, encodeDrainCommand, listenForDrain, parseDrainCommand, parseDrainedEvent } from './drain.js';

test('a drain command runs the drain once, then the drained event is published; a malformed one is dead-lettered', async () => {
  const bus = new InProcessBus();
  const log = memoryLogger();
  let drains = 0;
  const events: string[] = [];
  await bus.consume({ name: 'watch', durable: false, bindings: [{ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainedKey('an-2') }] }, { prefetch: 1 }, (m) => {
    events.push(parseDrainedEvent(m.body).requestId);
    return Promise.resolve('ack');
  });
  const listener = await listenForDrain({ bus, log, analyzerId: 'an-2' }, async () => {
    drains++;
    await new Promise((r) => setTimeout(r, 30));
    return { messages: 7, samples: 350 };
  });
  // Another analyzer's command does not reach this one.
  await bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey('an-1'), body: encodeDrainCommand({ requestId: 'x', reason: 'not you' }) });
  await bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey('an-2'), body: Buffer.from('{"command":"explode"}') });
  await bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey('an-2'), body: encodeDrainCommand({ requestId: 'scale-in-1', reason: 'queue empty' }) });
  await bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey('an-2'), body: encodeDrainCommand({ requestId: 'scale-in-1', reason: 'repeated' }) });
  assert.deepEqual(await listener.requested, { requestId: 'scale-in-1', reason: 'queue empty' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(drains, 1);
  assert.deepEqual(events, ['scale-in-1']);
  assert.deepEqual(listener.stats, { drains: 1, deadLettered: 1 });
  assert.equal(await bus.queueDepth(ANALYZER_CONTROL_DEAD_QUEUE.name), 1);
  await listener.close();
  await bus.close();
});

test('parseDrainCommand names the bad field', () => {
  const bad = (body: string, field: string) => assert.throws(() => parseDrainCommand(Buffer.from(body)), (e: unknown) => e instanceof ValidationError && e.field === field);
  bad('nope', 'body');
  bad('[]', 'body');
  bad('{"command":"upload"}', 'command');
  bad('{"command":"drain","request_id":"a b"}', 'request_id');
  bad('{"command":"drain","request_id":"a","reason":5}', 'reason');
});
