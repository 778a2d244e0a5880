/**
 * Pure views of one project's charges: totals by flavor and by meter, the
 * month-end forecast, and a sentence per line saying how it was rated. All
 * arithmetic is decimal.js on the API's strings, never JS numbers.
 */
import Decimal from 'decimal.js';
import { roundHalfEven } from './format.js';
import type { ProjectCharges, ResourceCharge } from './types.js';

/** One row of a grouped breakdown. */
export interface BreakdownRow {
  key: string;
  resources: number;
  hours: string;
  amount: string;
}

function group(resources: readonly ResourceCharge[], keyOf: (r: ResourceCharge) => string): BreakdownRow[] {
  const rows = new Map<string, { ids: Set<string>; hours: Decimal; amount: Decimal }>();
  for (const r of resources) {
    const key = keyOf(r);
    const row = rows.get(key) ?? { ids: new Set<string>(), hours: new Decimal(0), amount: new Decimal(0) };
    row.ids.add(r.resource_id);
    row.hours = row.hours.plus(r.hours);
    row.amount = row.amount.plus(r.amount);
    rows.set(key, row);
  }
  return [...rows.entries()]
    .map(([key, r]) => ({ key, resources: r.ids.size, hours: r.hours.toFixed(), amount: r.amount.toFixed() }))
    .sort((a, b) => new Decimal(b.amount).comparedTo(a.amount) || a.key.localeCompare(b.key));
}

/** Amount and hours per flavor (`unknown flavor` for resources without one), highest amount first. */
export function byFlavor(resources: readonly ResourceCharge[]): BreakdownRow[] {
  return group(resources, (r) => r.flavor ?? 'unknown flavor');
}

/**
 * Amount per meter. Every line rated today comes from the `instance` meter
 * (running time from heartbeats), so this is one row until other meters are priced.
 */
export function byMeter(resources: readonly ResourceCharge[]): BreakdownRow[] {
  return group(resources, () => 'instance (running time)');
}

/** A linear month-end forecast; undefined when the period is not a month to date or under an hour old. */
export interface Forecast {
  amount: string;
  basis: string;
}

/**
 * Month to date × (month length ÷ elapsed time), half-even to 4 decimals.
 * Only for a period starting at 00:00 UTC on the 1st and ending inside that month.
 */
export function forecastMonth(c: Pick<ProjectCharges, 'period' | 'total'>): Forecast | undefined {
  const start = new Date(c.period.start);
  const end = new Date(c.period.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return undefined;
  if (start.getUTCDate() !== 1 || start.getUTCHours() !== 0 || start.getUTCMinutes() !== 0 || start.getUTCSeconds() !== 0) return undefined;
  const monthEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  const elapsed = end.getTime() - start.getTime();
  if (elapsed < 3_600_000 || end.getTime() > monthEnd) return undefined;
  const amount = new Decimal(c.total).times(monthEnd - start.getTime()).dividedBy(elapsed);
  const days = (monthEnd - start.getTime()) / 86_400_000;
  const elapsedDays = new Decimal(elapsed).dividedBy(86_400_000).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2);
  return {
    amount: roundHalfEven(amount.toFixed(12), 4),
    basis: `linear: month to date × ${days} days ÷ ${elapsedDays} days elapsed, if usage goes on as so far`,
  };
}

/** How one line was rated, in a sentence: which usage, which price, which rule. */
export function explainLine(r: ResourceCharge, c: Pick<ProjectCharges, 'currency' | 'policy'>): string {
  const usage = `${roundHalfEven(r.hours, 6)} h of running time (meter instance)`;
  const policy = `policy ${c.policy.name} v${c.policy.version}`;
  // A dynamic resource pays the on-demand price times its pool's factor (at most 1).
  const dynamic = r.billing_mode === 'dynamic' ? ", dynamic mode: × the pool's factor" : '';
  if (r.price_basis === 'flavor') {
    return `${usage} × ${r.unit_price} ${c.currency}/h, the price of flavor ${r.flavor ?? '?'} in ${policy}${dynamic} = ${r.amount} ${c.currency}`;
  }
  if (r.price_basis === 'vcpu') {
    return `${usage} × ${r.unit_price} ${c.currency}/h: flavor ${r.flavor ?? 'unknown'} has no price in ${policy}, so ${r.vcpus ?? '?'} vCPU × the per-vCPU rate applies${dynamic} = ${r.amount} ${c.currency}`;
  }
  if (r.price_basis === 'policy') {
    return `${usage}, priced by the rules of ${policy} (on average ${r.unit_price} ${c.currency}/h)${dynamic} = ${r.amount} ${c.currency}`;
  }
  return `${usage}, not priced: flavor ${r.flavor ?? 'unknown'} has no price in ${policy} and the vCPU count is unknown; the operator must add it`;
}
