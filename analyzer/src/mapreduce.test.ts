import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBody } from './decode.js';
import { extract, map, reduce, reduceAllocation, usageForWindow, type InstanceRecord } from './mapreduce.js';
import { HOUR_US, microsToSeconds } from './timestamp.js';

const S = 1_000_000; // µs per second
const T = 630 * S; // the default gap threshold
const H0 = 1_795_291_200_000_000; // 2026-11-21T20:00:00Z
const H1 = H0 + HOUR_US;
const H2 = H1 + HOUR_US;
const W0 = { startUs: H0, endUs: H1 };
const W1 = { startUs: H1, endUs: H2 };
const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER };

describe('reduce (hand-computed)', () => {
  // Each row: timestamps (s after H0), window, expected running seconds, expected samples in window.
  const table: [string, number[], { startUs: number; endUs: number }, string, number][] = [
    ['one gap below the threshold is counted', [0, 300], W0, '300', 2],
    ['a gap above the threshold is downtime', [0, 700], W0, '0', 2],
    ['a gap equal to the threshold is downtime', [0, 630], W0, '0', 2],
    ['a gap just below the threshold counts', [0, 629.999999], W0, '629.999999', 2],
    ['mixed: 300 + (1000 not) + 300', [0, 300, 1300, 1600], W0, '600', 4],
    ['duplicate timestamps add nothing', [0, 0, 300, 300, 300, 600], W0, '600', 3],
    ['a single sample runs for nothing', [100], W0, '0', 1],
    ['interval crossing the end: window 0 gets its part', [3450, 3750.25], W0, '150', 1],
    ['interval crossing the end: window 1 gets the rest', [3450, 3750.25], W1, '150.25', 1],
    ['an interval entirely in another window', [100, 400], W1, '0', 0],
    ['whole range: 300.25 + 249.75 + (1000 not) + 300', [3450, 3750.25, 4000, 5000, 5300], ALL, '850', 5],
  ];
  for (const [name, secs, w, expected, samples] of table) {
    it(name, () => {
      const ts = secs.map((s) => H0 + Math.round(s * S));
      const r = reduce('vm', ts, w, T);
      assert.equal(microsToSeconds(r.runningUs), expected);
      assert.equal(r.samples, samples);
    });
  }

  it('hourly slices add up exactly to the total', () => {
    // Polls every 300.000007 s over 5 hours with two outages; sums compared in integer µs.
    const ts: number[] = [];
    for (let t = H0 - 10 * S; t < H0 + 5 * HOUR_US; t += 300 * S + 7) {
      const rel = t - H0;
      if ((rel > 4000 * S && rel < 6000 * S) || (rel > 14000 * S && rel < 14700 * S)) continue;
      ts.push(t);
    }
    const total = reduce('vm', ts, ALL, T).runningUs;
    let sum = 0;
    for (let h = H0 - HOUR_US; h < H0 + 6 * HOUR_US; h += HOUR_US) sum += reduce('vm', ts, { startUs: h, endUs: h + HOUR_US }, T).runningUs;
    assert.equal(sum, total);
    assert.ok(total > 0 && total < 5 * HOUR_US + 10 * S);
  });

  it('refuses unsorted input', () => {
    assert.throws(() => reduce('vm', [2, 1], ALL, T), RangeError);
  });
});

const rec = (id: string, sec: number, name = 'vm'): InstanceRecord => ({
  resourceId: id, timestampUs: H0 + Math.round(sec * S), projectId: 'p', userId: 'u', flavorName: 'm1.small', vcpus: 1, memoryMb: 2048, displayName: name,
});

describe('map', () => {
  it('groups by instance, sorts, drops duplicate timestamps, keeps the latest attributes', () => {
    const g = map([rec('b', 10), rec('a', 300, 'late'), rec('a', 0, 'early'), rec('a', 300, 'late'), rec('b', 5)]);
    assert.deepEqual([...g.keys()].sort(), ['a', 'b']);
    assert.deepEqual(g.get('a')!.timestamps, [H0, H0 + 300 * S]);
    assert.equal(g.get('a')!.latest.displayName, 'late');
    assert.deepEqual(g.get('b')!.timestamps, [H0 + 5 * S, H0 + 10 * S]);
  });
});

