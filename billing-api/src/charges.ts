/**
 * Use cases: the charges of one project, and every project with its total, month to
 * date or over a period. Rated exactly like invoices: the pricing core's `ratePeriod`
 * with every live stored policy version (the built-in default DSL policy where none
 * is stored), the resources' billing modes and the pools' free capacity.
 */
import type { Knex } from '@tally/common';
import { resolvePeriod, utcDays, type Period } from './period.js';
import { versionAt, type PolicyVersion, type PricedLine, type RatingInput } from './pricing/index.js';
import { policyVersions } from './policies/store.js';
import { formatHours, formatLine, formatPrice, formatTotal, Money, ROUNDING, sum } from './rating.js';
import { guardOf, periodUsage, type UsageDeps } from './usage.js';
import { ratingFacts } from './modes/store.js';
import { rateIsolated } from './rate-isolated.js';
import type { UsageInvalidError } from './usage-guard.js';
import type { ChargesContext, PriceBasis, ProjectCharges, ProjectList, ResourceCharge } from './wire.js';

/** What the charge use cases need. */
export interface ChargesDeps extends UsageDeps {
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

/** The EVENT of instance usage (running seconds). */
const INSTANCE_EVENT = 'VM Assignment';

interface Rated {
  period: Period;
  versions: PolicyVersion[];
  lines: PricedLine[];
  input: RatingInput;
  names: Map<string, string | null>;
  now: Date;
  /** Projects left without a number, and why. */
  unrated: Map<string, UsageInvalidError>;
}

async function rate(deps: ChargesDeps, query: PeriodQuery, projectId?: string): Promise<Rated> {
  const now = deps.clock();
  const period = resolvePeriod(now, query);
  const versions = await policyVersions(deps.db);
  const { usage, names, invalid } = await periodUsage(deps, period, projectId);
  const facts = await ratingFacts(deps.db, usage);
  const input: RatingInput = { usage, ...facts, ...(projectId === undefined ? {} : { projects: [projectId] }) };
  const { result, unrated } = rateIsolated(versions, input, period, invalid, deps.log);
  if (unrated.size > 0) guardOf(deps).noteUnrated(unrated.size);
  return { period, versions, lines: result.lines, input, names, now, unrated };
}

/** `name vN` (a stored version or the built-in `default v0`) as `{name, version}`. */
function policyId(label: string | null): { name: string; version: number } {
  const m = /^(.*) v(\d+)$/.exec(label ?? '');
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: label ?? 'default', version: 0 };
}

function context(r: Rated): ChargesContext {
  // The version in force at the period's last instant (or now, for a period still running).
  const at = new Date(Math.min(r.period.end.getTime(), r.now.getTime() + 1) - 1);
  const { policy, label } = versionAt(r.versions, at);
  return {
    period: { start: r.period.start.toISOString(), end: r.period.end.toISOString() },
    currency: policy.currency,
    policy: policyId(label),
    rounding: ROUNDING,
  };
}

/** Usage lines shown per resource: instance usage, and other meters only when a rule priced them. */
function shown(l: PricedLine): boolean {
  if (l.kind !== 'usage' && l.kind !== 'minimum-time') return false;
  return l.event === INSTANCE_EVENT || !l.onDemandAmount.isZero();
}

/** The unit price of a group of lines, from the first line's explanation. */
function unitPriceOf(first: PricedLine, vcpus: number | null, onDemand: Money, hours: Money): { perHour: Money; basis: PriceBasis } {
  const rates = first.explanation.rates.filter((x) => x.key !== 'ONE_OFF_COST');
  if (rates.length === 0) return { perHour: new Money(0), basis: 'unpriced' };
  if (rates.length === 1 && rates[0]!.key === 'COST_PER_HOUR' && first.event === INSTANCE_EVENT) return { perHour: new Money(rates[0]!.rate), basis: 'flavor' };
  if (rates.length === 1 && rates[0]!.key === 'COST_PER_CPU_HOUR' && vcpus !== null) return { perHour: new Money(rates[0]!.rate).times(vcpus), basis: 'vcpu' };
  return { perHour: hours.isZero() ? new Money(0) : onDemand.div(hours).toDecimalPlaces(6), basis: 'policy' };
}

/**
 * The charges of one project over a period: total, per resource, per day, and period-level
 * lines. A project whose usage cannot be rated gets UsageInvalidError (409), never a partial total.
 */
