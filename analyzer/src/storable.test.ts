import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal } from 'decimal.js';
import { MAX_TEXT, nulPath, textProblem, volumeProblem } from './storable.js';
import { parseJson } from './json.js';

describe('volumeProblem', () => {
  it('accepts what Ceilometer sends: integers far above 2^64, Python float reprs, zero in any spelling', () => {
    for (const v of ['0', '-0', '-0.0', '0e99', '0.000', '512.0', '9085000000000121', '18446744073709551617', '340282366920938463463374607431768211456',
      '0.30000000000000004', '1.2345e-05', '1e+20', '1.5E+39', '9'.repeat(40), '0.000000000000000001', '1e-18', '00012.5']) {
      assert.equal(volumeProblem(v), null, v);
    }
  });
  it('refuses negatives, |v| >= 1e40, more than 18 decimals, huge exponents and long literals', () => {
    const cases: [string, RegExp][] = [
      ['-512.0', /negative/], ['-1e-5', /negative/], ['-0.000001', /negative/],
      ['1e40', /below 1e40/], ['1e999999', /exponent/], ['1' + '0'.repeat(40), /below 1e40/], ['9.9e39', /^null$/],
      ['1e-19', /decimal places/], ['0.0000000000000000001', /decimal places/], ['1.0000000000000000001', /decimal places/], ['1e-999999', /exponent/],
      ['0e99999', /exponent/], ['1' + '0'.repeat(70), /longer than 64/],
    ];
    for (const [v, re] of cases) assert.match(String(volumeProblem(v)), re, v);
  });
  it('answers undefined for text that is not a decimal number', () => {
    for (const v of ['', '-', '.5', '5.', '1e', '1e+', 'nan', 'inf', '-inf', 'Infinity', '0x10', '1_000', ' 1', '1 ', '+1', '1.2.3', '١٢']) assert.equal(volumeProblem(v), undefined, v);
  });
  it('agrees with decimal.js on the bounds for random literals', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let k = 0; k < 5000; k++) {
      const digits = (len: number): string => Array.from({ length: len }, () => String(rnd(10))).join('');
      const lit = `${digits(1 + rnd(45))}${rnd(2) ? '.' + digits(1 + rnd(25)) : ''}${rnd(2) ? `e${rnd(2) ? '-' : ''}${rnd(60)}` : ''}`;
      const d = new Decimal(lit);
      const expected = d.isZero() ? null : d.abs().gte('1e40') ? 'range' : d.decimalPlaces() > 18 ? 'places' : null;
      const got = volumeProblem(lit);
      assert.equal(got === null ? null : /below/.test(String(got)) ? 'range' : /decimal places/.test(String(got)) ? 'places' : got, expected, lit);
    }
  });
});

describe('textProblem', () => {
  it('accepts text up to 255 units with any Unicode, refuses NUL, lone surrogates and longer text', () => {
    for (const t of ['', 'vm-1', 'Сервер-Ünïcødé ☃ 東京', '\u{1F600}x', 'a'.repeat(MAX_TEXT), 'tab\there']) assert.equal(textProblem(t), null, t);
    assert.match(String(textProblem('a\u0000b')), /NUL/);
    assert.match(String(textProblem('\ud800')), /surrogate/);
    assert.match(String(textProblem('x\udc00y')), /surrogate/);
    assert.match(String(textProblem('\ud83d')), /surrogate/);
    assert.match(String(textProblem('a'.repeat(MAX_TEXT + 1))), /longer than 255/);
  });
});

describe('nulPath', () => {
  it('names the first string or key holding a NUL', () => {
    assert.equal(nulPath(parseJson('{"a": 1, "b": {"c": ["x", "y\\u0000"]}}'), ''), 'b.c[1]');
    assert.equal(nulPath(parseJson('{"a": {"k\\u0000": 1}}'), ''), 'a.k\u0000');
    assert.equal(nulPath(parseJson('{"a": "\\\\u0000"}'), ''), undefined); // an escaped backslash, not a NUL
  });
});
