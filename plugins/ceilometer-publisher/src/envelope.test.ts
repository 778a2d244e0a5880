import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { decodeNotification, encodePollingNotification, encodePollingNotificationJson, NOTIFICATION_PROPERTIES } from './envelope.js';
import { toWireDict, type Sample } from './sample.js';
import { PyFloat, dumps, type PyDict } from './pyjson.js';
import { pyDatetimeStr, pyIsoformat, uuid1, uuid4Hex } from './ids.js';
import { loadVector } from '../test/fixtures/vectors.js';

/** Rebuild the producer-side Sample from a captured wire dict (types checked, not trusted). */
function sampleFromWire(d: PyDict): Sample {
  const str = (k: string): string => {
    const v = d[k];
    assert.equal(typeof v, 'string', k);
    return v as string;
  };
  const vol = d['counter_volume'];
  assert.ok(typeof vol === 'bigint' || vol instanceof PyFloat);
  const mono = d['monotonic_time'];
  assert.ok(mono === null || mono instanceof PyFloat);
  return {
    source: str('source'), name: str('counter_name'), type: str('counter_type') as Sample['type'], unit: str('counter_unit'),
    volume: vol, userId: str('user_id'), projectId: str('project_id'), resourceId: str('resource_id'),
    timestamp: str('timestamp'), resourceMetadata: d['resource_metadata'] as PyDict, id: str('message_id'), monotonicTime: mono,
  };
}

test('runs A, B and C: bodies rebuilt from Samples + captured ids are byte-identical (sha256)', () => {
  const doc = loadVector('polling-agent-notifications.json');
  let count = 0;
  for (const run of doc.runs) {
    for (const d of run.deliveries) {
      const msg = decodeNotification(d.body);
      const samples = ((msg['payload'] as PyDict)['samples'] as PyDict[]).map(sampleFromWire);
      const enc = encodePollingNotification(samples.map((s) => toWireDict(s, run.telemetry_secret)), {
        messageId: msg['message_id'] as string, timestamp: msg['timestamp'] as string, uniqueId: msg['_unique_id'] as string,
      });
      assert.equal(enc.body.length, d.body_len, `run ${run.run}`);
      assert.equal(createHash('sha256').update(enc.body).digest('hex'), d.body_sha256, `run ${run.run}`);
      assert.equal(d.exchange, 'ceilometer');
      assert.equal(d.routing_key, 'notifications.sample');
      assert.deepEqual(
        { content_type: enc.properties.contentType, content_encoding: enc.properties.contentEncoding, headers: enc.properties.headers, delivery_mode: enc.properties.deliveryMode, priority: enc.properties.priority },
        d.properties,
      );
      count++;
    }
  }
  assert.equal(count, 10);
});

test('run C: an empty secret gives an empty signature', () => {
  const run = loadVector('polling-agent-notifications.json').runs.find((r: { run: string }) => r.run === 'C');
  const s = ((decodeNotification(run.deliveries[0].body)['payload'] as PyDict)['samples'] as PyDict[])[0]!;
  assert.equal(toWireDict(sampleFromWire(s), '')['message_signature'], '');
});

test('fresh ids: uuid4 message_id, 32-hex _unique_id, Python str(datetime) timestamp', () => {
  const a = encodePollingNotification([]);
  const b = encodePollingNotification([]);
  assert.match(a.message['message_id'] as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(a.message['_unique_id'] as string, /^[0-9a-f]{32}$/);
  assert.notEqual(a.message['_unique_id'], b.message['_unique_id']);
  assert.match(a.message['timestamp'] as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
  assert.deepEqual(Object.keys(a.message), ['message_id', 'publisher_id', 'event_type', 'priority', 'payload', 'timestamp', '_unique_id']);
  assert.equal(NOTIFICATION_PROPERTIES.contentType, 'application/json');
  assert.match(uuid4Hex(), /^[0-9a-f]{32}$/);
});

test('decodeNotification accepts a v1 body without envelope', () => {
  assert.deepEqual(Object.keys(decodeNotification('{"event_type": "x", "payload": {}}')), ['event_type', 'payload']);
});

test('timestamps follow Python: microseconds, omitted when 0', () => {
  const d = new Date(Date.UTC(2026, 10, 21, 20, 12, 51, 393));
  assert.equal(pyIsoformat(d), '2026-11-21T20:12:51.393000');
  assert.equal(pyIsoformat(d, 393428), '2026-11-21T20:12:51.393428');
  assert.equal(pyIsoformat(new Date(Date.UTC(2026, 0, 1))), '2026-01-01T00:00:00');
  assert.equal(pyDatetimeStr(d, 141300), '2026-11-21 20:12:51.141300');
});

test('uuid1: version 1, RFC variant, time-ordered and unique within one tick', () => {
  const t = new Date(Date.UTC(2026, 10, 21, 20, 12, 51));
  const ids = Array.from({ length: 1000 }, () => uuid1(t));
  assert.equal(new Set(ids).size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // Decode the timestamp of a fresh id: 100 ns ticks since 1582-10-15.
  const id = uuid1(new Date(Date.UTC(2030, 0, 1)));
  const [lo, mid, hi] = id.split('-') as [string, string, string];
  const ticks = (BigInt('0x' + hi.slice(1)) << 48n) | (BigInt('0x' + mid) << 32n) | BigInt('0x' + lo);
  assert.equal(Number((ticks - 0x01b21dd213814000n) / 10_000n), Date.UTC(2030, 0, 1));
});

test('the envelope built from journaled (pre-serialised) samples is byte for byte the one built from the dicts', () => {
  const samples = [{ counter_name: 'cpu', counter_volume: 2n ** 64n, resource_metadata: { display_name: 'Сервер ☃ "q" \\ \n' }, monotonic_time: new PyFloat(12.5) }];
  const ids = { messageId: 'a8a3e0bb-1d54-4c7b-9e44-9d3b3f0c7d11', timestamp: '2026-11-21 20:12:51.337000', uniqueId: '0123456789abcdef0123456789abcdef' };
  assert.equal(encodePollingNotificationJson(dumps(samples), ids).body.toString(), encodePollingNotification(samples, ids).body.toString());
});
