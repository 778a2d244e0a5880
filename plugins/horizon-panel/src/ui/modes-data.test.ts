import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modeRequest, parseModes, parsePools, poolSeries, shortTime } from './modes-data.js';
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
