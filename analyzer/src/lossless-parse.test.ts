// Differential test: the fast lossless parser against lossless-json's parse, on the real
// Ceilometer vectors and on random JSON (and random corruptions of it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ceilometerVectorsDir } from '@tally/common';
import { parse, stringify } from 'lossless-json';
import { stringifyJson } from './json.js';
import { parseLossless } from './lossless-parse.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMS = ['0', '-0', '9085000000000121', '18446744073709551617', '512.0', '1e-7', '-1.5E+3', '1e400', '42', '0.1'];
const STRS = ['', 'x', 'a\\"b', '\\u00e9\\n', 'é€😀', '\\\\', '\\/', 'long '.repeat(20)];
const KEYS = ['a', 'b', '__proto__', 'counter_volume', 'k\\u0041', 'constructor'];

function gen(r: () => number, depth: number): string {
  const k = Math.floor(r() * (depth > 3 ? 5 : 7));
  const sp = (): string => [' ', '', '\n\t ', ''][Math.floor(r() * 4)]!;
  switch (k) {
    case 0: return NUMS[Math.floor(r() * NUMS.length)]!;
    case 1: return `"${STRS[Math.floor(r() * STRS.length)]!}"`;
    case 2: return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
    case 3: case 4: return `"${STRS[Math.floor(r() * STRS.length)]!}"`;
    case 5: return `[${sp()}${Array.from({ length: Math.floor(r() * 4) }, () => gen(r, depth + 1)).join(`,${sp()}`)}${sp()}]`;
    default: return `{${sp()}${Array.from({ length: Math.floor(r() * 4) }, () => `"${KEYS[Math.floor(r() * KEYS.length)]!}"${sp()}:${sp()}${gen(r, depth + 1)}`).join(`${sp()},`)}${sp()}}`;
  }
}

/** Both parsers agree: same value (compared losslessly, own keys included) or both throw SyntaxError. */
function same(text: string): void {
  let want: string | Error;
  try {
    want = stringify(parse(text))!;
  } catch (e) {
    want = e as Error;
  }
  if (want instanceof Error) {
    assert.throws(() => parseLossless(text), SyntaxError, `should reject ${JSON.stringify(text)}`);
    return;
  }
  const got = parseLossless(text);
  assert.equal(stringify(got), want, text);
  assert.deepEqual(got, parse(text), text);
}

describe('parseLossless', () => {
  it('matches lossless-json on the real Ceilometer deliveries', () => {
    const runs = JSON.parse(readFileSync(`${ceilometerVectorsDir()}/polling-agent-notifications.json`, 'utf8')) as { runs: { deliveries: { body: string }[] }[] };
    for (const d of runs.runs.flatMap((x) => x.deliveries)) {
      same(d.body);
      same((JSON.parse(d.body) as Record<string, string>)['oslo.message'] ?? '{}');
    }
  });
  it('keeps counters above 2^53 and literal text exact', () => {
    const v = parseLossless('{"v": 9085000000000121, "w": 512.0, "x": -0}') as Record<string, { value: string }>;
    assert.deepEqual([v['v']!.value, v['w']!.value, v['x']!.value], ['9085000000000121', '512.0', '-0']);
  });
  it('stores __proto__ as an own key and rejects conflicting duplicates', () => {
    const o = parseLossless('{"__proto__": {"x": 1}}') as object;
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.ok(Object.prototype.hasOwnProperty.call(o, '__proto__'));
    assert.throws(() => parseLossless('{"a": 1, "a": 2}'), /Duplicate key 'a'/);
    assert.deepEqual(parseLossless('{"a": 1, "a": 1}'), parse('{"a": 1, "a": 1}'));
  });
  it('rejects what lossless-json rejects', () => {
    for (const t of ['', ' ', '{', '{"a" 1}', '{"a":}', '[1,]', '[1 2]', '01', '1.', '.5', '-', '+1', '"a', '"\\x"', '"\\u12"', '"a\tb"', 'tru', 'nul', '{} x', '{"a":1,}', "{'a':1}", 'NaN', '"\\', '[', '{"a":1']) same(t);
  });
  it('matches lossless-json on 5,000 random documents and corruptions of them', () => {
    const r = prng(20261122);
    for (let k = 0; k < 5000; k++) {
      const text = gen(r, 0);
      same(text);
      const at = Math.floor(r() * text.length);
      same(text.slice(0, at) + text.slice(at + 1));
      same(text.slice(0, at) + '",:[]{}0\\ '[Math.floor(r() * 10)]! + text.slice(at));
    }
  });
});

describe('stringifyJson', () => {
  it('writes what lossless-json writes, for parsed values and for mixed ones', () => {
    const r = prng(7);
    for (let k = 0; k < 3000; k++) {
      const text = gen(r, 0);
      let v;
      try {
        v = parse(text);
      } catch {
        continue;
      }
      assert.equal(stringifyJson(v as never), stringify(v), text);
    }
    const mixed = { n: 1.5, u: undefined, d: new Date(0), a: [1, undefined], big: 12n, s: 'x' };
    assert.equal(stringifyJson(mixed as never), stringify(mixed as never));
  });
});
