import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '../pricing/load.js';
import { ratePeriod } from '../pricing/rate.js';
import type { UsageInput } from '../pricing/facts.js';
import { boundSeries } from './placement-bound.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const M = 60_000;
const at = (min: number) => new Date(T0 + min * M);

test('a reading prices for max-age at most: an unknown sample follows every reading with no newer one in time', () => {
  const s = boundSeries('gold', [{ at: at(10), free: '0.4' }, { at: at(0), free: '0.8' }, { at: at(50), free: '0.2' }], 15 * M);
  assert.deepEqual(s.map((x) => [x.at.toISOString().slice(11, 16), x.free]), [
    ['00:00', '0.8'], ['00:10', '0.4'], ['00:25', null], ['00:50', '0.2'], ['01:05', null],
  ]);
  assert.equal(s[2]!.note, 'pool gold: the last Placement reading (free 0.4 at 2026-11-01T00:10:00.000Z) is older than 900 s');
  // Readings closer than the bound need no marker; an empty series stays empty.
  assert.deepEqual(boundSeries('gold', [{ at: at(0), free: '0.8' }, { at: at(15), free: '0.5' }], 15 * M).map((x) => x.free), ['0.8', '0.5', null]);
  assert.deepEqual(boundSeries('gold', [], 15 * M), []);
});

test('a dynamic line priced from a stale reading pays the on-demand price and says why', () => {
  const policy = loadPolicy('EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 1: 0.5)\nEVENT = "VM Assignment", COST_PER_HOUR = 0.04');
  const hour = (h: number): UsageInput => ({
    windowStart: at(60 * h), windowEnd: at(60 * h + 60), resourceId: 'vm-1', meter: 'instance', unit: 's', quantity: '3600', projectId: 'p1', flavorName: 'm1.medium', vcpus: 2, memoryMb: 4096,
  });
  // Readings at 00:00 (free 0.8) and 01:59 (free 0.6); the bound is 15 min, so 01:00 has none in force.
  const pools = { gold: boundSeries('gold', [{ at: at(0), free: '0.8' }, { at: at(119), free: '0.6' }], 15 * M) };
  const r = ratePeriod(policy, { usage: [hour(0), hour(1), hour(2)], resources: { 'vm-1': { billingMode: 'dynamic', pool: 'gold' } }, pools }, { start: at(0), end: at(24 * 60) });
  // 0.04 x factor: free 0.8 -> 0.6 at 00:00; at 01:00 the 00:00 reading is stale -> 1; at 02:00 the 01:59 one (0.6 -> 0.7).
  assert.deepEqual(r.lines.map((l) => [l.amount.toFixed(), l.onDemandAmount.toFixed()]), [['0.024', '0.04'], ['0.04', '0.04'], ['0.028', '0.04']]);
  assert.match(r.lines[1]!.explanation.conversions.join(' | '), /pool gold: the last Placement reading \(free 0\.8 at 2026-11-01T00:00:00\.000Z\) is older than 900 s: factor 1 \(on-demand price\)/);
  assert.match(r.lines[0]!.explanation.conversions.join(' | '), /dynamic factor 0\.6 from the curve at pool free capacity 0\.8/);
});
