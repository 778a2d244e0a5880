import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@tally/common';
import { formatTimestampUs, hourStartUs, microsToSeconds, parseTimestampUs } from './timestamp.js';

// 2026-11-21T00:00:00Z = 1795219200 s since the epoch (hand-checked: 20413 days * 86400).
const DAY_US = 1_795_219_200_000_000;

describe('parseTimestampUs', () => {
  const cases: [string, number][] = [
    ['2026-11-21T00:00:00', DAY_US],
    ['2026-11-21T20:12:51.393428', DAY_US + (20 * 3600 + 12 * 60 + 51) * 1_000_000 + 393_428],
    ['2026-11-21T20:12:51.393428+00:00', DAY_US + (20 * 3600 + 12 * 60 + 51) * 1_000_000 + 393_428],
    ['2026-11-21T20:12:51Z', DAY_US + (20 * 3600 + 12 * 60 + 51) * 1_000_000],
    ['2026-11-21 20:11:55.1413', DAY_US + (20 * 3600 + 11 * 60 + 55) * 1_000_000 + 141_300],
    ['2026-11-21T21:30:00+01:30', DAY_US + 20 * 3600 * 1_000_000],
    ['2026-11-20T23:00:00.000001-01:00', DAY_US + 1],
  ];
  for (const [text, us] of cases) it(`parses ${text}`, () => assert.equal(parseTimestampUs(text), us));

  for (const bad of ['', '2026-11-21', '2026-02-30T00:00:00', '2026-11-21T24:00:00', '2026-11-21T20:12:51.1234567', 'yesterday', '2026-11-21T20:12:51+0000']) {
    it(`rejects ${JSON.stringify(bad)} naming the field`, () => {
      assert.throws(() => parseTimestampUs(bad, 'timestamp'), (e: unknown) => e instanceof ValidationError && e.field === 'timestamp');
    });
  }

  it('formats back exactly', () => {
    assert.equal(formatTimestampUs(parseTimestampUs('2026-11-21T20:12:51.393428')), '2026-11-21T20:12:51.393428Z');
    assert.equal(formatTimestampUs(DAY_US + 1), '2026-11-21T00:00:00.000001Z');
  });

  it('finds the hour start', () => {
    assert.equal(hourStartUs(parseTimestampUs('2026-11-21T20:59:59.999999')), parseTimestampUs('2026-11-21T20:00:00'));
    assert.equal(hourStartUs(parseTimestampUs('2026-11-21T21:00:00')), parseTimestampUs('2026-11-21T21:00:00'));
  });
});

describe('microsToSeconds', () => {
  const cases: [number | bigint, string][] = [
    [0, '0'], [1, '0.000001'], [1_000_000, '1'], [3_599_500_000, '3599.5'], [1_620_249_999, '1620.249999'],
    [-1_500_000, '-1.5'], [12_345_678_901_234_567_891n, '12345678901234.567891'],
  ];
  for (const [us, s] of cases) it(`${us} µs -> ${s}`, () => assert.equal(microsToSeconds(us), s));
});
