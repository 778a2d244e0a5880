import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, type ParseResult } from './parse.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { formatPolicy } from './format.js';
import type { Policy } from './ast.js';
import { Money } from '../rating.js';

export const SEED_DSL_1 = 'EVENT = "VM Assignment", CLIENT_TYPE = "Platinum", RESOURCE_TYPE = "BLADE Type 4", RESOURCE_AGE > 240 * 60 * 60 (seconds), SERVICE_LEVEL = "Platinum", COST_PER_SECOND = 0.0002 (Euros)';
export const SEED_DSL_2 = 'EVENT = "ONE_OFF SERVICE 1", RESOURCE_TYPE = "BLADE Type 4", ONE_OFF_COST = 1';

function ok(r: ParseResult): Policy {
  if (!r.ok) assert.fail(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.policy;
}

function errors(text: string) {
  const r = parsePolicy(text);
  assert.equal(r.ok, false, `expected errors for ${JSON.stringify(text)}`);
  return r.ok ? [] : r.errors;
}

/** Compiled rules as comparable data: everything but positions and functions. */
export function shape(c: CompiledPolicy) {
  return c.rules.map((r) => ({ conditions: r.conditions, salience: r.salience, specificity: r.specificity, group: r.group, reads: r.reads, outcomes: JSON.stringify(r.outcomes) }));
}

const strip = (p: Policy) => JSON.parse(JSON.stringify(p, (k, v) => (k === 'pos' || k === 'form' ? undefined : v)));

test('the two seed rules parse exactly as written', () => {
  const p = ok(parsePolicy(`${SEED_DSL_1}\n${SEED_DSL_2}\n`));
  assert.equal(p.rules.length, 2);
  const [a, b] = p.rules;
  assert.deepEqual(a!.conditions.map((c) => [c.key, c.op]), [['EVENT', '='], ['CLIENT_TYPE', '='], ['RESOURCE_TYPE', '='], ['RESOURCE_AGE', '>'], ['SERVICE_LEVEL', '=']]);
  assert.deepEqual(a!.outcomes.map((o) => o.key), ['COST_PER_SECOND']);
  assert.deepEqual(a!.conditions[3]!.value, { kind: 'number', unit: 'seconds', expr: { kind: 'bin', op: '*', left: { kind: 'bin', op: '*', left: { kind: 'num', text: '240' }, right: { kind: 'num', text: '60' } }, right: { kind: 'num', text: '60' } } });
  assert.deepEqual(b!.outcomes, [{ key: 'ONE_OFF_COST', value: { kind: 'number', expr: { kind: 'num', text: '1' } }, pos: { line: 2, column: 62 } }]);
  const c = compilePolicy(p);
  const rule = c.rules.find((r) => r.index === 0)!;
  assert.deepEqual(rule.conditions[3], { key: 'RESOURCE_AGE', op: '>', value: '864000' });
  const facts = (age: string) => ({ EVENT: 'VM Assignment', CLIENT_TYPE: 'Platinum', RESOURCE_TYPE: 'BLADE Type 4', SERVICE_LEVEL: 'Platinum', RESOURCE_AGE: new Money(age) });
  assert.equal(rule.test(facts('864000')), false);
  assert.equal(rule.test(facts('864000.5')), true);
  assert.equal(rule.test({ ...facts('900000'), SERVICE_LEVEL: 'Gold' }), false);
});

test('a rule may be one line or a paragraph (a trailing comma continues it)', () => {
  const p = ok(parsePolicy(`EVENT = "VM Assignment",\n  RESOURCE_TYPE = "m1.tiny",\n  COST_PER_HOUR = 0.01\n\nEVENT = "VM Assignment", COST_PER_HOUR = 0.02.\n`));
  assert.equal(p.rules.length, 2);
  assert.equal(p.rules[0]!.conditions.length, 2);
  const q = ok(parsePolicy('When the event is VM Assignment\n and the resource type is m1.tiny,\n then the cost per hour is 0.01.'));
  assert.equal(q.rules.length, 1);
});

test('the natural seed sentences compile to the same rules as their DSL forms', () => {
  const pairs: [string, string][] = [
    ['When the event is VM Assignment and the client\'s type is Platinum, then the cost per second is 0.0002 euros.', 'EVENT = "VM Assignment", CLIENT_TYPE = "Platinum", COST_PER_SECOND = 0.0002 (Euros)'],
    ['1 CPU-hour is 1 token.', 'TOKENS_PER_CPU_HOUR = 1'],
    ['Over 20 CPU-hours, 20 % off.', 'PERIOD_CPU_HOURS > 20, DISCOUNT_PERCENT = 20'],
    ['If the resource age is at least 10 days and the billing mode is dynamic, then the dynamic factor is curve (0: 1, 0.5: 0.8, 1: 0.5) and the priority is 3.', 'RESOURCE_AGE >= 10 (days), BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 0.5: 0.8, 1: 0.5), PRIORITY = 3'],
    ['When the client type is Platinum, then the discount class is Gold.', 'CLIENT_TYPE = "Platinum", DISCOUNT_CLASS = "Gold"'],
    ['When the discount class is Gold, then 10 percent off.', 'DISCOUNT_CLASS == "Gold", DISCOUNT_PERCENT = 10 (%)'],
    ['The cost per hour is graduated (0: 0.05, 100: 0.04) EUR.', 'COST_PER_HOUR = GRADUATED(0: 0.05, 100: 0.04) (EUR)'],
  ];
  for (const [natural, dsl] of pairs) {
    const n = compilePolicy(ok(parsePolicy(natural)));
    const d = compilePolicy(ok(parsePolicy(dsl)));
    assert.deepEqual(shape(n).map((s) => s.outcomes), shape(d).map((s) => s.outcomes), natural);
    assert.deepEqual(shape(n).map((s) => [s.salience, s.specificity, s.reads]), shape(d).map((s) => [s.salience, s.specificity, s.reads]), natural);
  }
});

test('one policy may mix both languages', () => {
  const p = ok(parsePolicy(`${SEED_DSL_1}\nOver 20 CPU-hours, 20 % off. 1 CPU-hour is 1 token.\n${SEED_DSL_2}\n`));
  assert.deepEqual(p.rules.map((r) => r.form), ['dsl', 'natural', 'natural', 'dsl']);
});

test('errors name the line, the column and what was expected', () => {
  const e = errors('EVENT = "VM Assignment", COST_PER_HOUR = 1\nEVENT = "x" COST_PER_HOUR = 1\n');
  assert.deepEqual(e.map((x) => [x.line, x.column, x.expected]), [[2, 13, ['","', 'end of line']]]);
  assert.equal(e[0]!.found, '"COST_PER_HOUR"');
  const n = errors('When the event is VM Assignment, the cost per hour is 1.');
  assert.equal(n[0]!.line, 1);
  assert.deepEqual(n[0]!.expected, ['"then"']);
  const s = errors('EVENT = "unterminated\n');
  assert.match(s[0]!.message, /unterminated string/);
});

test('unknown keys, phrases and units are errors, not no-ops', () => {
  assert.match(errors('EVENT = "x", COLOR = "red", COST_PER_HOUR = 1')[0]!.message, /unknown key "COLOR"/);
  const u = errors('EVENT = "x", COST_PER_HOUR = 1 (parsecs)')[0]!;
  assert.equal(u.column, 33);
  assert.match(u.message, /unknown unit "parsecs" for COST_PER_HOUR/);
  assert.match(errors('When the colour is red, then the cost per hour is 1.')[0]!.message, /unknown term/);
  assert.match(errors('RESOURCE_AGE > 5 (euros), COST_PER_HOUR = 1')[0]!.message, /unknown unit "euros" for RESOURCE_AGE/);
  assert.match(errors('EVENT = 5, COST_PER_HOUR = 1')[0]!.message, /EVENT takes a text value/);
  assert.match(errors('EVENT = "x", COST_PER_HOUR > 1')[0]!.message, /assigned with =, it cannot be tested/);
  assert.match(errors('EVENT = "x"')[0]!.message, /at least one outcome/);
  assert.match(errors('The event is x.')[0]!.message, /EVENT is a fact, it cannot be assigned/);
});

test('several errors are reported, one per bad statement', () => {
  const e = errors('FOO = 1\nEVENT = "x", COST_PER_HOUR = 1\nBAR = 2\nWhen the event is, then.\n');
  assert.deepEqual(e.map((x) => x.line), [1, 3, 4]);
});

const CORPUS = `${SEED_DSL_1}
${SEED_DSL_2}
When the event is VM Assignment and the client's type is Platinum, then the cost per second is 0.0002 euros.
1 CPU-hour is 1 token.
Over 20 CPU-hours, 20 % off.
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.tiny", COST_PER_HOUR = VOLUME(0: 0.05, 100: 0.04 - 0.01 / 2) (EUR), PRIORITY = -2, ACTIVATION_GROUP = "tiny"
BILLING_MODE = "dynamic", POOL_FREE >= 50 (%), HOUR_OF_DAY < 6, DYNAMIC_FACTOR = 0.5
CLIENT_TYPE != "say \\"hi\\" and then", DISCOUNT_CLASS = "not and then"
DISCOUNT_CLASS == "Gold", PERIOD_COST > (1 + 2) * 3, DISCOUNT_AMOUNT = 5, MINIMUM_CHARGE = 2, RECURRING_COST_PER_MONTH = 10
EVENT = "VM Assignment", MINIMUM_SECONDS = 1 (min), TOKENS_PER_GB_HOUR = 2 (tokens), COST_PER_UNIT = -(-1)
`;

test('format -> parse is the identity (DSL); the natural form compiles identically and is a fixed point', () => {
  const p = ok(parsePolicy(CORPUS));
  const dsl = formatPolicy(p, 'dsl');
  assert.deepEqual(strip(ok(parsePolicy(dsl))), strip(p));
  assert.equal(formatPolicy(ok(parsePolicy(dsl)), 'dsl'), dsl);
  const natural = formatPolicy(p, 'natural');
  const back = ok(parsePolicy(natural));
  assert.deepEqual(shape(compilePolicy(back)), shape(compilePolicy(p)));
  assert.equal(formatPolicy(back, 'natural'), natural);
  assert.deepEqual(strip(ok(parsePolicy(formatPolicy(back, 'dsl')))), strip(back));
});

test('a byte-order mark and Windows line ends are accepted', () => {
  const p = ok(parsePolicy('\uFEFFEVENT = "x", COST_PER_HOUR = 1\r\nCOST_PER_HOUR = 2\r\n'));
  assert.equal(p.rules.length, 2);
  assert.deepEqual(p.rules[0]!.pos, { line: 1, column: 1 });
});
