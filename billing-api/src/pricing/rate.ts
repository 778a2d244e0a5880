/**
 * `ratePeriod`: usage records, events and account facts of one billing period to
 * explained, exactly rounded lines. Pure: no clock, no IO.
 *
 * Rounding: each line's exact amount is rounded half-even to LINE_DECIMALS (6) once;
 * the total is the exact sum of the rounded lines (shown half-even to TOTAL_DECIMALS).
 * A dynamic line is round(exact on-demand amount x factor), factor <= 1, so it never
 * exceeds its on-demand twin round(exact on-demand amount).
 */
import { Decimal } from 'decimal.js';
import { ValidationError } from '@tally/common';
import { LINE_DECIMALS, Money, formatTotal, parseDecimal } from '../rating.js';
import type { CompiledPolicy, Facts } from './compile.js';
import { infer, type Inference } from './engine.js';
import { basesOf, basisValue, baseFacts, usageFacts, type Bases, type RatingInput, type UsageInput } from './facts.js';
import { periodLines, type ProjectTotals } from './period-charges.js';
import { LazyExplanation, type Explanation } from './explain.js';

export type { Explanation } from './explain.js';
import { BASIS, MISSING_BASIS, dynamicFactor, tierAmount } from './price.js';

/** A token price in the policy's currency, in force from `from` until the next rate. */
export interface TokenRate {
  from: Date;
  /** Decimal string: money per token. */
  perToken: string;
}

/** A policy version in force from `effectiveFrom` until the next version. */
export interface PolicyVersion {
  effectiveFrom: Date;
  policy: CompiledPolicy;
  /** Shown in explanations, e.g. `default v2`. */
  label: string;
}

/** One compiled policy, or its dated versions (usage is rated by the version in force at its window start). */
export type PolicySource = CompiledPolicy | readonly PolicyVersion[];

/** A billing period, [start, end). */
export interface RatingPeriod {
  start: Date;
  end: Date;
}

/** What kind of charge a line is. */
export type LineKind = 'usage' | 'one-off' | 'minimum-time' | 'recurring' | 'discount' | 'minimum-charge';

/** One rated line. `amount` is rounded to LINE_DECIMALS; `onDemandAmount` is what on-demand would cost. */
export interface PricedLine {
  kind: LineKind;
  projectId: string | null;
  resourceId: string | null;
  resourceType: string | null;
  event: string;
  start: Date;
  end: Date;
  amount: Decimal;
  onDemandAmount: Decimal;
  explanation: Explanation;
}

/** The result of rating a period. */
export interface RatingResult {
  currency: string;
  lines: PricedLine[];
  /** Exact sum of the lines. */
  total: Decimal;
  /** The total half-even to TOTAL_DECIMALS, as shown on a bill. */
  totalText: string;
}

/** Round a line amount (half-even, LINE_DECIMALS). */
export const roundLine = (d: Decimal): Decimal => d.toDecimalPlaces(LINE_DECIMALS, Decimal.ROUND_HALF_EVEN);

/** The version in force at `at`. */
export function versionAt(source: PolicySource, at: Date): { policy: CompiledPolicy; label: string | null } {
  if (!Array.isArray(source)) return { policy: source as CompiledPolicy, label: null };
  let found: PolicyVersion | undefined;
  for (const v of source as readonly PolicyVersion[]) if (v.effectiveFrom.getTime() <= at.getTime() && (!found || v.effectiveFrom >= found.effectiveFrom)) found = v;
  if (!found) throw new ValidationError('policy', `no policy version is in force at ${at.toISOString()}`);
  return { policy: found.policy, label: found.label };
}

function rateAt(rates: readonly TokenRate[], at: Date): TokenRate {
  let found: TokenRate | undefined;
  rates.forEach((r, i) => {
    parseDecimal(`rates[${i}].perToken`, r.perToken);
    if (r.from.getTime() <= at.getTime() && (!found || r.from >= found.from)) found = r;
  });
  if (!found) throw new ValidationError('rates', `no token rate is in force at ${at.toISOString()} (a rule converts usage to tokens)`);
  return found;
}

interface Item {
  kind: 'usage' | 'one-off';
  projectId: string | null;
  resourceId: string | null;
  resourceType: string | null;
  event: string;
  start: Date;
  end: Date;
  bases: Bases;
  facts: Facts;
  inf: Inference;
  label: string | null;
  source: () => Record<string, string>;
}

