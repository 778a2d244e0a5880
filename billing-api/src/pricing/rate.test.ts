import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { loadPolicy } from './load.js';
import { ratePeriod, type PolicySource, type RatingResult, type TokenRate } from './rate.js';
import type { RatingInput, UsageInput } from './facts.js';
import { quote } from './quote.js';
import { settleResource } from './settle.js';
import { DEFAULT_POLICY_TEXT } from './default-policy.js';
import { DEFAULT_POLICY, rateLine } from '../rating.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const H = 3600_000;
const at = (h: number) => new Date(T0 + h * H);
const NOV = { start: at(0), end: new Date('2026-12-01T00:00:00Z') };

/** A usage record starting `h` hours after 2026-11-01T00:00Z. */
export function rec(h: number, o: Partial<UsageInput> = {}): UsageInput {
  return {
    windowStart: at(h), windowEnd: at(h + 1), resourceId: 'vm-1', meter: 'instance', unit: 's', quantity: '3600',
    projectId: 'p1', flavorName: 'm1.small', vcpus: 2, memoryMb: 2048, ...o,
  };
}

function rate(policy: string | PolicySource, input: Partial<RatingInput>, rates: TokenRate[] = [], period = NOV): RatingResult {
  const src = typeof policy === 'string' ? loadPolicy(policy) : policy;
  return ratePeriod(src, { usage: [], ...input }, period, rates);
}
const amounts = (r: RatingResult) => r.lines.map((l) => `${l.kind}:${l.amount.toFixed()}`);

const PLATINUM = { p1: { clientType: 'Platinum', serviceLevel: 'Platinum' } };
const SEED = `EVENT = "VM Assignment", CLIENT_TYPE = "Platinum", RESOURCE_TYPE = "BLADE Type 4", RESOURCE_AGE > 240 * 60 * 60 (seconds), SERVICE_LEVEL = "Platinum", COST_PER_SECOND = 0.0002 (Euros)
EVENT = "ONE_OFF SERVICE 1", RESOURCE_TYPE = "BLADE Type 4", ONE_OFF_COST = 1`;

test('seed 002: a Platinum client pays 0.0002 EUR a second for an old BLADE Type 4, and 1 for the one-off service', () => {
  const blade = rec(0, { flavorName: 'BLADE Type 4' });
  const resources = { 'vm-1': { createdAt: new Date(T0 - 241 * H) } };
  const r = rate(SEED, { usage: [blade], events: [{ at: at(0.5), projectId: 'p1', event: 'ONE_OFF SERVICE 1', resourceType: 'BLADE Type 4' }], accounts: PLATINUM, resources });
  assert.deepEqual(amounts(r), ['usage:0.72', 'one-off:1']);
  assert.equal(r.totalText, '1.7200');
  const ex = r.lines[0]!.explanation;
  assert.deepEqual(ex.rates, [{ key: 'COST_PER_SECOND', rate: '0.0002', quantity: '3600', unit: 's', amount: '0.72' }]);
  assert.deepEqual(ex.rules.map((x) => x.line), [1]);
  assert.equal(ex.facts['RESOURCE_AGE'], String(242 * 3600));
  // Age exactly 240 h at the window's end is not "> 240 h": unpriced, and said so.
  const young = rate(SEED, { usage: [blade], accounts: PLATINUM, resources: { 'vm-1': { createdAt: new Date(T0 - 239 * H) } } });
  assert.deepEqual(amounts(young), ['usage:0']);
  assert.deepEqual(young.lines[0]!.explanation.conversions, ['no rule priced this usage: 0']);
  // A Gold client is not Platinum.
  assert.deepEqual(amounts(rate(SEED, { usage: [blade], accounts: { p1: { clientType: 'Gold', serviceLevel: 'Platinum' } }, resources })), ['usage:0']);
});

