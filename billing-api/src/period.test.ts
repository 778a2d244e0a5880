import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { monthStart, parseTimestamp, resolvePeriod, utcDays } from './period.js';

const now = new Date('2026-11-21T10:30:00Z');

test('default period is UTC month to date', () => {
  const p = resolvePeriod(now, {});
  assert.equal(p.start.toISOString(), '2026-11-01T00:00:00.000Z');
  assert.equal(p.end.toISOString(), now.toISOString());
});

test('only end given: start is the month start of the instant before end', () => {
  const p = resolvePeriod(now, { end: '2026-10-01' });
  assert.equal(p.start.toISOString(), '2026-09-01T00:00:00.000Z');
});

test('parseTimestamp accepts dates and zoned times', () => {
  assert.equal(parseTimestamp('start', '2026-11-02').toISOString(), '2026-11-02T00:00:00.000Z');
  assert.equal(parseTimestamp('start', '2026-11-02T01:00:00+02:00').toISOString(), '2026-11-01T23:00:00.000Z');
  assert.equal(parseTimestamp('start', '2026-11-02T01:00Z').toISOString(), '2026-11-02T01:00:00.000Z');
});

for (const bad of ['yesterday', '2026-02-30', '2026-11-02T01:00:00', '2026-13-01', '2026-11-02T25:00:00Z', '1700000000']) {
  test(`parseTimestamp rejects ${bad} naming the field`, () => {
    assert.throws(() => parseTimestamp('start', bad), (e: unknown) => e instanceof ValidationError && e.field === 'start');
  });
}

test('end must be after start, and spans are bounded', () => {
  assert.throws(() => resolvePeriod(now, { start: '2026-11-02', end: '2026-11-02' }), (e: unknown) => e instanceof ValidationError && e.field === 'end');
  assert.throws(() => resolvePeriod(now, { start: '2020-01-01', end: '2026-01-01' }), (e: unknown) => e instanceof ValidationError && e.field === 'end');
});

test('monthStart and utcDays', () => {
  assert.equal(monthStart(new Date('2026-12-31T23:59:59Z')).toISOString(), '2026-12-01T00:00:00.000Z');
  assert.deepEqual(utcDays({ start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-03T00:00:01Z') }), ['2026-11-01', '2026-11-02', '2026-11-03']);
  assert.deepEqual(utcDays({ start: new Date('2026-11-01T12:00:00Z'), end: new Date('2026-11-02T00:00:00Z') }), ['2026-11-01']);
});
