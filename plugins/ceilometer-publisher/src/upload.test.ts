import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessBus, ValidationError, memoryLogger, type Delivery } from '@tally/common';
import { Journal } from './journal.js';
import { controlExchange } from './agent.js';
import { decodeNotification } from './envelope.js';
import { AGENT_CONTROL_EXCHANGE, AGENT_DEAD_QUEUE, UPLOAD_ALL_KEY, encodeUploadRequest, listenForUploads, parseUploadRequest, uploadKey, uploadRange } from './upload.js';
import type { PyDict } from './pyjson.js';

test('upload requests: the range is validated and errors name the field', () => {
  const r = parseUploadRequest(Buffer.from('{"command": "upload", "since": "2026-01-01T10:00:00", "until": "2026-01-01T11:00:00+00:30"}'));
  assert.equal(r.since.toISOString(), '2026-01-01T10:00:00.000Z', 'no offset means UTC');
  assert.throws(() => parseUploadRequest(Buffer.from('{"command": "upload", "since": "2026-01-01T10:00:00", "until": "2026-01-01T10:00:00Z"}')), (e: ValidationError) => e.message === 'until: must be after since');
  assert.throws(() => parseUploadRequest(Buffer.from('{"command": "upload", "until": "2026-01-01"}')), (e: ValidationError) => e instanceof ValidationError && /^since: required/.test(e.message));
  assert.throws(() => parseUploadRequest(Buffer.from('{"command": "purge"}')), /command: must be "upload"/);
  assert.throws(() => parseUploadRequest(Buffer.from('nope')), /body: not JSON/);
  assert.throws(() => uploadRange('yesterday', '2026-01-01'), /since: not an ISO 8601 time/);
  assert.deepEqual(parseUploadRequest(encodeUploadRequest(r)), r);
});

test('an upload request on the bus re-publishes the journaled samples of the range; a malformed one is dead-lettered', async () => {
  const bus = new InProcessBus();
  const log = memoryLogger();
  const journal = Journal.open({ maxBytes: 1 << 20, retentionMs: 86_400_000 }, log);
  const s = (id: string, ts: string): PyDict => ({ counter_name: 'cpu', counter_volume: 2n ** 64n, timestamp: ts, message_id: id });
  journal.append([[s('a', '2026-01-01T09:55:00')], [s('b', '2026-01-01T10:00:00'), s('c', '2026-01-01T10:00:00')], [s('d', '2026-01-01T10:30:00')], [s('e', '2026-01-01T11:00:00')]]);
  for (const seq of [1, 2, 3]) journal.ack(seq); // a, b+c, d were sent; e is still pending
  const exchange = controlExchange('ceilometer');
  const got: Delivery[] = [];
  await bus.consume({ name: 'samples', durable: false, bindings: [{ exchange, routingKey: 'notifications.sample' }] }, { prefetch: 10 }, async (d) => { got.push(d); return 'ack'; });
  const listener = await listenForUploads({ bus, journal, exchange, log, host: 'compute-7' });

  await bus.publish({ exchange: AGENT_CONTROL_EXCHANGE, routingKey: uploadKey('compute-7'), body: encodeUploadRequest({ since: new Date('2026-01-01T10:00:00Z'), until: new Date('2026-01-01T11:00:01Z') }) });
  await bus.publish({ exchange: AGENT_CONTROL_EXCHANGE, routingKey: uploadKey('compute-8'), body: encodeUploadRequest({ since: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-01-02T00:00:00Z') }) });
  await bus.publish({ exchange: AGENT_CONTROL_EXCHANGE, routingKey: UPLOAD_ALL_KEY, body: Buffer.from('{"command": "upload", "since": "soon"}') });
  const end = Date.now() + 5000;
  while ((got.length < 3 || listener.stats.deadLettered < 1) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));

  const ids = got.map((d) => ((decodeNotification(d.body)['payload'] as PyDict)['samples'] as PyDict[]).map((x) => x['message_id']));
  assert.deepEqual(ids, [['b', 'c'], ['d'], ['e']], 'the range only, sent and pending, in order; the other host\'s request is not ours');
  assert.equal(listener.stats.uploads, 1);
  assert.equal(listener.stats.deadLettered, 1);
  assert.equal(await bus.queueDepth(AGENT_DEAD_QUEUE.name), 1);
  assert.ok(log.lines.some((l) => l.level === 'error' && /dead-lettered/.test(l.msg) && /since: not an ISO 8601 time/.test(String((l.fields['err'] as Error).message))));
  await listener.cancel();
  await bus.close();
});
