/**
 * Period rules: once per project and billing period, with EVENT "Billing Period" and
 * the PERIOD_* totals as facts. They give monthly fees (prorated), discounts (percent,
 * then amount, never below zero) and minimum charges, in that order.
 */
import type { Decimal } from 'decimal.js';
import { Money } from '../rating.js';
import type { CompiledPolicy } from './compile.js';
import { infer } from './engine.js';
import { PERIOD_EVENT, baseFacts, showFacts, type RatingInput } from './facts.js';
import { monthsIn } from './price.js';
import { roundLine, type Explanation, type LineKind, type PricedLine, type RatingPeriod } from './rate.js';

/** A project's totals over the period (the PERIOD_* facts). `cost` is usage, one-off and minimum-time charges. */
export interface ProjectTotals {
  seconds: Decimal;
  hours: Decimal;
  cpuHours: Decimal;
  gbHours: Decimal;
  units: Decimal;
  tokens: Decimal;
  cost: Decimal;
}

/** The period lines of every project, projects in name order. */
export function periodLines(policy: CompiledPolicy, label: string | null, input: RatingInput, period: RatingPeriod, totals: Map<string, ProjectTotals>): PricedLine[] {
  const out: PricedLine[] = [];
  for (const projectId of [...totals.keys()].sort()) {
    const t = totals.get(projectId)!;
    const facts = baseFacts(input, projectId, undefined, period.start);
    Object.assign(facts, {
      EVENT: PERIOD_EVENT, PERIOD_SECONDS: t.seconds, PERIOD_HOURS: t.hours, PERIOD_CPU_HOURS: t.cpuHours, PERIOD_GB_HOURS: t.gbHours,
      PERIOD_UNITS: t.units, PERIOD_TOKENS: t.tokens, PERIOD_COST: t.cost,
    });
    const inf = infer(policy, facts);
    const base = (conversions: string[], key: string, rate: string, amount: Decimal): Explanation => ({
      source: { projectId, periodStart: period.start.toISOString(), periodEnd: period.end.toISOString() }, policyVersion: label, facts: showFacts(facts),
      rules: inf.fired.map((r) => ({ line: r.pos.line, rule: r.text })), shadowed: inf.shadowed.map((s) => ({ line: s.rule.pos.line, key: s.key, byLine: s.by.pos.line })),
      rates: [{ key, rate, quantity: '1', unit: 'period', amount: amount.toFixed() }], conversions, rounding: 'half-even to 6 decimals',
    });
    const line = (kind: LineKind, amount: Decimal, ex: Explanation): PricedLine => ({
      kind, projectId, resourceId: null, resourceType: null, event: PERIOD_EVENT, start: period.start, end: period.end, amount, onDemandAmount: amount, explanation: ex,
    });
    const num = (key: string): Decimal | undefined => {
      const v = inf.outcomes.get(key)?.value;
      return v?.kind === 'number' ? v.value : undefined;
    };
    let net = t.cost;
    const fee = num('RECURRING_COST_PER_MONTH');
    if (fee !== undefined) {
      const m = monthsIn(period.start, period.end);
      const amount = roundLine(fee.times(m.months));
      out.push(line('recurring', amount, base([`prorated: ${m.detail.join('; ')} = ${m.months.toFixed()} months x ${fee.toFixed()}`], 'RECURRING_COST_PER_MONTH', fee.toFixed(), amount)));
      net = net.plus(amount);
    }
    let discountable = t.cost;
    const pct = num('DISCOUNT_PERCENT');
    if (pct !== undefined && discountable.gt(0)) {
      const amount = roundLine(discountable.times(pct).div(100)).neg();
      out.push(line('discount', amount, base([`${pct.toFixed()} % of usage and one-off charges ${discountable.toFixed()}`], 'DISCOUNT_PERCENT', pct.toFixed(), amount)));
      discountable = discountable.plus(amount);
      net = net.plus(amount);
    }
    const off = num('DISCOUNT_AMOUNT');
    if (off !== undefined && discountable.gt(0)) {
      const amount = roundLine(Money.min(off, discountable)).neg();
      out.push(line('discount', amount, base([`${off.toFixed()} off, at most the ${discountable.toFixed()} left to discount`], 'DISCOUNT_AMOUNT', off.toFixed(), amount)));
      net = net.plus(amount);
    }
    const min = num('MINIMUM_CHARGE');
    if (min !== undefined && net.lt(min)) {
      const amount = roundLine(min.minus(net));
      out.push(line('minimum-charge', amount, base([`minimum charge ${min.toFixed()}, charges ${net.toFixed()}: ${amount.toFixed()} more`], 'MINIMUM_CHARGE', min.toFixed(), amount)));
    }
  }
  return out;
}
