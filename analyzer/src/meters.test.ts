import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapMeters, normaliseSeries, reduceMeter, sumDecimals, type CounterType, type MeterRecord } from './meters.js';
import { HOUR_US } from './timestamp.js';

const S = 1_000_000;
const T = 630 * S;
const H0 = 1_795_291_200_000_000; // 2026-11-21T20:00:00Z
const W0 = { startUs: H0, endUs: H0 + HOUR_US };
const W1 = { startUs: H0 + HOUR_US, endUs: H0 + 2 * HOUR_US };
const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER };

function series(type: CounterType, unit: string, points: [number, string][]): MeterRecord[] {
  return normaliseSeries(points.map(([sec, volume]) => ({
    resourceId: 'r', meter: 'm', type, unit, timestampUs: H0 + Math.round(sec * S), volume, projectId: 'p', userId: 'u',
  })));
}

describe('reduceMeter: gauges integrated over running intervals (hand-computed)', () => {
  const table: [string, [number, string][], typeof W0, string][] = [
    ['value holds until the next sample: 512 MB x 300 s', [[0, '512'], [300, '1024']], W0, '153600'],
    ['a change of value: 512 x 300 + 1024 x 300', [[0, '512'], [300, '1024'], [600, '1024']], W0, '460800'],
    ['a gap at or above the threshold is downtime', [[0, '512'], [630, '512'], [1330, '512']], W0, '0'],
    ['an interval crossing the hour: first window 100 x 100 s', [[3500, '100'], [3800, '200']], W0, '10000'],
    ['an interval crossing the hour: second window 100 x 200 s', [[3500, '100'], [3800, '200']], W1, '20000'],
    ['decimals stay exact: 0.5 x 1.000001 s', [[0, '0.5'], [1.000001, '0.5']], W0, '0.5000005'],
    ['values above 2^53 stay exact', [[0, '9085000000000121'], [300, '1']], W0, '2725500000000036300'],
    ['float-looking volumes: 512.0 x 299.5', [[0, '512.0'], [299.5, '512.0']], W0, '153344'],
  ];
  for (const [name, points, w, expected] of table) {
    it(name, () => {
      const r = reduceMeter(series('gauge', 'MB', points), w, T);
      assert.equal(r.quantity, expected);
      assert.equal(r.unit, 'MB*s');
    });
  }
});

describe('reduceMeter: cumulative counters as deltas with reset detection (hand-computed)', () => {
  const table: [string, [number, string][], typeof W0, string, number][] = [
    ['deltas between neighbours: 150 + 150', [[0, '100'], [300, '250'], [600, '400']], W0, '300', 0],
    ['a reset counts the new value: 200 + 50 + 30', [[0, '1000'], [300, '1200'], [600, '50'], [900, '80']], W0, '280', 1],
    ['a reset to zero adds nothing', [[0, '1000'], [300, '0'], [600, '10']], W0, '10', 1],
    ['after a gap the first sample is a new baseline', [[0, '100'], [1000, '500'], [1300, '600']], W0, '100', 0],
    ['a delta belongs to the window of its later sample (first window)', [[3500, '100'], [3800, '400']], W0, '0', 0],
    ['a delta belongs to the window of its later sample (second window)', [[3500, '100'], [3800, '400']], W1, '300', 0],
    ['counters above 2^53 are exact', [[0, '9085000000000121'], [300, '9085300000000123']], W0, '300000000002', 0],
    ['a counter above 2^64 is exact', [[0, '18446744073709551616'], [300, '18446744073709551617']], W0, '1', 0],
    ['the whole range', [[0, '10'], [300, '20'], [3700, '5'], [4000, '7']], ALL, '12', 0],
  ];
  for (const [name, points, w, expected, resets] of table) {
    it(name, () => {
      const r = reduceMeter(series('cumulative', 'ns', points), w, T);
      assert.equal(r.quantity, expected);
      assert.equal(r.resets, resets);
      assert.equal(r.unit, 'ns');
    });
  }
});

describe('reduceMeter: delta meters', () => {
  it('sums the volumes stamped inside the window', () => {
    const s = series('delta', 'B', [[0, '5'], [300, '7.5'], [3700, '9']]);
    assert.equal(reduceMeter(s, W0, T).quantity, '12.5');
    assert.equal(reduceMeter(s, W1, T).quantity, '9');
    assert.equal(reduceMeter(s, W0, T).samples, 2);
  });
});

describe('hourly windows add up to the whole', () => {
  for (const type of ['gauge', 'cumulative', 'delta'] as const) {
    it(type, () => {
      const points: [number, string][] = [];
      let v = 0n;
      for (let t = -100; t < 5 * 3600; t += 299.999997) {
        if (t > 4000 && t < 6000) continue;
        v = t > 9000 && t < 9300 ? 17n : v + 12345678901234567n; // one reset
        points.push([t, type === 'gauge' ? `${(Math.round(t) % 7) + 0.25}` : String(v)]);
      }
      const s = series(type, 'B', points);
      const whole = reduceMeter(s, ALL, T).quantity;
      const parts: string[] = [];
      for (let h = -1; h < 6; h++) parts.push(reduceMeter(s, { startUs: H0 + h * HOUR_US, endUs: H0 + (h + 1) * HOUR_US }, T).quantity);
      assert.equal(sumDecimals(parts), whole);
      assert.notEqual(whole, '0');
    });
  }
});

describe('mapMeters / normaliseSeries', () => {
  it('groups by resource and meter, sorts, and keeps one sample per instant (the greater)', () => {
    const rec = (resourceId: string, meter: string, sec: number, volume: string): MeterRecord =>
      ({ resourceId, meter, type: 'cumulative', unit: 'B', timestampUs: H0 + sec * S, volume, projectId: 'p', userId: 'u' });
    const g = mapMeters([rec('a', 'x', 300, '5'), rec('a', 'x', 0, '1'), rec('a', 'y', 0, '1'), rec('a', 'x', 300, '9'), rec('a', 'x', 300, '5')]);
    assert.equal(g.size, 2);
    assert.deepEqual(g.get('a\u0000x')!.map((r) => [r.timestampUs - H0, r.volume]), [[0, '1'], [300 * S, '9']]);
  });
});
