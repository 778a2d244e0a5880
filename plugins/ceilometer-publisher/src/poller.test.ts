import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { batch, pollCycle, InstanceStateTracker } from './poller.js';
import { toWireDict } from './sample.js';
import { decodeNotification } from './envelope.js';
import { dumps, type PyDict } from './pyjson.js';
import { staticHypervisor } from '../test/fixtures/static-hypervisor.js';
import { loadVector } from '../test/fixtures/vectors.js';

const ORDER = ['instance-0000002b', 'instance-0000002a', 'instance-0000002c', 'manually-created-vm'];
const VOLATILE = ['message_id', 'timestamp', 'monotonic_time', 'message_signature'];
const strip = (d: PyDict): string => dumps(Object.fromEntries(Object.entries(d).filter(([k]) => !VOLATILE.includes(k))));

test('a cycle over the run-A inputs reproduces run A samples (all but ids, times and signature)', async () => {
  const log = memoryLogger();
  const res = await pollCycle(staticHypervisor(ORDER, true), { host: 'compute-01', source: 'openstack', batchSize: 50, flavorId: (n) => (n === 'm1.small' ? '2' : undefined) },
    { now: () => new Date(Date.UTC(2026, 10, 21, 20, 12, 51, 337)) }, log);
  assert.equal(res.polled, 2, 'the SHUTOFF instance is discovered but not read');
  assert.equal(res.instances.length, 3);
  const runA = loadVector('polling-agent-notifications.json').runs[0];
  let compared = 0;
  for (const d of runA.deliveries) {
    const want = (decodeNotification(d.body)['payload'] as PyDict)['samples'] as PyDict[];
    const name = want[0]!['counter_name'];
    if (name === 'network.incoming.bytes.delta') continue; // not implemented (needs per-process history)
    const got = res.batches.find((b) => b[0]!.name === name);
    assert.ok(got, `meter ${String(name)}`);
    assert.deepEqual(got.map((s) => strip(toWireDict(s, 's3cr3t'))), want.map(strip));
    assert.equal(new Set(got.map((s) => s.timestamp)).size, 1, 'one timestamp per meter run');
    compared++;
  }
  assert.equal(compared, 5);
  // cpu and memory.usage of one VM come from one read, so they share monotonic_time (as in run A).
  const cpu = res.batches.find((b) => b[0]!.name === 'cpu')!;
  const mem = res.batches.find((b) => b[0]!.name === 'memory.usage')!;
  assert.equal(cpu[0]!.monotonicTime, mem[0]!.monotonicTime);
  assert.ok(!res.batches.flat().some((s) => s.resourceId.startsWith('7d8e9f00')), 'no samples for the shut-off instance');
});

test('batching: size 2 splits 3 samples into [2, 1]; 0 gives one per message', async () => {
  assert.deepEqual(batch([1, 2, 3], 2), [[1, 2], [3]]);
  assert.deepEqual(batch([1, 2, 3], 0), [[1], [2], [3]]);
  const res = await pollCycle(staticHypervisor(ORDER, false), { host: 'h', source: 'openstack', batchSize: 2 }, { now: () => new Date() }, memoryLogger());
  const rb = res.batches.filter((b) => b[0]!.name === 'disk.device.read.bytes');
  assert.deepEqual(rb.map((b) => b.length), [2, 1]);
});

test('state tracker logs discoveries, changes and disappearances with the instance id', () => {
  const log = memoryLogger();
  const t = new InstanceStateTracker();
  const inst = (id: string, state: number) => ({ id, state, displayName: id, domainName: id }) as never;
  assert.equal(t.observe([inst('a', 1), inst('b', 1)], log), 2);
  assert.equal(t.observe([inst('a', 1), inst('b', 5)], log), 1);
  assert.equal(t.observe([inst('a', 1)], log), 1);
  assert.deepEqual(log.lines.map((l) => [l.msg, l.fields['instance_id']]), [
    ['instance discovered', 'a'], ['instance discovered', 'b'], ['instance state changed', 'b'], ['instance gone', 'b'],
  ]);
  assert.equal(log.lines[2]!.fields['state'], 'shutoff');
});
