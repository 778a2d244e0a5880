import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDecimal } from './shape.js';
import { formatHours, formatMoney, formatPeriod, groupThousands, isDecimalString, roundHalfEven } from './format.js';

const rounding: [string, number, string][] = [
  ['0.00005', 4, '0.0000'],
  ['0.00015', 4, '0.0002'],
  ['0.00025', 4, '0.0002'],
  ['0.000251', 4, '0.0003'],
  ['0.082775', 4, '0.0828'],
  ['9.99995', 4, '10.0000'],
  ['999.995', 2, '1000.00'],
  ['12', 4, '12.0000'],
  ['-0.00004', 4, '0.0000'],
  ['-1.25', 1, '-1.2'],
  ['-1.35', 1, '-1.4'],
  ['9007199254740993.123456', 2, '9007199254740993.12'],
  ['0.5', 0, '0'],
  ['1.5', 0, '2'],
];
for (const [value, places, expected] of rounding) {
  test(`roundHalfEven(${value}, ${places}) = ${expected}`, () => assert.equal(roundHalfEven(value, places), expected));
}

test('roundHalfEven rejects what is not a decimal string', () => {
  for (const bad of ['1e3', '', 'abc', '1.', '.5', 'NaN']) assert.throws(() => roundHalfEven(bad, 2), /not a decimal/);
});

test('groupThousands', () => {
  assert.equal(groupThousands('1234567.891'), '1,234,567.891');
  assert.equal(groupThousands('-1000'), '-1,000');
  assert.equal(groupThousands('999'), '999');
});

test('formatMoney keeps digits beyond float precision', () => {
  assert.equal(formatMoney('0.082775', 'EUR'), '0.0828 EUR');
  assert.equal(formatMoney('90071992547409931.00005', 'EUR'), '90,071,992,547,409,931.0000 EUR');
  assert.equal(formatMoney('0.059997', 'EUR', 6), '0.059997 EUR');
});

test('formatHours and formatPeriod', () => {
  assert.equal(formatHours('2.999861'), '3.00 h');
  assert.equal(formatPeriod('2026-11-01T00:00:00.000Z', '2026-11-21T10:30:00.000Z'), '2026-11-01 – 2026-11-21 10:30 UTC');
});

test('isDecimalString', () => {
  assert.equal(isDecimalString('0.10'), true);
  assert.equal(isDecimalString(0.1), false);
  assert.equal(isDecimalString('1e-7'), false);
});

test('compareDecimal compares exactly', () => {
  assert.equal(compareDecimal('0.1800', '0.0828'), 1);
  assert.equal(compareDecimal('10.0', '9.99999'), 1);
  assert.equal(compareDecimal('9007199254740993', '9007199254740992'), 1);
  assert.equal(compareDecimal('1.50', '1.5'), 0);
  assert.equal(compareDecimal('007', '7.000'), 0);
});