describe('usageForWindow', () => {
  it('makes one record per instance seen in the window, with attributes from before its end', () => {
    const rows = usageForWindow([rec('a', 3500, 'old'), rec('a', 3800, 'renamed'), rec('z', 7300)], W0, T);
    assert.deepEqual(rows.map((r) => [r.meter, r.unit, r.quantity]), [['instance', 's', '100'], ['instance.memory', 'MB*s', '204800'], ['instance.vcpus', 'vCPU*s', '100']]);
    assert.deepEqual({ ...rows[0]!, windowStart: rows[0]!.windowStart.toISOString(), windowEnd: rows[0]!.windowEnd.toISOString() }, {
      windowStart: '2026-11-21T20:00:00.000Z', windowEnd: '2026-11-21T21:00:00.000Z', resourceId: 'a', meter: 'instance', unit: 's',
      quantity: '100', projectId: 'p', userId: 'u', flavorName: 'm1.small', vcpus: 1, memoryMb: 2048, displayName: 'old', samples: 1,
    });
  });
});

describe('reduceAllocation (vCPU and memory integrated over running time)', () => {
  const at = (sec: number, vcpus: number | null, memoryMb: number | null): InstanceRecord => ({ ...rec('a', sec), vcpus, memoryMb });
  it('uses the flavor of the heartbeat that opens each interval (a resize at 300 s)', () => {
    const g = map([at(0, 2, 2048), at(300, 4, 4096), at(600, 4, 4096)]).get('a')!;
    assert.deepEqual(reduceAllocation(g.records, W0, T), { vcpuUs: BigInt(2 * 300 + 4 * 300) * BigInt(S), memoryMbUs: BigInt(2048 * 300 + 4096 * 300) * BigInt(S) });
  });
  it('skips gaps at or above the threshold, splits at the window edge, and ignores unknown flavors', () => {
    const g = map([at(0, 2, null), at(700, 2, null), at(3500, 1, null), at(3800, 8, null)]).get('a')!;
    assert.deepEqual(reduceAllocation(g.records, W0, T), { vcpuUs: 100n * BigInt(S), memoryMbUs: 0n });
    assert.deepEqual(reduceAllocation(g.records, W1, T), { vcpuUs: 200n * BigInt(S), memoryMbUs: 0n });
  });
  it('integrates to exactly vcpus x running time in usage rows (GB-hours = MB*s / 1024 / 3600)', () => {
    const rows = usageForWindow([at(0, 2, 1536), at(300.5, 2, 1536)], W0, T);
    assert.deepEqual(rows.map((r) => [r.meter, r.quantity]), [['instance', '300.5'], ['instance.memory', '461568'], ['instance.vcpus', '601']]);
  });
});

describe('extract', () => {
  const body = (meter: string, meta: string): string =>
    `{"event_type": "metering", "payload": [{"source": "openstack", "counter_name": "${meter}", "counter_type": "cumulative", "counter_unit": "ns", "counter_volume": 1, "user_id": "u", "project_id": "p", "resource_id": "vm-9", "timestamp": "2026-11-21T20:00:00.5+00:00", "resource_metadata": ${meta}, "message_id": "m"}]}`;
  it('takes instance facts from polling metadata', () => {
    const s = decodeBody(body('cpu', '{"display_name": "web", "flavor": {"name": "m1.large", "vcpus": 4, "ram": 8192}, "vcpus": 4, "memory_mb": 8192}')).samples[0]!.sample;
    assert.deepEqual(extract(s), { resourceId: 'vm-9', timestampUs: H0 + 500_000, projectId: 'p', userId: 'u', flavorName: 'm1.large', vcpus: 4, memoryMb: 8192, displayName: 'web' });
  });
  it('falls back to notification-style metadata and tolerates missing facts', () => {
    const s = decodeBody(body('cpu', '{"flavor_name": "m1.tiny"}')).samples[0]!.sample;
    assert.deepEqual(extract(s), { resourceId: 'vm-9', timestampUs: H0 + 500_000, projectId: 'p', userId: 'u', flavorName: 'm1.tiny', vcpus: null, memoryMb: null, displayName: null });
  });
  it('ignores meters other than the heartbeat', () => {
    assert.equal(extract(decodeBody(body('memory.usage', '{}')).samples[0]!.sample), null);
  });
});