export async function projectCharges(deps: ChargesDeps, input: PeriodQuery & { projectId: string }): Promise<ProjectCharges> {
  const r = await rate(deps, input, input.projectId);
  const failed = r.unrated.get(input.projectId);
  if (failed) throw failed;
  const lines = r.lines.filter((l) => l.projectId === input.projectId);
  // Hours and vCPUs per resource, flavor and event, from the usage records.
  const seconds = new Map<string, { s: Money; vcpus: number | null }>();
  for (const u of r.input.usage) {
    const k = JSON.stringify([u.resourceId, u.flavorName, u.meter === 'instance' ? INSTANCE_EVENT : u.meter]);
    const s = u.unit === 's' ? new Money(u.quantity) : new Money(u.windowEnd.getTime() - u.windowStart.getTime()).div(1000);
    const g = seconds.get(k);
    seconds.set(k, { s: (g?.s ?? new Money(0)).plus(s), vcpus: u.vcpus ?? g?.vcpus ?? null });
  }
  const groups = new Map<string, PricedLine[]>();
  for (const l of lines.filter(shown)) {
    const k = JSON.stringify([l.resourceId, l.resourceType, l.event]);
    groups.set(k, [...(groups.get(k) ?? []), l]);
  }
  const modes = r.input.projectResources?.[input.projectId] ?? {};
  const resources: ResourceCharge[] = [];
  const unpriced = new Set<string>();
  for (const [k, group] of groups) {
    const first = group[0]!;
    const g = seconds.get(k) ?? { s: new Money(0), vcpus: null };
    const hours = g.s.div(3600);
    const price = unitPriceOf(first, g.vcpus, sum(group.map((l) => l.onDemandAmount)), hours);
    if (price.basis === 'unpriced') unpriced.add(first.resourceId!);
    resources.push({
      resource_id: first.resourceId!,
      display_name: r.names.get(first.resourceId!) ?? null,
      flavor: first.resourceType,
      vcpus: g.vcpus,
      hours: formatHours(hours),
      unit_price: formatPrice(price.perHour),
      price_basis: price.basis,
      billing_mode: (Object.hasOwn(modes, first.resourceId!) ? modes[first.resourceId!]?.billingMode : undefined) ?? 'on-demand',
      amount: formatLine(sum(group.map((l) => l.amount))),
    });
  }
  // Most expensive first; ties by id, so the order is stable between refreshes.
  resources.sort((a, b) => new Money(b.amount).comparedTo(a.amount) || a.resource_id.localeCompare(b.resource_id));
  const perDay = new Map<string, Money>(utcDays(r.period).map((d) => [d, new Money(0)]));
  const adjustments: ProjectCharges['adjustments'] = [];
  for (const l of lines) {
    if (l.kind === 'recurring' || l.kind === 'discount' || l.kind === 'minimum-charge') {
      adjustments.push({ kind: l.kind, amount: formatLine(l.amount) });
      continue;
    }
    const day = l.start.toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? new Money(0)).plus(l.amount));
  }
  return {
    project_id: input.projectId,
    ...context(r),
    total: formatTotal(sum(lines.map((l) => l.amount))),
    resources,
    daily: [...perDay].map(([date, amount]) => ({ date, amount: formatLine(amount) })),
    adjustments,
    unpriced_resources: [...unpriced].sort(),
  };
}

/** Every project with usage in the period, with its total (same rating as projectCharges); those that cannot be rated under `unrated`. */
export async function listProjects(deps: ChargesDeps, input: PeriodQuery): Promise<ProjectList> {
  const r = await rate(deps, input);
  const byProject = new Map<string, { amounts: Money[]; resources: Set<string> }>();
  for (const l of r.lines) {
    if (l.projectId === null) continue;
    const p = byProject.get(l.projectId) ?? { amounts: [], resources: new Set<string>() };
    p.amounts.push(l.amount);
    if (l.resourceId !== null && shown(l)) p.resources.add(l.resourceId);
    byProject.set(l.projectId, p);
  }
  return {
    ...context(r),
    projects: [...byProject].sort(([a], [b]) => a.localeCompare(b)).map(([projectId, p]) => ({ project_id: projectId, total: formatTotal(sum(p.amounts)), resources: p.resources.size })),
    unrated: [...r.unrated].filter(([p]) => p !== '').sort(([a], [b]) => a.localeCompare(b)).map(([projectId, e]) => ({ project_id: projectId, code: e.code, message: e.message })),
  };
}
