/**
 * Property tests of the pricing core over seeded random policies and usage.
 * Each property names its seed in failures so a case can be replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../src/pricing/compile.js';
import { formatPolicy } from '../src/pricing/format.js';
import { parsePolicy } from '../src/pricing/parse.js';
import { loadPolicy } from '../src/pricing/load.js';
import { ratePeriod } from '../src/pricing/rate.js';
import type { RatingInput, UsageInput } from '../src/pricing/facts.js';
import type { Policy } from '../src/pricing/ast.js';
import { genPolicy, prng, decimalText, type Rng } from './pricing-gen.js';

const T0 = Date.parse('2026-11-01T00:00:00Z');
const H = 3600_000;
const NOV = { start: new Date(T0), end: new Date('2026-12-01T00:00:00Z') };
const FLAVORS = ['m1.tiny', 'm1.small', 'BLADE Type 4'];

function genUsage(r: Rng, n: number): RatingInput {
  const usage: UsageInput[] = Array.from({ length: n }, () => {
    const h = r.int(24 * 30);
    return {
      windowStart: new Date(T0 + h * H), windowEnd: new Date(T0 + (h + 1) * H), resourceId: `vm-${r.int(6)}`, meter: 'instance', unit: 's',
      quantity: decimalText(r, 3600, 6), projectId: `p${r.int(3)}`, flavorName: r.pick(FLAVORS), vcpus: 1 + r.int(8), memoryMb: 512 * (1 + r.int(8)),
    };
  });
  const resources = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`vm-${i}`, { createdAt: new Date(T0 - r.int(500) * H), pool: `az${i % 2}`, billingMode: r.pick(['on-demand', 'dynamic'] as const) }]));
  const pools = { az0: Array.from({ length: 40 }, () => ({ at: new Date(T0 + r.int(24 * 30) * H), free: `0.${r.int(100)}` })), az1: [{ at: new Date(T0), free: '0.5' }] };
  const accounts = { p0: { clientType: 'Platinum', serviceLevel: 'Platinum' }, p1: { clientType: 'Gold' } };
  return { usage, resources, pools, accounts, events: [{ at: new Date(T0 + 5 * H), projectId: 'p0', event: 'ONE_OFF SERVICE 1', resourceType: 'BLADE Type 4' }] };
}

const DYNAMIC_POLICY = `EVENT = "VM Assignment", RESOURCE_TYPE = "m1.tiny", COST_PER_HOUR = 0.0137
EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0213, COST_PER_GB_HOUR = 0.00071
1 CPU-hour is 0.3 tokens.
BILLING_MODE = "dynamic", POOL_FREE >= 0.8, DYNAMIC_FACTOR = 0.35
BILLING_MODE = "dynamic", POOL = "az0", DYNAMIC_FACTOR = CURVE(0: 1, 0.3: 0.9, 0.7: 0.55, 1: 0.4)
BILLING_MODE = "dynamic", HOUR_OF_DAY >= 20, DYNAMIC_FACTOR = 0.5, PRIORITY = 2
BILLING_MODE = "dynamic", HOUR_OF_DAY < 6, DYNAMIC_FACTOR = 0.45, PRIORITY = 2
`;
const RATES = [{ from: new Date(0), perToken: '0.0317' }];

test('property: a dynamic line never exceeds its on-demand twin, in every interval', () => {
  const policy = loadPolicy(DYNAMIC_POLICY);
  for (let seed = 1; seed <= 40; seed++) {
    const input = genUsage(prng(seed), 60);
    const dyn = ratePeriod(policy, input, NOV, RATES);
    const onDemand = ratePeriod(policy, { ...input, resources: Object.fromEntries(Object.entries(input.resources!).map(([k, v]) => [k, { ...v, billingMode: 'on-demand' as const }])) }, NOV, RATES);
    dyn.lines.forEach((l, i) => {
      assert.ok(l.amount.lte(l.onDemandAmount), `seed ${seed} line ${i}: ${l.amount} > ${l.onDemandAmount}`);
      assert.ok(l.amount.lte(onDemand.lines[i]!.amount), `seed ${seed} line ${i}`);
      assert.ok(onDemand.lines[i]!.amount.eq(onDemand.lines[i]!.onDemandAmount), `seed ${seed}`);
    });
    assert.ok(dyn.total.lte(onDemand.total));
  }
});

test('property: the sum of the lines is the total, for random policies and usage', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const r = prng(seed);
    const policy = compilePolicy(genPolicy(r, 12));
    const res = ratePeriod(policy, genUsage(r, 40), NOV, RATES);
    const sum = res.lines.reduce((a, l) => a.plus(l.amount), res.total.minus(res.total));
    assert.ok(sum.eq(res.total), `seed ${seed}`);
    for (const l of res.lines) assert.ok(l.amount.decimalPlaces() <= 6, `seed ${seed}: ${l.amount}`);
  }
});

test('property: splitting a period changes the total by at most the documented rounding', () => {
  const policy = loadPolicy(`${DYNAMIC_POLICY}\nEVENT = "Billing Period", RECURRING_COST_PER_MONTH = 29.99`);
  for (let seed = 1; seed <= 30; seed++) {
    const r = prng(seed);
    const input = { ...genUsage(r, 80), projects: ['p0', 'p1', 'p2'] };
    const whole = ratePeriod(policy, input, NOV, RATES);
    const cuts = [...new Set(Array.from({ length: 1 + r.int(5) }, () => T0 + (1 + r.int(24 * 30 - 1)) * H))].sort((a, b) => a - b);
    const bounds = [T0, ...cuts, NOV.end.getTime()];
    let parts = whole.total.minus(whole.total);
    for (let i = 0; i + 1 < bounds.length; i++) parts = parts.plus(ratePeriod(policy, input, { start: new Date(bounds[i]!), end: new Date(bounds[i + 1]!) }, RATES).total);
    // Usage lines are identical; each prorated fee line is rounded once per part (0.5e-6 each), per project.
    const bound = whole.total.minus(whole.total).plus('0.0000005').times(3 * bounds.length);
    assert.ok(parts.minus(whole.total).abs().lte(bound), `seed ${seed}: parts ${parts} whole ${whole.total}`);
  }
});

const strip = (p: Policy) => JSON.parse(JSON.stringify(p, (k, v) => (k === 'pos' || k === 'form' ? undefined : v)));
const shape = (p: Policy) => compilePolicy(p).rules.map((r) => ({ c: r.conditions, s: r.salience, sp: r.specificity, g: r.group, o: JSON.stringify(r.outcomes) }));

test('property: format -> parse is the identity; the DSL and natural forms compile identically', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const p = genPolicy(prng(seed), 6);
    const dsl = formatPolicy(p, 'dsl');
    const d = parsePolicy(dsl);
    assert.ok(d.ok, `seed ${seed}: ${dsl}\n${JSON.stringify(!d.ok && d.errors)}`);
    assert.deepEqual(strip(d.policy), strip(p), `seed ${seed}`);
    const natural = formatPolicy(p, 'natural');
    const n = parsePolicy(natural);
    assert.ok(n.ok, `seed ${seed}: ${natural}\n${JSON.stringify(!n.ok && n.errors)}`);
    assert.deepEqual(shape(n.policy), shape(p), `seed ${seed}: ${natural}`);
    assert.equal(formatPolicy(n.policy, 'natural'), natural, `seed ${seed}`);
  }
});
