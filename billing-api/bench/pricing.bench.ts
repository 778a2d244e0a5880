/**
 * Pricing bench: usage records rated per second with a 100-rule policy on one core,
 * through our compiled engine (full rating with explanations, and matching alone),
 * and the same records and pricing rules through json-rules-engine for comparison.
 */
import { Decimal } from 'decimal.js';
import { Engine } from 'json-rules-engine';
import { bench, benchHeader } from '@tally/common';
import { infer, loadPolicy, ratePeriod, type Facts, type UsageInput } from '@tally/billing-api';

benchHeader('@tally/billing-api pricing', 'npm run bench -w @tally/billing-api');

const FLAVORS = 40;
const lines: string[] = [];
for (let k = 0; k < FLAVORS; k++) lines.push(`EVENT = "VM Assignment", RESOURCE_TYPE = "flavor-${k}", COST_PER_HOUR = 0.0${10 + k}`);
for (let k = 0; k < FLAVORS; k++) {
  lines.push(`EVENT = "VM Assignment", RESOURCE_TYPE = "flavor-${k}", CLIENT_TYPE = "Platinum", RESOURCE_AGE > 240 * 60 * 60 (seconds), COST_PER_SECOND = 0.00000${k + 10}, PRIORITY = 1`);
}
for (let j = 0; j < 10; j++) lines.push(`When the billing mode is dynamic and the region is r${j} and the hour of day is at least 20, then the dynamic factor is 0.${50 + j}.`);
for (let j = 0; j < 9; j++) lines.push(`CLIENT_TYPE = "Client ${j}", DISCOUNT_CLASS = "Class ${j}"`);
lines.push('EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.02');
const POLICY_TEXT = lines.join('\n');
const policy = loadPolicy(POLICY_TEXT);
if (policy.rules.length !== 100) throw new Error(`expected 100 rules, got ${policy.rules.length}`);

const N = 20_000;
const T0 = Date.parse('2026-11-01T00:00:00Z');
const CLIENTS = ['Platinum', 'Gold', 'Client 3', 'Silver'];
const usage: UsageInput[] = Array.from({ length: N }, (_, i) => ({
  windowStart: new Date(T0 + (i % 720) * 3600_000), windowEnd: new Date(T0 + ((i % 720) + 1) * 3600_000),
  resourceId: `vm-${i % 500}`, meter: 'instance', unit: 's', quantity: `${3000 + (i % 600)}.${String(i % 1000).padStart(3, '0')}`,
  projectId: `p${i % 40}`, flavorName: `flavor-${i % (FLAVORS + 5)}`, vcpus: 1 + (i % 8), memoryMb: 2048,
}));
const accounts = Object.fromEntries(Array.from({ length: 40 }, (_, p) => [`p${p}`, { clientType: CLIENTS[p % CLIENTS.length]! }]));
const resources = Object.fromEntries(Array.from({ length: 500 }, (_, r) => [`vm-${r}`, { createdAt: new Date(T0 - (r % 20) * 86400_000), region: `r${r % 12}`, billingMode: r % 3 === 0 ? 'dynamic' as const : 'on-demand' as const }]));
const input = { usage, accounts, resources };
const period = { start: new Date(T0), end: new Date(T0 + 30 * 86400_000) };

const ours = ratePeriod(policy, input, period);
await bench('tally ratePeriod: 100-rule policy, full rating + explanations', N, () => ratePeriod(policy, input, period), 3);

function factsOf(u: UsageInput): Facts {
  const r = resources[u.resourceId]!;
  return {
    EVENT: 'VM Assignment', RESOURCE_TYPE: u.flavorName!, CLIENT_TYPE: accounts[u.projectId!]!.clientType, REGION: r.region, BILLING_MODE: r.billingMode,
    HOUR_OF_DAY: new Decimal(u.windowStart.getUTCHours()), RESOURCE_AGE: new Decimal(u.windowEnd.getTime() - r.createdAt.getTime()).div(1000),
  };
}
const factSets = usage.map(factsOf);
await bench('tally infer only: 100-rule policy, matching + conflict resolution', N, () => {
  for (const f of factSets) infer(policy, { ...f });
}, 3);

// The same pricing rules in json-rules-engine: one rule per compiled rule that sets a usage fee,
// priority in our conflict order (json-rules-engine fires higher priority first).
const engine = new Engine([], { allowUndefinedFacts: true });
const priced = policy.rules.filter((r) => r.outcomes.some((o) => o.key.startsWith('COST_PER_')));
priced.forEach((r, i) => {
  const all = r.conditions.map((c) => ({
    fact: c.key,
    operator: c.op === '=' ? 'equal' : c.op === '>' ? 'greaterThan' : c.op === '>=' ? 'greaterThanInclusive' : c.op === '<' ? 'lessThan' : c.op === '<=' ? 'lessThanInclusive' : 'notEqual',
    value: c.value.startsWith('"') ? (JSON.parse(c.value) as string) : Number(c.value),
  }));
  const o = r.outcomes.find((x) => x.key.startsWith('COST_PER_'))!;
  engine.addRule({ conditions: { all }, priority: priced.length - i, event: { type: 'price', params: { key: o.key, value: o.value.kind === 'number' ? o.value.value.toFixed() : '0' } } });
});
const plain = usage.map((u) => {
  const r = resources[u.resourceId]!;
  return { EVENT: 'VM Assignment', RESOURCE_TYPE: u.flavorName, CLIENT_TYPE: accounts[u.projectId!]!.clientType, RESOURCE_AGE: (u.windowEnd.getTime() - r.createdAt.getTime()) / 1000 };
});
async function viaJre(): Promise<Decimal> {
  let total = new Decimal(0);
  for (let i = 0; i < N; i++) {
    const { events } = await engine.run(plain[i]!);
    const first = events[0];
    if (!first) continue;
    const { key, value } = first.params as { key: string; value: string };
    const s = new Decimal(usage[i]!.quantity);
    const amount = key === 'COST_PER_SECOND' ? s.times(value) : key === 'COST_PER_HOUR' ? s.times(value).div(3600) : s.times(usage[i]!.vcpus!).times(value).div(3600);
    total = total.plus(amount.toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN));
  }
  return total;
}
const jreTotal = await viaJre();
await bench('json-rules-engine 7: same records, same 81 pricing rules, decimal amounts', N, viaJre, 3);
const onDemandOurs = ours.lines.reduce((a, l) => a.plus(l.onDemandAmount), new Decimal(0));
process.stdout.write(`# check: on-demand totals agree: tally ${onDemandOurs.toFixed()} json-rules-engine ${jreTotal.toFixed()}\n`);
