/**
 * Use cases: the charges of one project, and every project with its total.
 * Usage is summed in SQL (per resource, flavor and UTC day) and rated in TypeScript.
 */
import type { Knex } from '@tally/common';
import { resolvePeriod, utcDays, type Period } from './period.js';
import { loadPolicyAt, type StoredPolicy } from './policy.js';
import {
  formatHours, formatLine, formatPrice, formatTotal, Money, rateLine, ROUNDING, sum,
  type RatedLine,
} from './rating.js';
import { dailyUsage, type DailyUsage } from './usage.js';
import type { ChargesContext, ProjectCharges, ProjectList, ResourceCharge } from './wire.js';

/** What the charge use cases need. */
export interface ChargesDeps {
  db: Knex;
  /** Injectable clock (tests); defaults to the wall clock in createApp. */
  clock: () => Date;
}

/** Query of a period; both optional: month to date by default. Texts as received. */
export interface PeriodQuery {
  start?: string | undefined;
  end?: string | undefined;
}

export type { ChargesContext, ResourceCharge, ProjectCharges, ProjectList } from './wire.js';

interface Rated {
  usage: DailyUsage;
  line: RatedLine;
}

async function rate(deps: ChargesDeps, query: PeriodQuery, projectId?: string): Promise<{ period: Period; policy: StoredPolicy; rated: Rated[] }> {
  const now = deps.clock();
  const period = resolvePeriod(now, query);
  // The policy in effect at the end of the period (or now, for a period still running).
  const policy = await loadPolicyAt(deps.db, period.end.getTime() < now.getTime() ? period.end : now);
  const usage = await dailyUsage(deps.db, period, projectId);
  const rated = usage.map((u) => ({ usage: u, line: rateLine(policy, u) }));
  return { period, policy, rated };
}

function context(period: Period, policy: StoredPolicy): ChargesContext {
  return {
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    currency: policy.currency,
    policy: { name: policy.name, version: policy.version },
    rounding: ROUNDING,
  };
}

/** The charges of one project over a period: total, per resource, per day. */
export async function projectCharges(deps: ChargesDeps, input: PeriodQuery & { projectId: string }): Promise<ProjectCharges> {
  const { period, policy, rated } = await rate(deps, input, input.projectId);
  const byResource = new Map<string, Rated[]>();
  for (const r of rated) {
    const key = JSON.stringify([r.usage.resourceId, r.usage.flavorName, r.usage.vcpus]);
    const list = byResource.get(key) ?? [];
    list.push(r);
    byResource.set(key, list);
  }
  const resources: ResourceCharge[] = [];
  const unpriced = new Set<string>();
  for (const lines of byResource.values()) {
    const first = lines[0] as Rated;
    const last = lines[lines.length - 1] as Rated;
    if (first.line.unitPrice.basis === 'unpriced') unpriced.add(first.usage.resourceId);
    resources.push({
      resource_id: first.usage.resourceId,
      display_name: last.usage.displayName,
      flavor: first.usage.flavorName,
      vcpus: first.usage.vcpus,
      hours: formatHours(sum(lines.map((l) => new Money(l.usage.seconds))).div(3600)),
      unit_price: formatPrice(first.line.unitPrice.perHour),
      price_basis: first.line.unitPrice.basis,
      amount: formatLine(sum(lines.map((l) => l.line.amount))),
    });
  }
  // Most expensive first; ties by id, so the order is stable between refreshes.
  resources.sort((a, b) => new Money(b.amount).comparedTo(a.amount) || a.resource_id.localeCompare(b.resource_id));
  const perDay = new Map<string, Money>(utcDays(period).map((d) => [d, new Money(0)]));
  for (const r of rated) perDay.set(r.usage.day, (perDay.get(r.usage.day) ?? new Money(0)).plus(r.line.amount));
  return {
    project_id: input.projectId,
    ...context(period, policy),
    total: formatTotal(sum(rated.map((r) => r.line.amount))),
    resources,
    daily: [...perDay].map(([date, amount]) => ({ date, amount: formatLine(amount) })),
    unpriced_resources: [...unpriced].sort(),
  };
}

/** Every project with usage in the period, with its total (same rounding as projectCharges). */
export async function listProjects(deps: ChargesDeps, input: PeriodQuery): Promise<ProjectList> {
  const { period, policy, rated } = await rate(deps, input);
  const byProject = new Map<string, { amounts: Money[]; resources: Set<string> }>();
  for (const r of rated) {
    const p = byProject.get(r.usage.projectId) ?? { amounts: [], resources: new Set<string>() };
    p.amounts.push(r.line.amount);
    p.resources.add(r.usage.resourceId);
    byProject.set(r.usage.projectId, p);
  }
  return {
    ...context(period, policy),
    projects: [...byProject].map(([projectId, p]) => ({ project_id: projectId, total: formatTotal(sum(p.amounts)), resources: p.resources.size })),
  };
}