// Hand-computed: one record per case unless stated.
const CHARGES: { name: string; policy: string; usage: UsageInput[]; want: string[] }[] = [
  { name: 'per second', policy: 'COST_PER_SECOND = 0.0001', usage: [rec(0, { quantity: '1800.5' })], want: ['usage:0.18005'] },
  { name: 'per hour', policy: 'COST_PER_HOUR = 0.04', usage: [rec(0, { quantity: '5400', windowEnd: at(2) })], want: ['usage:0.06'] },
  { name: 'per CPU-hour', policy: 'COST_PER_CPU_HOUR = 0.02', usage: [rec(0, { quantity: '1800', vcpus: 3 })], want: ['usage:0.03'] },
  { name: 'per GB-hour of memory', policy: 'COST_PER_GB_HOUR = 0.01', usage: [rec(0)], want: ['usage:0.02'] },
  { name: 'per GB-hour of a volume', policy: 'EVENT = "Volume Assignment", COST_PER_GB_HOUR = 0.0001', usage: [rec(0, { meter: 'volume.size', unit: 'GB', quantity: '100' })], want: ['usage:0.01'] },
  { name: 'per unit', policy: 'EVENT = "Floating IP Assignment", COST_PER_UNIT = 0.5', usage: [rec(0, { meter: 'ip.floating', unit: 'ip', quantity: '2' })], want: ['usage:1'] },
  { name: 'half-even rounding of a line', policy: 'COST_PER_SECOND = 0.0000005', usage: [rec(0, { quantity: '1' }), rec(1, { quantity: '3' })], want: ['usage:0', 'usage:0.000002'] },
  { name: 'per-second billing with a minimum', policy: 'COST_PER_SECOND = 0.001, MINIMUM_SECONDS = 1 (min)', usage: [rec(0, { quantity: '10' })], want: ['usage:0.01', 'minimum-time:0.05'] },
  { name: 'minimum already reached', policy: 'COST_PER_SECOND = 0.001, MINIMUM_SECONDS = 60', usage: [rec(0, { quantity: '30' }), rec(1, { quantity: '30' })], want: ['usage:0.03', 'usage:0.03'] },
  { name: 'graduated tiers over the period', policy: 'COST_PER_HOUR = GRADUATED(0: 0.10, 2: 0.05)', usage: [rec(0), rec(1), rec(2, { quantity: '1800' })], want: ['usage:0.1', 'usage:0.1', 'usage:0.025'] },
  { name: 'graduated tier boundary inside a line', policy: 'COST_PER_HOUR = GRADUATED(0: 0.10, 1.5: 0.05)', usage: [rec(0), rec(1)], want: ['usage:0.1', 'usage:0.075'] },
  { name: 'volume tiers: the period total picks one price for all', policy: 'COST_PER_HOUR = VOLUME(0: 0.10, 2: 0.05)', usage: [rec(0), rec(1), rec(2)], want: ['usage:0.05', 'usage:0.05', 'usage:0.05'] },
  { name: 'volume tiers: exactly at a threshold stays below it', policy: 'COST_PER_HOUR = VOLUME(0: 0.10, 2: 0.05)', usage: [rec(0), rec(1)], want: ['usage:0.1', 'usage:0.1'] },
  { name: 'discount percent over a CPU-hour threshold (seed: over 20 CPU-hours, 20 % off)', policy: 'COST_PER_CPU_HOUR = 0.02\nOver 20 CPU-hours, 20 % off.', usage: Array.from({ length: 11 }, (_, h) => rec(h)), want: [...Array(11).fill('usage:0.04'), 'discount:-0.088'] },
  { name: 'no discount at exactly the threshold', policy: 'COST_PER_CPU_HOUR = 0.02\nOver 20 CPU-hours, 20 % off.', usage: Array.from({ length: 10 }, (_, h) => rec(h)), want: Array(10).fill('usage:0.04') },
  { name: 'discount amount never below zero', policy: 'COST_PER_HOUR = 0.04\nEVENT = "Billing Period", DISCOUNT_AMOUNT = 1', usage: [rec(0)], want: ['usage:0.04', 'discount:-0.04'] },
  { name: 'percent then amount', policy: 'COST_PER_HOUR = 10\nEVENT = "Billing Period", DISCOUNT_PERCENT = 10, DISCOUNT_AMOUNT = 1', usage: [rec(0)], want: ['usage:10', 'discount:-1', 'discount:-1'] },
  { name: 'minimum charge tops up', policy: 'COST_PER_HOUR = 0.44\nEVENT = "Billing Period", MINIMUM_CHARGE = 5', usage: [rec(0)], want: ['usage:0.44', 'minimum-charge:4.56'] },
  { name: 'minimum charge already reached', policy: 'COST_PER_HOUR = 6\nEVENT = "Billing Period", MINIMUM_CHARGE = 5', usage: [rec(0)], want: ['usage:6'] },
  { name: 'monthly fee prorated (the whole of November)', policy: 'EVENT = "Billing Period", RECURRING_COST_PER_MONTH = 30', usage: [rec(0)], want: ['usage:0', 'recurring:30'] },
];

for (const c of CHARGES) {
  test(`charge kind: ${c.name}`, () => {
    const r = rate(c.policy, { usage: c.usage });
    assert.deepEqual(amounts(r), c.want);
    assert.equal(r.total.toFixed(), r.lines.reduce((a, l) => a.plus(l.amount), r.total.minus(r.total)).toFixed());
  });
}

