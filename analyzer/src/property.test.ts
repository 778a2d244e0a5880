// Property: any permutation and any duplication of the same samples gives the same usage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InstanceRecord } from './mapreduce.js';
import type { CounterType, MeterRecord } from './meters.js';
import { foldLifetimes } from './span.js';
import { HOUR_US } from './timestamp.js';
import { windowUsage } from './window-usage.js';

const S = 1_000_000;
const T = 630 * S;
const H0 = 1_795_291_200_000_000;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(rand: () => number): { instances: InstanceRecord[]; meters: MeterRecord[] } {
  const instances: InstanceRecord[] = [];
  const meters: MeterRecord[] = [];
  const vms = 1 + Math.floor(rand() * 4);
  for (let v = 0; v < vms; v++) {
    let t = H0 - HOUR_US + Math.floor(rand() * HOUR_US);
    let counter = 10n ** 16n + BigInt(Math.floor(rand() * 1e6));
    const projectId = `p${v % 2}`;
    while (t < H0 + 3 * HOUR_US) {
      const vcpus = rand() < 0.1 ? 4 : 2;
      instances.push({ resourceId: `vm${v}`, timestampUs: t, projectId, userId: 'u', flavorName: 'm1', vcpus, memoryMb: vcpus * 1024, displayName: `n${v}` });
      counter = rand() < 0.05 ? BigInt(Math.floor(rand() * 100)) : counter + BigInt(Math.floor(rand() * 1e9));
      const m = (meter: string, type: CounterType, volume: string): MeterRecord => ({ resourceId: `vm${v}`, meter, type, unit: 'u', timestampUs: t, volume, projectId, userId: 'u' });
      meters.push(m('cpu', 'cumulative', String(counter)), m('memory.usage', 'gauge', (rand() * 4096).toFixed(3)), m('net.delta', 'delta', String(Math.floor(rand() * 1000))));
      // Steps around the threshold, with an outage now and then.
      t += rand() < 0.08 ? Math.floor(rand() * 2 * HOUR_US) : 300 * S + Math.floor((rand() - 0.5) * 700 * S);
    }
  }
  return { instances, meters };
}

function shuffleAndDuplicate<X>(xs: readonly X[], rand: () => number): X[] {
  const out = [...xs];
  for (let i = 0; i < xs.length / 3; i++) out.push(xs[Math.floor(rand() * xs.length)] as X);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as X, out[i] as X];
  }
  return out;
}

function usage(instances: readonly InstanceRecord[], meters: readonly MeterRecord[]): string[] {
  const lifetimes = [...foldLifetimes(new Map(), instances).values()];
  const out: string[] = [];
  for (let h = -2; h < 4; h++) {
    const w = { startUs: H0 + h * HOUR_US, endUs: H0 + (h + 1) * HOUR_US };
    // Each window sees only what its job reads: [W.start − T, W.end + T).
    const inRange = <R extends { timestampUs: number }>(r: R): boolean => r.timestampUs >= w.startUs - T && r.timestampUs < w.endUs + T;
    for (const r of windowUsage({ instances: instances.filter(inRange), meters: meters.filter(inRange), lifetimes }, w, T)) {
      out.push(`${h} ${r.resourceId} ${r.meter} ${r.unit} ${r.quantity} ${r.samples} ${r.projectId} ${r.vcpus} ${r.displayName}`);
    }
  }
  return out;
}

describe('property: permutation and duplication do not change usage', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const rand = prng(seed);
      const { instances, meters } = generate(rand);
      const expected = usage(instances, meters);
      assert.ok(expected.length > 0);
      for (let k = 0; k < 3; k++) assert.deepEqual(usage(shuffleAndDuplicate(instances, rand), shuffleAndDuplicate(meters, rand)), expected);
    });
  }
});