function collectItems(source: PolicySource, input: RatingInput, period: RatingPeriod): Item[] {
  const bad = input.usage.findIndex((u) => !(u.windowStart instanceof Date) || Number.isNaN(u.windowStart.getTime()));
  if (bad >= 0) throw new ValidationError(`usage[${bad}].windowStart`, 'must be a date');
  (input.events ?? []).forEach((e, i) => {
    if (!(e.at instanceof Date) || Number.isNaN(e.at.getTime())) throw new ValidationError(`events[${i}].at`, 'must be a date');
  });
  const inPeriod = (d: Date) => d.getTime() >= period.start.getTime() && d.getTime() < period.end.getTime();
  const firstSeen = new Map<string, Date>();
  for (const u of input.usage) {
    const f = firstSeen.get(u.resourceId);
    if (!f || u.windowStart < f) firstSeen.set(u.resourceId, u.windowStart);
  }
  const usage = input.usage.map((u, i) => ({ u, i })).filter(({ u }) => inPeriod(u.windowStart))
    .sort((a, b) => a.u.windowStart.getTime() - b.u.windowStart.getTime() || cmp(a.u.resourceId, b.u.resourceId) || cmp(a.u.meter, b.u.meter));
  const items: Item[] = usage.map(({ u, i }) => {
    const quantity = parseDecimal(`usage[${i}].quantity`, u.quantity);
    for (const f of ['windowStart', 'windowEnd'] as const) {
      if (!(u[f] instanceof Date) || Number.isNaN(u[f].getTime())) throw new ValidationError(`usage[${i}].${f}`, 'must be a date');
    }
    if (!(u.windowEnd.getTime() > u.windowStart.getTime())) throw new ValidationError(`usage[${i}].windowEnd`, 'must be after windowStart');
    const { policy, label } = versionAt(source, u.windowStart);
    const facts = usageFacts(input, u, quantity, firstSeen.get(u.resourceId)!);
    return {
      kind: 'usage', projectId: u.projectId, resourceId: u.resourceId, resourceType: u.flavorName, event: facts['EVENT'] as string,
      start: u.windowStart, end: u.windowEnd, bases: basesOf(u, quantity), facts, inf: infer(policy, facts), label, source: () => usageSource(u),
    };
  });
  (input.events ?? []).forEach((e, i) => {
    if (!inPeriod(e.at)) return;
    const quantity = parseDecimal(`events[${i}].quantity`, e.quantity ?? '1');
    const { policy, label } = versionAt(source, e.at);
    const facts = baseFacts(input, e.projectId, e.resourceId, e.at);
    facts['EVENT'] = e.event;
    facts['QUANTITY'] = quantity;
    if (e.resourceType !== undefined) facts['RESOURCE_TYPE'] = e.resourceType;
    const zero = new Money(0);
    const one = new Money(1);
    items.push({
      kind: 'one-off', projectId: e.projectId, resourceId: e.resourceId ?? null, resourceType: e.resourceType ?? null, event: e.event, start: e.at, end: e.at,
      bases: { seconds: { n: zero, d: one }, hours: { n: zero, d: one }, cpuHours: null, gbHours: null, units: { n: quantity, d: one } }, facts, inf: infer(policy, facts), label,
      source: () => ({ event: e.event, at: e.at.toISOString(), quantity: quantity.toFixed() }),
    });
  });
  return items;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function usageSource(u: UsageInput): Record<string, string> {
  return { resourceId: u.resourceId, meter: u.meter, windowStart: u.windowStart.toISOString(), windowEnd: u.windowEnd.toISOString(), quantity: u.quantity, unit: u.unit };
}

/**
 * Rate one billing period. Usage records whose window starts in the period and events
 * in it are rated by the policy version in force at their time; period rules
 * (EVENT "Billing Period": monthly fees, discounts, minimum charges) by the version in
 * force at the period's last instant. Throws ValidationError (naming the field) on bad input.
 */
export function ratePeriod(source: PolicySource, input: RatingInput, period: RatingPeriod, rates: readonly TokenRate[] = []): RatingResult {
  if (!(period.end.getTime() > period.start.getTime())) throw new ValidationError('period.end', 'must be after period.start');
  if (Array.isArray(source)) {
    const currencies = new Set((source as readonly PolicyVersion[]).map((v) => v.policy.currency));
    if (currencies.size > 1) throw new ValidationError('policy', `all versions must share one currency, got ${[...currencies].join(', ')}`);
  }
  const items = collectItems(source, input, period);
  const currency = versionAt(source, new Date(period.end.getTime() - 1)).policy.currency;
  // Volume tiers price by the period total, so total every tiered element first.
  const tierTotals = new Map<string, Decimal>();
  const tierKey = (it: Item, ruleIndex: number, key: string) => `${it.label ?? ''}\u0000${ruleIndex}\u0000${key}\u0000${it.projectId ?? ''}`;
  for (const it of items) {
    for (const [key, o] of it.inf.outcomes) {
      const b = BASIS[key];
      const q = b ? it.bases[b.basis] : null;
      if (o.value.kind === 'tiers' && q) tierTotals.set(tierKey(it, o.rule.index, key), (tierTotals.get(tierKey(it, o.rule.index, key)) ?? new Money(0)).plus(basisValue(q)));
    }
  }
  const tierSeen = new Map<string, Decimal>();
  const lines: PricedLine[] = [];
  const totals = new Map<string, ProjectTotals>();
  const minTime = new Map<string, { min: Decimal; seconds: Decimal; last: PricedLine; lastExact: Decimal; lastSeconds: Decimal }>();
  for (const it of items) {
    // Explanation text is built on first read: thunks capture the exact values now.
    const rateThunks: (() => Explanation['rates'][number])[] = [];
    const conv: (() => string)[] = [];
    const ex = new LazyExplanation(it.source, it.label, it.facts, it.inf, rateThunks, conv);
    let exact = new Money(0);
    let tokens = new Money(0);
    let tokenMoney = new Money(0);
    const rate = (): TokenRate => rateAt(rates, it.start);
    for (const [key, o] of it.inf.outcomes) {
      const b = BASIS[key];
      if (key === 'ONE_OFF_COST' && o.value.kind === 'number') {
        if (it.kind === 'one-off') {
          exact = exact.plus(o.value.value);
          const fee = o.value.value;
          rateThunks.push(() => ({ key, rate: fee.toFixed(), quantity: '1', unit: 'event', amount: fee.toFixed() }));
        } else conv.push(() => 'ONE_OFF_COST applies to events only; ignored on usage');
      }
      if (!b) continue;
      const basis = it.bases[b.basis];
      if (basis === null) {
        conv.push(() => `${key} not applied: ${MISSING_BASIS[b.basis] ?? 'no quantity'}`);
        continue;
      }
      const q = basisValue(basis);
      const isTokens = key.startsWith('TOKENS_');
      let amt: Decimal;
      if (o.value.kind === 'tiers') {
        const k = tierKey(it, o.rule.index, key);
        const before = tierSeen.get(k) ?? new Money(0);
        tierSeen.set(k, before.plus(q));
        const t = tierAmount(o.value.mode, o.value.steps, q, before, tierTotals.get(k)!);
        amt = t.amount;
        conv.push(() => `${key}: ${t.detail} ${b.unit}`);
        const [mode, a] = [o.value.mode, amt];
        rateThunks.push(() => ({ key, rate: mode, quantity: q.toFixed(), unit: b.unit, amount: a.toFixed() }));
      } else if (o.value.kind === 'number') {
        // price x n / d: multiply first, divide once, so a line is as exact as the skeleton's seconds x price / 3600.
        amt = o.value.value.times(basis.n).div(basis.d);
        const [price, a] = [o.value.value, amt];
        rateThunks.push(() => ({ key, rate: price.toFixed(), quantity: q.toFixed(), unit: b.unit, amount: a.toFixed() }));
        if (isTokens) {
          const r = rate();
          const m = o.value.value.times(basis.n).times(r.perToken).div(basis.d);
          tokenMoney = tokenMoney.plus(m);
          conv.push(() => `${q.toFixed()} ${b.unit} x ${price.toFixed()} tokens/${b.unit} = ${a.toFixed()} tokens; x ${r.perToken} ${currency}/token (rate from ${r.from.toISOString()}) = ${m.toFixed()} ${currency}`);
        }
      } else continue;
      if (isTokens) {
        tokens = tokens.plus(amt);
        if (o.value.kind === 'tiers') tokenMoney = tokenMoney.plus(amt.times(rate().perToken));
      } else exact = exact.plus(amt);
    }
    exact = exact.plus(tokenMoney);
    if (it.kind === 'usage' && it.inf.outcomes.size === 0) conv.push(() => 'no rule priced this usage: 0');
    let factor = new Money(1);
    if (it.facts['BILLING_MODE'] === 'dynamic') {
      const fv = it.inf.outcomes.get('DYNAMIC_FACTOR');
      const free = it.facts['POOL_FREE'];
      const unknown = it.facts['POOL_FREE_UNKNOWN'];
      const d = fv ? dynamicFactor(fv.value, typeof free === 'object' ? free : undefined, typeof unknown === 'string' ? unknown : undefined) : { factor: new Money(1), detail: 'dynamic mode, no DYNAMIC_FACTOR rule matched: factor 1 (on-demand price)' };
      factor = d.factor;
      const [od, f] = [exact, factor];
      conv.push(() => `${d.detail}: ${od.toFixed()} x ${f.toFixed()} = ${od.times(f).toFixed()}`);
    }
    const line: PricedLine = {
      kind: it.kind, projectId: it.projectId, resourceId: it.resourceId, resourceType: it.resourceType, event: it.event, start: it.start, end: it.end,
      amount: roundLine(exact.times(factor)), onDemandAmount: roundLine(exact), explanation: ex,
    };
    lines.push(line);
    if (it.projectId !== null) addTotals(totals, it, line, tokens);
    const minSec = it.inf.outcomes.get('MINIMUM_SECONDS');
    const k = `${it.projectId ?? ''}\u0000${it.resourceId ?? ''}`;
    // Only resources a MINIMUM_SECONDS rule has applied to are tracked.
    if (it.kind === 'usage' && it.resourceId !== null && (minSec !== undefined || minTime.has(k))) {
      const m = minTime.get(k);
      const min = minSec?.value.kind === 'number' ? minSec.value.value : m?.min ?? new Money(0);
      minTime.set(k, { min, seconds: (m?.seconds ?? new Money(0)).plus(it.bases.seconds.n), last: line, lastExact: exact.times(factor), lastSeconds: it.bases.seconds.n });
    }
  }
  for (const m of minTime.values()) {
    if (!m.seconds.lt(m.min) || m.lastSeconds.isZero()) continue;
    const missing = m.min.minus(m.seconds);
    const exact = m.lastExact.times(missing).div(m.lastSeconds);
    const l = m.last;
    const e = l.explanation;
    const ex: Explanation = { source: e.source, policyVersion: e.policyVersion, facts: e.facts, rules: e.rules, shadowed: e.shadowed, rounding: e.rounding, rates: [], conversions: [`minimum billed time ${m.min.toFixed()} s, used ${m.seconds.toFixed()} s: ${missing.toFixed()} s more at the last window's rate ${m.lastExact.toFixed()} / ${m.lastSeconds.toFixed()} s = ${exact.toFixed()}`] };
    const line: PricedLine = { ...l, kind: 'minimum-time', amount: roundLine(exact), onDemandAmount: roundLine(exact), explanation: ex };
    lines.push(line);
    if (l.projectId !== null) totals.get(l.projectId)!.cost = totals.get(l.projectId)!.cost.plus(line.amount);
  }
  for (const p of input.projects ?? []) if (!totals.has(p)) totals.set(p, emptyTotals());
  const { policy, label } = versionAt(source, new Date(period.end.getTime() - 1));
  lines.push(...periodLines(policy, label, input, period, totals));
  const total = lines.reduce((acc, l) => acc.plus(l.amount), new Money(0));
  return { currency, lines, total, totalText: formatTotal(total) };
}

function emptyTotals(): ProjectTotals {
  const z = new Money(0);
  return { seconds: z, hours: z, cpuHours: z, gbHours: z, units: z, tokens: z, cost: z };
}

function addTotals(totals: Map<string, ProjectTotals>, it: Item, line: PricedLine, tokens: Decimal): void {
  let t = totals.get(it.projectId!);
  if (!t) totals.set(it.projectId!, (t = emptyTotals()));
  const b = it.bases;
  if (it.kind === 'usage') {
    t.seconds = t.seconds.plus(basisValue(b.seconds));
    t.hours = t.hours.plus(basisValue(b.hours));
    if (it.facts['METER'] !== 'instance') t.units = t.units.plus(basisValue(b.units));
  }
  if (b.cpuHours) t.cpuHours = t.cpuHours.plus(basisValue(b.cpuHours));
  if (b.gbHours) t.gbHours = t.gbHours.plus(basisValue(b.gbHours));
  if (!tokens.isZero()) t.tokens = t.tokens.plus(tokens);
  t.cost = t.cost.plus(line.amount);
}
