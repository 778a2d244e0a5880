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

// The regex-and-Date parser this replaced (64081a8), kept as the reference of a differential test.
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})?$/;
function referenceParse(text: string): number | string {
  const m = ISO.exec(text);
  if (!m) return `not an ISO 8601 timestamp: ${JSON.stringify(text)}`;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return `not a valid date/time: ${JSON.stringify(text)}`;
  const micros = Number((m[7] ?? '').padEnd(6, '0'));
  let offsetUs = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 23 || om > 59) return `bad UTC offset in ${JSON.stringify(text)}`;
    offsetUs = (tz.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60) * 1_000_000;
  }
  return ms * 1000 + micros - offsetUs;
}

describe('parseTimestampUs against the regex-and-Date parser it replaced', () => {
  it('gives the same instant or the same error on 50,000 generated strings, valid and broken', () => {
    let seed = 11;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pad = (v: number, w: number): string => String(v).padStart(w, '0');
    const chars = '0123456789-:.TZ +x';
    for (let k = 0; k < 50_000; k++) {
      const year = rnd(10) === 0 ? rnd(10000) : 1960 + rnd(120);
      let t = `${pad(year, 4)}-${pad(rnd(14), 2)}-${pad(rnd(33), 2)}${rnd(2) ? 'T' : ' '}${pad(rnd(26), 2)}:${pad(rnd(62), 2)}:${pad(rnd(62), 2)}`;
      if (rnd(2)) t += '.' + pad(rnd(10 ** 7), 1 + rnd(7)).slice(0, 1 + rnd(7));
      const tz = rnd(4);
      if (tz === 1) t += 'Z';
      else if (tz >= 2) t += `${rnd(2) ? '+' : '-'}${pad(rnd(26), 2)}:${pad(rnd(62), 2)}`;
      // Now and then break it: drop, change or add one character.
      if (rnd(4) === 0) {
        const at = rnd(t.length + 1);
        const c = chars[rnd(chars.length)]!;
        t = rnd(3) === 0 ? t.slice(0, at) + t.slice(at + 1) : rnd(2) ? t.slice(0, at) + c + t.slice(at + 1) : t.slice(0, at) + c + t.slice(at);
      }
      let got: number | string;
      try {
        got = parseTimestampUs(t);
      } catch (e) {
        got = (e as ValidationError).message.replace(/^timestamp: /, '');
      }
      assert.equal(got, referenceParse(t), t);
    }
  });
});

describe('microsToSeconds', () => {
  const cases: [number | bigint, string][] = [
    [0, '0'], [1, '0.000001'], [1_000_000, '1'], [3_599_500_000, '3599.5'], [1_620_249_999, '1620.249999'],
    [-1_500_000, '-1.5'], [12_345_678_901_234_567_891n, '12345678901234.567891'],
  ];
  for (const [us, s] of cases) it(`${us} µs -> ${s}`, () => assert.equal(microsToSeconds(us), s));
});
