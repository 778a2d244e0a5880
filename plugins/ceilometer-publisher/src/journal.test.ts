import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@tally/common';
import { Journal } from './journal.js';
import { JournalSender } from './sender.js';
import { RecordingBus } from './testing.js';
import { controlExchange } from './agent.js';
import { PyFloat, dumps, type PyDict } from './pyjson.js';

const sample = (id: string, ts: string, volume: PyDict['x'] = 2n ** 60n + 1n): PyDict => ({ counter_name: 'cpu', counter_volume: volume, timestamp: ts, message_id: id });

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tally-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('unconfirmed records survive a restart; confirmed ones do not come back', (t) => {
  const dir = tmp(t);
  const log = memoryLogger();
  const j = Journal.open({ dir, maxBytes: 1 << 20, retentionMs: 0 }, log);
  j.append([[sample('a', '2026-01-01T10:00:00.000001')], [sample('b', '2026-01-01T10:00:00.000001', new PyFloat(512))], [sample('c', '2026-01-01T10:05:00')]]);
  j.ack(1);
  j.close();
  const again = Journal.open({ dir, maxBytes: 1 << 20, retentionMs: 0 }, log);
  assert.deepEqual(again.depth.messages, 2);
  const head = again.head()!;
  assert.equal(head.seq, 2);
  assert.equal(dumps(head.samples()), dumps([sample('b', '2026-01-01T10:00:00.000001', new PyFloat(512))]), 'int/float and big counters round-trip exactly');
  assert.equal(head.samplesJson, dumps(head.samples()), 'published as journaled, byte for byte');
  again.ack(2);
  again.append([[sample('d', '2026-01-01T10:10:00')]]);
  assert.equal(again.head()!.seq, 3);
  assert.throws(() => again.ack(4), /not the head/);
  again.ack(3);
  again.ack(4);
  assert.equal(again.depth.messages, 0);
  assert.equal(readFileSync(join(dir, 'pending.jsonl'), 'utf8'), '', 'compacted once everything is confirmed');
  again.close();
  assert.ok(log.lines.some((l) => l.level === 'warn' && /previous run/.test(l.msg)));
});

test('a torn last line (crash mid-append) is ignored; sequence numbers keep rising', (t) => {
  const dir = tmp(t);
  const j = Journal.open({ dir, maxBytes: 1 << 20, retentionMs: 0 }, memoryLogger());
  j.append([[sample('a', '2026-01-01T10:00:00')]]);
  j.close();
  appendFileSync(join(dir, 'pending.jsonl'), '{"seq": 2, "ts": "2026-01-01T1');
  const again = Journal.open({ dir, maxBytes: 1 << 20, retentionMs: 0 }, memoryLogger());
  assert.equal(again.depth.messages, 1);
  again.append([[sample('b', '2026-01-01T10:05:00')]]);
  assert.deepEqual([again.head()!.seq], [1]);
  again.ack(1);
  assert.equal(again.head()!.seq, 2);
  again.close();
});

test('a full journal refuses new samples, counts them and logs an ERROR', () => {
  const log = memoryLogger();
  const big = Array.from({ length: 3 }, (_, i) => sample(`m${i}`, '2026-01-01T10:00:00'));
  const probe = Journal.open({ maxBytes: 1 << 20, retentionMs: 0 }, log);
  probe.append([big]);
  // Room for one big message and one small one, not two big ones.
  const j = Journal.open({ maxBytes: probe.depth.bytes + 220, retentionMs: 0 }, log);
  const r1 = j.append([big]);
  assert.deepEqual(r1, { appended: 1, droppedSamples: 0 });
  const r2 = j.append([big, [sample('x', '2026-01-01T10:05:00')]]);
  assert.deepEqual(r2, { appended: 1, droppedSamples: 3 });
  assert.equal(j.stats.droppedSamples, 3);
  assert.equal(j.stats.fullAlarms, 1);
  assert.ok(log.lines.some((l) => l.level === 'error' && /JOURNAL FULL/.test(l.msg) && l.fields['droppedSamples'] === 3));
  j.ack(1);
  assert.equal(j.append([big]).appended, 1, 'room again once confirmed');
});

