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
    const got = res.batches.find((b) => b[0]!.name === name);
    assert.ok(got, `meter ${String(name)}`);
    assert.deepEqual(got.map((s) => strip(toWireDict(s, 's3cr3t'))), want.map(strip));
    assert.equal(new Set(got.map((s) => s.timestamp)).size, 1, 'one timestamp per meter run');
    compared++;
  }
  assert.equal(compared, 6, 'every meter of run A, the first-poll delta included');
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

test('the meters run A does not show, from every libvirt-inputs.json counter: names, types, units, resource ids, values', async () => {
  const inputs = loadVector('libvirt-inputs.json');
  const res = await pollCycle(staticHypervisor(ORDER, true), { host: 'compute-01', source: 'openstack', batchSize: 50 }, { now: () => new Date() }, memoryLogger());
  const by = (name: string) => new Map(res.batches.filter((b) => b[0]!.name === name).flat().map((s) => [s.resourceId, s]));
  const check = (name: string, type: string, unit: string, want: Map<string, string>) => {
    const got = by(name);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), name);
    for (const [rid, s] of got) {
      assert.equal(s.type, type, name);
      assert.equal(s.unit, unit, name);
      assert.equal(String(s.volume), want.get(rid), `${name} ${rid}`);
    }
  };
  const mem = inputs.memoryStats as Record<string, Record<string, number>>;
  const mb = (kib: number) => String(kib / 1024).includes('.') ? String(kib / 1024) : `${kib / 1024}.0`;
  check('memory.resident', 'gauge', 'MB', new Map(Object.entries(mem).map(([u, m]) => [u, mb(m['rss']!)])));
  check('memory.swap.in', 'cumulative', 'MB', new Map(Object.entries(mem).map(([u, m]) => [u, mb(m['swap_in']!)])));
  check('memory.swap.out', 'cumulative', 'MB', new Map(Object.entries(mem).map(([u, m]) => [u, mb(m['swap_out']!)])));
  const blk = Object.entries(inputs.blockStats_and_blockStatsFlags as Record<string, { blockStats: number[]; rd_total_times: number; wr_total_times: number }>);
  const rid = (k: string) => k.replace('/', '-');
  check('disk.device.read.latency', 'cumulative', 'ns', new Map(blk.map(([k, v]) => [rid(k), String(v.rd_total_times)])));
  check('disk.device.write.latency', 'cumulative', 'ns', new Map(blk.map(([k, v]) => [rid(k), String(v.wr_total_times)])));
  check('disk.device.read.requests', 'cumulative', 'request', new Map(blk.map(([k, v]) => [rid(k), String(v.blockStats[0])])));
  check('disk.device.write.bytes', 'cumulative', 'B', new Map(blk.map(([k, v]) => [rid(k), String(v.blockStats[3])])));
  check('disk.device.write.requests', 'cumulative', 'request', new Map(blk.map(([k, v]) => [rid(k), String(v.blockStats[2])])));
  const info = Object.entries(inputs.blockInfo as Record<string, number[]>);
  check('disk.device.allocation', 'gauge', 'B', new Map(info.map(([k, v]) => [rid(k), String(v[1])])));
  check('disk.device.usage', 'gauge', 'B', new Map(info.map(([k, v]) => [rid(k), String(v[2])])));
  const nicRid = new Map([...by('network.incoming.bytes').values()].map((s) => [s.resourceMetadata['name'] as string, s.resourceId]));
  const nic = Object.entries(inputs.interfaceStats as Record<string, number[]>);
  const names: [string, number, string][] = [['network.incoming.packets', 1, 'packet'], ['network.incoming.packets.error', 2, 'packet'], ['network.incoming.packets.drop', 3, 'packet'],
    ['network.outgoing.bytes', 4, 'B'], ['network.outgoing.packets', 5, 'packet'], ['network.outgoing.packets.error', 6, 'packet'], ['network.outgoing.packets.drop', 7, 'packet']];
  for (const [name, i, unit] of names) check(name, 'cumulative', unit, new Map(nic.map(([tap, v]) => [nicRid.get(tap)!, String(v[i])])));
  check('network.outgoing.packets.delta', 'delta', 'B', new Map(nic.map(([tap]) => [nicRid.get(tap)!, '0'])));
  for (const name of ['perf.cpu.cycles', 'memory.bandwidth.total', 'cpu_l3_cache']) assert.equal(by(name).size, 0, `${name}: no perf stats, no samples`);
});

test('delta meters: the difference from the previous cycle, the raw counter after a reset', async () => {
  const hv = staticHypervisor(ORDER, true);
  const base = hv.interfaceStats.bind(hv);
  let add = 0n;
  hv.interfaceStats = async (u, d) => { const s = await base(u, d); return { ...s, rxBytes: s.rxBytes + add, txBytes: add < 0n ? 5n : s.txBytes + add }; };
  const nicHistory = new Map();
  const run = async () => (await pollCycle(hv, { host: 'h', source: 'openstack', batchSize: 50, nicHistory }, { now: () => new Date() }, memoryLogger())).batches.flat();
  const vol = (all: Awaited<ReturnType<typeof run>>, name: string) => all.filter((s) => s.name === name).map((s) => s.volume).sort();
  assert.deepEqual(vol(await run(), 'network.incoming.bytes.delta'), [0n, 0n]);
  add = 1000n;
  assert.deepEqual(vol(await run(), 'network.incoming.bytes.delta'), [1000n, 1000n]);
  add = -1n; // tx counter reset to 5
  assert.deepEqual(vol(await run(), 'network.outgoing.packets.delta'), [5n, 5n]);
});
