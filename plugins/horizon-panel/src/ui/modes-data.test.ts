import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modeRequest, parseModes, parsePools, poolSeries, poolSource, shortTime } from './modes-data.js';
import type { PoolView } from './types.js';
import { ApiError } from './shape.js';

const pool = {
  name: 'gpu', resources: 1,
  latest: { at: '2026-11-05T12:00:00.000Z', free: '0.2', dynamic_factor: '0.9' },
  series: [{ at: '2026-11-05T00:00:00.000Z', free: '0.8', dynamic_factor: '0.6' }, { at: '2026-11-05T12:00:00.000Z', free: '0.2', dynamic_factor: '0.9' }],
};

test('pools are checked and charted in percent, keeping the exact strings', () => {
  const [p] = parsePools({ period: {}, pools: [pool] });
  const s = poolSeries(p!);
  assert.deepEqual(s.labels, ['11-05 00:00', '11-05 12:00']);
  assert.deepEqual(s.free, [80, 20]);
  assert.deepEqual(s.factor, [60, 90]);
  assert.deepEqual(s.factorText, ['0.6', '0.9']);
  assert.equal(shortTime('2026-01-02T03:04:05.000Z'), '01-02 03:04');
});

test('a malformed pools or modes body is an error, never a guess', () => {
  assert.throws(() => parsePools({ pools: [{ ...pool, series: [{ at: 'x', free: '0.5', dynamic_factor: '1' }] }] }), ApiError);
  assert.throws(() => parsePools({ pools: [{ ...pool, latest: { at: '2026-11-05T00:00:00Z', free: 0.5, dynamic_factor: '1' } }] }), ApiError);
  assert.throws(() => parseModes({ resources: [{ resource_id: 'a', mode: 'spot', pool: null }] }), ApiError);
  assert.throws(() => parseModes({}), ApiError);
  assert.deepEqual(parseModes({ resources: [{ resource_id: 'a', mode: 'dynamic', pool: 'gpu' }] }).map((r) => r.mode), ['dynamic']);
});

test('the PUT body names a pool only when one is chosen', () => {
  assert.deepEqual(modeRequest('dynamic', ''), { mode: 'dynamic' });
  assert.deepEqual(modeRequest('dynamic', 'gpu'), { mode: 'dynamic', pool: 'gpu' });
});

test("a pool's source says whether Placement feeds it and how old its reading is", () => {
  const base: PoolView = { name: 'gold', resources: 1, latest: null, series: [] };
  const pl = { spec: 'aggregate:tally-agg-1', providers: [], last_ok_at: '2026-11-05T10:00:00.000Z', age_seconds: 42, max_age_seconds: 900, stale: false, last_error: null, last_error_at: null, failures: 0, classes: [] };
  assert.equal(poolSource(base), 'admin feed');
  assert.equal(poolSource({ ...base, placement: pl }), 'Placement (aggregate:tally-agg-1): read 42 s ago');
  assert.equal(poolSource({ ...base, placement: { ...pl, age_seconds: 600, failures: 2, last_error: 'placement: unreachable' } }), 'Placement (aggregate:tally-agg-1): read 10 min ago, 2 failed since');
  assert.equal(poolSource({ ...base, placement: { ...pl, age_seconds: 960, stale: true, last_error: 'placement: unreachable' } }),
    'Placement (aggregate:tally-agg-1): last read 16 min ago, older than 900 s: dynamic lines pay the on-demand price (placement: unreachable)');
  assert.equal(poolSource({ ...base, placement: { ...pl, age_seconds: null, stale: true, last_ok_at: null } }), 'Placement (aggregate:tally-agg-1): no reading yet');
  assert.equal(parsePools({ pools: [{ ...base, placement: pl }] })[0]!.placement?.spec, 'aggregate:tally-agg-1');
  assert.throws(() => parsePools({ pools: [{ ...base, placement: { ...pl, stale: 'no' } }] }), ApiError);
});
