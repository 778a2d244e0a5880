import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { SimulatedFleet } from './simulated.js';
import { AcceleratedClock } from './clock.js';
import { pollCycle } from './poller.js';
import { discoverInstances } from './metadata.js';
import { DomainState } from './hypervisor.js';

const HOUR = 3_600_000;

function fleet(seed: string, t0: number) {
  let now = t0;
  const clock = { now: () => new Date(now) };
  return { f: new SimulatedFleet({ vms: 24, projects: 4, seed, clock }), advance: (ms: number) => { now += ms; }, clock };
}

test('same seed, same fleet; other seed, other ids; all domains carry Nova metadata', async () => {
  const t0 = Date.UTC(2026, 0, 10);
  const a = await fleet('s1', t0).f.listDomains();
  const b = await fleet('s1', t0).f.listDomains();
  const c = await fleet('s2', t0).f.listDomains();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.map((d) => d.uuid), c.map((d) => d.uuid));
  const { instances, skipped } = discoverInstances(a);
  assert.equal(skipped.length, 0);
  assert.ok(instances.length > 12 && instances.length <= 24);
  assert.ok(new Set(instances.map((i) => i.projectId)).size <= 4);
  assert.ok(instances.every((i) => /^m1\.(tiny|small|medium|large)$/.test(i.flavor.name)));
});

test('over a simulated week VMs stop, restart, get deleted and replaced; counters only grow', async () => {
  const { f, advance, clock } = fleet('week', Date.UTC(2026, 0, 10));
  const seenStates = new Set<number>();
  const lastCpu = new Map<string, bigint>();
  const ids = new Set<string>();
  let firstIds: Set<string> | undefined;
  for (let step = 0; step < 7 * 24 * 4; step++) {
    const res = await pollCycle(f, { host: 'sim', source: 'openstack', batchSize: 50 }, clock, memoryLogger());
    for (const i of res.instances) { seenStates.add(i.state); ids.add(i.id); }
    firstIds ??= new Set(res.instances.map((i) => i.id));
    for (const s of res.batches.flat().filter((x) => x.name === 'cpu')) {
      const v = s.volume as bigint;
      assert.ok(v >= (lastCpu.get(s.resourceId) ?? 0n), 'cpu is monotonic');
      lastCpu.set(s.resourceId, v);
    }
    advance(HOUR / 4);
  }
  assert.ok(seenStates.has(DomainState.RUNNING) && seenStates.has(DomainState.SHUTOFF) && seenStates.has(DomainState.PAUSED), [...seenStates].join());
  assert.ok(ids.size > firstIds!.size, 'deleted VMs were replaced by new ones');
});

test('accelerated clock: runs at speed until it catches up with real time, never ahead', () => {
  let real = 1_000_000_000_000;
  const c = new AcceleratedClock(600, 24 * HOUR, () => real);
  assert.equal(c.now().getTime(), real - 24 * HOUR);
  real += 60_000; // one real minute = ten simulated hours
  assert.equal(c.now().getTime(), real - 60_000 - 24 * HOUR + 600 * 60_000);
  real += 10 * 60_000; // long past catch-up
  assert.equal(c.now().getTime(), real);
  assert.equal(c.realTimeOf(new Date(real + 5000)), real + 5000, 'after catch-up, 1x');
});