test('monthly fee prorated across two months by seconds', () => {
  const r = rate('EVENT = "Billing Period", RECURRING_COST_PER_MONTH = 30', { projects: ['p1'] }, [], { start: new Date('2026-11-16T00:00:00Z'), end: new Date('2026-12-16T00:00:00Z') });
  // 15/30 x 30 + 15/31 x 30 = 15 + 14.516129032...
  assert.deepEqual(amounts(r), ['recurring:29.516129']);
});

test('tokens: usage -> tokens -> money with dated rates', () => {
  const rates = [{ from: new Date('2026-01-01T00:00:00Z'), perToken: '0.05' }, { from: at(24 * 14), perToken: '0.06' }];
  const r = rate('1 CPU-hour is 1 token.', { usage: [rec(24 * 14 - 1), rec(24 * 14)] }, rates);
  assert.deepEqual(amounts(r), ['usage:0.1', 'usage:0.12']);
  assert.match(r.lines[1]!.explanation.conversions[0]!, /2 CPU-h x 1 tokens\/CPU-h = 2 tokens; x 0.06 EUR\/token \(rate from 2026-11-15/);
  assert.throws(() => rate('1 CPU-hour is 1 token.', { usage: [rec(0)] }, []), (e: unknown) => e instanceof ValidationError && e.field === 'rates');
});

const DYN = `EVENT = "VM Assignment", COST_PER_HOUR = 0.04
BILLING_MODE = "dynamic", POOL_FREE >= 50 (%), DYNAMIC_FACTOR = 0.6
BILLING_MODE = "dynamic", HOUR_OF_DAY >= 20, DYNAMIC_FACTOR = 0.5, PRIORITY = 1`;

test('dynamic mode: thresholds on pool capacity, a night schedule, on-demand untouched', () => {
  const resources = { 'vm-1': { billingMode: 'dynamic' as const, pool: 'az1' }, 'vm-2': { pool: 'az1' } };
  const pools = { az1: [{ at: at(0), free: '0.7' }, { at: at(1), free: '0.3' }] };
  const usage = [rec(0), rec(1), rec(22), rec(0, { resourceId: 'vm-2' })];
  const r = rate(DYN, { usage, resources, pools });
  assert.deepEqual(amounts(r), ['usage:0.024', 'usage:0.04', 'usage:0.04', 'usage:0.02']);
  assert.deepEqual(r.lines.map((l) => l.onDemandAmount.toFixed()), ['0.04', '0.04', '0.04', '0.04']);
  assert.match(r.lines[2]!.explanation.conversions.at(-1)!, /no DYNAMIC_FACTOR rule matched|dynamic factor 1/);
});

test('dynamic mode: a curve over free capacity, linear between points', () => {
  const policy = 'COST_PER_HOUR = 0.04\nBILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 0.5: 0.8, 1: 0.5)';
  const resources = { 'vm-1': { billingMode: 'dynamic' as const, pool: 'az1' } };
  const cases: [string, string][] = [['0', '0.04'], ['0.25', '0.036'], ['0.5', '0.032'], ['0.75', '0.026'], ['1', '0.02']];
  for (const [free, want] of cases) {
    const r = rate(policy, { usage: [rec(0)], resources, pools: { az1: [{ at: at(0), free }] } });
    assert.equal(r.lines[0]!.amount.toFixed(), want, `free ${free}`);
  }
  // Unknown capacity: the on-demand price, explained.
  const none = rate(policy, { usage: [rec(0)], resources });
  assert.equal(none.lines[0]!.amount.toFixed(), '0.04');
  assert.match(none.lines[0]!.explanation.conversions.at(-1)!, /capacity unknown/);
});

test('policy versions: usage is rated by the version in force at its time', () => {
  const v1 = loadPolicy('COST_PER_HOUR = 0.01');
  const v2 = loadPolicy('COST_PER_HOUR = 0.02');
  const versions = [{ effectiveFrom: at(0), policy: v1, label: 'v1' }, { effectiveFrom: at(24 * 9), policy: v2, label: 'v2' }];
  const r = ratePeriod(versions, { usage: [rec(24 * 9 - 1), rec(24 * 9)] }, NOV);
  assert.deepEqual(amounts(r), ['usage:0.01', 'usage:0.02']);
  assert.deepEqual(r.lines.map((l) => l.explanation.policyVersion), ['v1', 'v2']);
  assert.throws(() => ratePeriod(versions, { usage: [rec(-1)] }, { start: at(-1), end: at(1) }), /no policy version is in force/);
});

test('derived facts price: a Platinum client gets discount class Gold, Gold gets 10 % off', () => {
  const policy = 'COST_PER_HOUR = 1\nWhen the client type is Platinum, then the discount class is Gold.\nWhen the discount class is Gold and the event is Billing Period, then 10 % off.';
  assert.deepEqual(amounts(rate(policy, { usage: [rec(0)], accounts: PLATINUM })), ['usage:1', 'discount:-0.1']);
  assert.deepEqual(amounts(rate(policy, { usage: [rec(0)] })), ['usage:1']);
});

test('the default DSL policy prices every line exactly as the skeleton price list', () => {
  const policy = loadPolicy(DEFAULT_POLICY_TEXT);
  const flavors = ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge', 'custom.gpu', 'other'];
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 400; i++) {
    const flavor = flavors[rnd(flavors.length)]!;
    const vcpus = rnd(5) === 0 ? null : rnd(16) + 1;
    const seconds = `${rnd(86400)}.${String(rnd(1_000_000)).padStart(6, '0')}`;
    const old = rateLine(DEFAULT_POLICY, { resourceId: 'r', flavorName: flavor, vcpus, seconds });
    const r = ratePeriod(policy, { usage: [rec(0, { flavorName: flavor, vcpus, quantity: seconds, windowEnd: at(24) })] }, NOV);
    assert.equal(r.lines[0]!.amount.toFixed(6), old.amount.toFixed(6), `${flavor} ${vcpus} ${seconds}`);
  }
});

