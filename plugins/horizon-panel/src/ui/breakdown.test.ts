import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byFlavor, byMeter, explainLine, forecastMonth } from './breakdown.js';
import type { ResourceCharge } from './types.js';

const line = (id: string, flavor: string | null, hours: string, amount: string, basis: ResourceCharge['price_basis'] = 'flavor'): ResourceCharge => ({
  resource_id: id, display_name: null, flavor, vcpus: 2, hours, unit_price: '0.0200', price_basis: basis, billing_mode: 'on-demand', amount,
});
const ctx = { currency: 'EUR', policy: { name: 'default', version: 3 } };

test('byFlavor sums exactly and sorts by amount, then name', () => {
  const rows = byFlavor([
    line('a', 'm1.small', '0.1', '0.000001'),
    line('b', 'm1.small', '0.2', '0.000002'),
    line('c', 'm1.tiny', '9007199254740993.5', '90071992547409.935000'),
    line('d', null, '1', '0.000003'),
    line('a', 'm1.small', '1', '0.000001'),
  ]);
  assert.deepEqual(rows, [
    { key: 'm1.tiny', resources: 1, hours: '9007199254740993.5', amount: '90071992547409.935' },
    { key: 'm1.small', resources: 2, hours: '1.3', amount: '0.000004' },
    { key: 'unknown flavor', resources: 1, hours: '1', amount: '0.000003' },
  ]);
});

test('byMeter: one instance row with the exact total', () => {
  assert.deepEqual(byMeter([line('a', 'x', '0.1', '0.1'), line('b', 'y', '0.2', '0.2')]), [{ key: 'instance (running time)', resources: 2, hours: '0.3', amount: '0.3' }]);
  assert.deepEqual(byMeter([]), []);
});

test('forecastMonth: linear, half-even, only for a month to date older than an hour', () => {
  // 10 of 30 November days: × 3.
  const f = forecastMonth({ period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-11T00:00:00.000Z' }, total: '1.00005' });
  assert.equal(f?.amount, '3.0002'); // 3.00015 → half-even 3.0002
  assert.match(f?.basis ?? '', /30 days ÷ 10\.00 days/);
  // 31-day month, 1 day elapsed.
  assert.equal(forecastMonth({ period: { start: '2026-12-01T00:00:00.000Z', end: '2026-12-02T00:00:00.000Z' }, total: '0.0100' })?.amount, '0.3100');
  assert.equal(forecastMonth({ period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-01T00:30:00.000Z' }, total: '1' }), undefined);
  assert.equal(forecastMonth({ period: { start: '2026-11-02T00:00:00.000Z', end: '2026-11-11T00:00:00.000Z' }, total: '1' }), undefined);
  assert.equal(forecastMonth({ period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-02T00:00:00.000Z' }, total: '1' }), undefined);
});

test('explainLine names the usage, the price and the rule', () => {
  assert.equal(explainLine(line('a', 'm1.small', '1.000000', '0.020000'), ctx),
    '1.000000 h of running time (meter instance) × 0.0200 EUR/h, the price of flavor m1.small in policy default v3 = 0.020000 EUR');
  assert.match(explainLine(line('a', 'custom', '2', '0.08', 'vcpu'), ctx), /no price in policy default v3, so 2 vCPU × the per-vCPU rate/);
  assert.match(explainLine(line('a', null, '2', '0', 'unpriced'), ctx), /not priced.*operator/);
  assert.match(explainLine(line('a', 'm1.small', '2', '0.03', 'policy'), ctx), /priced by the rules of policy default v3 \(on average 0\.0200 EUR\/h\) = 0\.03 EUR/);
  assert.match(explainLine({ ...line('a', 'm1.small', '1', '0.01'), billing_mode: 'dynamic' }, ctx), /in policy default v3, dynamic mode: × the pool's factor = 0\.01 EUR$/);
});
