/**
 * Fuzz test of both policy parsers: thousands of generated and mutated inputs. Every
 * input must give either a policy or parse errors with a position — never an
 * exception, never a hang (the test's timeout catches one). A policy that parses must
 * compile or be refused with PolicyCompileError, and print back to a text that parses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../src/pricing/parse.js';
import { compilePolicy, PolicyCompileError } from '../src/pricing/compile.js';
import { formatPolicy } from '../src/pricing/format.js';
import { genPolicy, prng, type Rng } from './pricing-gen.js';

const SEEDS = [
  'EVENT = "VM Assignment", CLIENT_TYPE = "Platinum", RESOURCE_TYPE = "BLADE Type 4", RESOURCE_AGE > 240 * 60 * 60 (seconds), SERVICE_LEVEL = "Platinum", COST_PER_SECOND = 0.0002 (Euros)',
  'EVENT = "ONE_OFF SERVICE 1", RESOURCE_TYPE = "BLADE Type 4", ONE_OFF_COST = 1',
  "When the event is VM Assignment and the client's type is Platinum, then the cost per second is 0.0002 euros.",
  '1 CPU-hour is 1 token.',
  'Over 20 CPU-hours, 20 % off.',
  'EVENT = "VM Assignment",\n  COST_PER_HOUR = GRADUATED(0: 0.05, 100: 0.04) (EUR), PRIORITY = 2',
  'If the pool free capacity is at least 50 %, then the dynamic factor is curve (0: 1, 1: 0.5).',
];
const ALPHABET = 'EVENTCOST_PER=,.()"\\:%<>!*/+-0123456789 \n\t#abc\'’€When the is and then Over';
const PIECES = ['EVENT', ' = ', '"', ',', '.', '(', ')', '\n', 'When ', 'the ', 'is ', 'and ', 'then ', 'over ', '1', '0.5', '*', 'GRADUATED(', 'CURVE(', ':', 'COST_PER_HOUR', 'euros', '%', 'off', 'CPU-hour', 'token', '==', '!=', '-', '#', 'PRIORITY', 'DISCOUNT_CLASS', '(((((', '\\"'];

function mutate(r: Rng, s: string): string {
  const i = r.int(s.length + 1);
  switch (r.int(5)) {
    case 0: return s.slice(0, i) + s.slice(i + 1 + r.int(5));
    case 1: return s.slice(0, i) + r.pick(PIECES) + s.slice(i);
    case 2: return s.slice(0, i) + ALPHABET[r.int(ALPHABET.length)] + s.slice(i + 1);
    case 3: return s.slice(0, i) + s.slice(r.int(s.length), r.int(s.length)) + s.slice(i);
    default: return s.slice(0, i);
  }
}

const show = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);

function check(text: string, label: string): void {
  let res;
  try {
    res = parsePolicy(text);
  } catch (err) {
    assert.fail(`${label}: parsePolicy threw ${String(err)} on ${show(text)}`);
  }
  if (!res.ok) {
    assert.ok(res.errors.length > 0, label);
    for (const e of res.errors) {
      assert.ok(e.line >= 1 && e.column >= 1 && typeof e.message === 'string' && e.message.length > 0, `${label}: ${JSON.stringify(e)}`);
    }
    return;
  }
  try {
    compilePolicy(res.policy);
  } catch (err) {
    assert.ok(err instanceof PolicyCompileError, `${label}: compile threw ${String(err)} on ${show(text)}`);
  }
  for (const form of ['dsl', 'natural'] as const) {
    const again = parsePolicy(formatPolicy(res.policy, form));
    assert.ok(again.ok, `${label}: ${form} form of ${show(text)} does not parse: ${JSON.stringify(!again.ok && again.errors)}`);
  }
}

test('fuzz: random character strings', { timeout: 120_000 }, () => {
  const r = prng(1);
  for (let n = 0; n < 3000; n++) {
    const len = r.int(80);
    check(Array.from({ length: len }, () => ALPHABET[r.int(ALPHABET.length)]).join(''), `chars #${n}`);
  }
});

test('fuzz: token soups of keywords and punctuation', { timeout: 120_000 }, () => {
  const r = prng(2);
  for (let n = 0; n < 3000; n++) check(Array.from({ length: r.int(30) }, () => r.pick(PIECES)).join(''), `soup #${n}`);
});

test('fuzz: mutations of valid policies in both languages', { timeout: 120_000 }, () => {
  const r = prng(3);
  const bases = [...SEEDS, ...Array.from({ length: 20 }, (_, i) => formatPolicy(genPolicy(prng(100 + i), 3), i % 2 === 0 ? 'dsl' : 'natural'))];
  for (let n = 0; n < 6000; n++) {
    let s = r.pick(bases);
    for (let k = 1 + r.int(4); k > 0; k--) s = mutate(r, s);
    check(s, `mutation #${n}`);
  }
});

test('fuzz: pathological inputs stay bounded', { timeout: 120_000 }, () => {
  check('('.repeat(10_000), 'parens');
  check('COST_PER_HOUR = ' + '('.repeat(5000) + '1' + ')'.repeat(5000), 'deep');
  check('COST_PER_HOUR = 1' + ' * 2'.repeat(20_000), 'long expr');
  check('When the event is ' + 'x '.repeat(20_000) + ', then the cost per hour is 1.', 'long value');
  check('"'.repeat(10_001), 'quotes');
  check('\n'.repeat(50_000), 'blank');
  assert.equal(parsePolicy('x'.repeat(1_000_001)).ok, false);
});