test('quote: line by line, an id and a 15-minute expiry', () => {
  const q = quote(loadPolicy(DEFAULT_POLICY_TEXT), { projectId: 'p1', items: [{ resourceType: 'm1.small', count: 2 }, { resourceType: 'x', vcpus: 3 }], durationSeconds: '5400' }, { now: at(0), id: 'q-1' });
  assert.equal(q.id, 'q-1');
  assert.equal(q.expiresAt.toISOString(), '2026-11-01T00:15:00.000Z');
  // m1.small: 0.02 x 1.5 h x 2 = 0.06; x with 3 vCPUs: 0.02 x 3 x 1.5 = 0.09.
  assert.equal(q.total.toFixed(), '0.15');
  assert.equal(q.lines.length, 6);
  assert.throws(() => quote(loadPolicy(DEFAULT_POLICY_TEXT), { projectId: 'p', items: [], durationSeconds: '0' }, { now: at(0) }), /durationSeconds/);
});

test('bad input is refused naming the field', () => {
  const p = 'COST_PER_HOUR = 1';
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e instanceof ValidationError ? e.field : String(e);
    }
    return 'no error';
  };
  assert.equal(field(() => rate(p, { usage: [rec(0, { quantity: '-1' })] })), 'usage[0].quantity');
  assert.equal(field(() => rate(p, { usage: [rec(0, { quantity: '1e3' })] })), 'usage[0].quantity');
  assert.equal(field(() => rate(p, { usage: [rec(0, { windowEnd: at(0) })] })), 'usage[0].windowEnd');
  assert.equal(field(() => rate(p, { usage: [rec(0)], resources: { 'vm-1': { pool: 'a' } }, pools: { a: [{ at: at(0), free: '1.5' }] } })), 'pools.a[0].free');
  assert.equal(field(() => rate(p, {}, [], { start: at(1), end: at(1) })), 'period.end');
  assert.equal(field(() => rate(p, { usage: [rec(0, { windowStart: '2026-11-01' as unknown as Date })] })), 'usage[0].windowStart');
  assert.equal(field(() => rate(p, { events: [{ at: new Date('nope'), projectId: 'p1', event: 'x' }] })), 'events[0].at');
  const usd = loadPolicy('COST_PER_HOUR = 1', { currency: 'USD' });
  assert.equal(field(() => ratePeriod([{ effectiveFrom: at(0), policy: loadPolicy(p), label: 'a' }, { effectiveFrom: at(5), policy: usd, label: 'b' }], { usage: [] }, NOV)), 'policy');
});

test('dynamic mode settles on release as the sum of cheap and scarce periods, never above on-demand', () => {
  const resources = { 'vm-1': { billingMode: 'dynamic' as const, pool: 'az1' } };
  const pools = { az1: [{ at: at(0), free: '0.9' }, { at: at(2), free: '0.1' }] };
  // Two cheap hours (factor 0.6) then two scarce hours (factor 1): 2 x 0.024 + 2 x 0.04.
  const r = rate(DYN, { usage: [rec(0), rec(1), rec(2), rec(3)], resources, pools });
  const s = settleResource(r, 'vm-1');
  assert.equal(s.amount.toFixed(), '0.128');
  assert.equal(s.onDemandAmount.toFixed(), '0.16');
  assert.equal(s.saving.toFixed(), '0.032');
  assert.equal(s.lines, 4);
});
