import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger, type OutgoingMessage } from '@tally/common';
import { Journal } from './journal.js';
import { JournalSender } from './sender.js';
import { RecordingBus } from './testing.js';
import { controlExchange } from './agent.js';
import { decodeNotification } from './envelope.js';
import type { PyDict } from './pyjson.js';

/** A bus whose confirms and failures the test hands out, in any order it likes. */
class ControlledBus extends RecordingBus {
  readonly pending: { id: string; uniqueId: string; confirm: () => void; fail: (e: Error) => void }[] = [];
  override publish(msg: OutgoingMessage): Promise<void> {
    const m = decodeNotification(msg.body);
    const id = ((m['payload'] as PyDict)['samples'] as PyDict[])[0]!['message_id'] as string;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ id, uniqueId: m['_unique_id'] as string, confirm: () => { this.published.push(msg); resolve(); }, fail: reject });
    });
  }
  take(id: string): ControlledBus['pending'][number] {
    const i = this.pending.findIndex((p) => p.id === id);
    assert.ok(i >= 0, `${id} is in flight`);
    return this.pending.splice(i, 1)[0]!;
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const rec = (id: string): PyDict[] => [{ counter_name: 'cpu', counter_volume: 1n, timestamp: '2026-01-01T10:00:00', message_id: id }];

test('confirms out of order and a failure inside the window: only the confirmed prefix leaves the journal, the rest is re-sent from the first unconfirmed one in journal order', async () => {
  const log = memoryLogger();
  const j = Journal.open({ maxBytes: 1 << 20, retentionMs: 0 }, log);
  const bus = new ControlledBus();
  const sender = new JournalSender({ journal: j, bus, exchange: controlExchange('ceilometer'), log }, { publishTimeout: 60_000, retryInterval: 10, publishWindow: 4 });
  j.append([rec('a'), rec('b'), rec('c'), rec('d'), rec('e')]);
  const first = sender.flush();
  await tick();
  assert.deepEqual(bus.pending.map((p) => p.id), ['a', 'b', 'c', 'd'], 'one window, handed to the bus in journal order');
  bus.take('d').confirm();
  bus.take('c').confirm();
  bus.take('a').confirm();
  const oldB = bus.take('b');
  oldB.fail(new Error('channel closed'));
  await assert.rejects(first, /channel closed/);
  assert.deepEqual(j.peek(10).map((r) => r.samples()[0]!['message_id']), ['b', 'c', 'd', 'e'], 'c and d were confirmed after a failure before them: they stay');
  // A new cycle arrives while the journal awaits its retry: it only appends.
  j.append([rec('f')]);
  const second = sender.flush();
  await tick();
  assert.deepEqual(bus.pending.map((p) => p.id), ['b', 'c', 'd', 'e'], 'the retry starts at the first unconfirmed message');
  assert.notEqual(bus.pending[0]!.uniqueId, oldB.uniqueId, 'a retry is a fresh _unique_id');
  for (const id of ['b', 'c', 'd', 'e']) bus.take(id).confirm();
  await tick();
  assert.deepEqual(bus.pending.map((p) => p.id), ['f']);
  bus.take('f').confirm();
  assert.equal(await second, 5);
  assert.equal(j.depth.messages, 0);
  assert.deepEqual(sender.stats, { published: 6, failedAttempts: 1, outages: 1 });
});