test('confirmed records are retained by hour for upload, and pruned after the retention', (t) => {
  const dir = tmp(t);
  const j = Journal.open({ dir, maxBytes: 1 << 20, retentionMs: 3 * 3_600_000 }, memoryLogger());
  j.append([[sample('a', '2026-01-01T10:59:59')], [sample('b', '2026-01-01T11:00:00')], [sample('c', '2026-01-01T12:30:00')]]);
  j.ack(1);
  j.ack(2);
  assert.deepEqual(readdirSync(join(dir, 'sent')).sort(), ['2026-01-01T10.jsonl', '2026-01-01T11.jsonl']);
  const ids = (since: string, until: string) => [...j.range(new Date(since), new Date(until))].flatMap((r) => r.samples().map((s) => s['message_id']));
  assert.deepEqual(ids('2026-01-01T10:30:00Z', '2026-01-01T13:00:00Z'), ['a', 'b', 'c'], 'sent and still pending, in order');
  assert.deepEqual(ids('2026-01-01T11:00:00Z', '2026-01-01T12:00:00Z'), ['b'], '[since, until)');
  assert.equal(j.prune(new Date('2026-01-01T14:00:00Z')), 1, 'the 10:00 hour ended 3 h before 14:00');
  assert.ok(!existsSync(join(dir, 'sent', '2026-01-01T10.jsonl')));
  assert.deepEqual(ids('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), ['b', 'c']);
  j.close();
});

test('the sender publishes in order, stops at the first failure, and retries with a fresh _unique_id', async () => {
  const log = memoryLogger();
  const j = Journal.open({ maxBytes: 1 << 20, retentionMs: 0 }, log);
  const bus = new RecordingBus();
  const sender = new JournalSender({ journal: j, bus, exchange: controlExchange('ceilometer'), log }, { publishTimeout: 1000, retryInterval: 10 });
  j.append([[sample('a', '2026-01-01T10:00:00')], [sample('b', '2026-01-01T10:00:00')]]);
  bus.failWith = new Error('connection closed');
  await assert.rejects(sender.flush(), /connection closed/);
  await assert.rejects(sender.flush(), /connection closed/);
  assert.equal(j.depth.messages, 2);
  assert.equal(log.lines.filter((l) => l.level === 'error' && /bus unavailable/.test(l.msg)).length, 1, 'one alarm per outage');
  bus.failWith = undefined;
  j.append([[sample('c', '2026-01-01T10:05:00')]]);
  assert.equal(await sender.flush(), 3);
  assert.deepEqual(bus.samples().map((s) => s['message_id']), ['a', 'b', 'c']);
  const uniq = bus.messages().map((m) => m['_unique_id']);
  assert.equal(new Set(uniq).size, uniq.length);
  assert.deepEqual(sender.stats, { published: 3, failedAttempts: 2, outages: 1 });
  assert.ok(log.lines.some((l) => /bus back/.test(l.msg)));
});

test('a publish that is never confirmed times out and is retried', async () => {
  const j = Journal.open({ maxBytes: 1 << 20, retentionMs: 0 }, memoryLogger());
  const bus = new RecordingBus();
  let hang = true;
  const publish = bus.publish.bind(bus);
  bus.publish = (m) => (hang ? new Promise(() => undefined) : publish(m));
  const sender = new JournalSender({ journal: j, bus, exchange: controlExchange('ceilometer'), log: memoryLogger() }, { publishTimeout: 100, retryInterval: 10 });
  j.append([[sample('a', '2026-01-01T10:00:00')]]);
  await assert.rejects(sender.flush(), /not confirmed within 100 ms/);
  hang = false;
  assert.equal(await sender.flush(), 1);
});
