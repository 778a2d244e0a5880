/**
 * Reads `usage_records` (owned and written by the analyzer) for rating: the records
 * of a period as the pricing core's `UsageInput`, each checked first (a stored record
 * that cannot be rated is set apart and reported, never rated and never allowed to
 * fail the rating of other projects), and each resource's latest display name.
 */
import type { Knex, Logger } from '@tally/common';
import type { UsageInput } from './pricing/index.js';
import type { Period } from './period.js';
import { UsageGuard, type InvalidUsage } from './usage-guard.js';

/** The meter whose quantity is running seconds. */
export const INSTANCE_METER = 'instance';

/** The usage of a period, ready for `ratePeriod`. */
export interface PeriodUsage {
  usage: UsageInput[];
  /** Resource id -> its latest display name in the period (null when none was seen). */
  names: Map<string, string | null>;
}

/** A `usage_records` row as `usageRecords` selects it. */
export interface UsageRow {
  window_start: Date;
  window_end: Date;
  resource_id: string;
  meter: string;
  unit: string;
  quantity: string;
  project_id: string | null;
  flavor_name: string | null;
  vcpus: number | null;
  memory_mb: number | null;
  display_name: string | null;
}

/** The query for usage records whose window starts in `[period.start, period.end)`, in a stable order. */
export function usageRecords(db: Knex | Knex.Transaction, period: { start: Date; end: Date }): Knex.QueryBuilder {
  return db('usage_records')
    .select('window_start', 'window_end', 'resource_id', 'meter', 'unit', db.raw('quantity::text AS quantity'), 'project_id', 'flavor_name', 'vcpus', 'memory_mb', 'display_name')
    .where('window_start', '>=', period.start)
    .where('window_start', '<', period.end)
    .orderBy([{ column: 'project_id' }, { column: 'resource_id' }, { column: 'meter' }, { column: 'window_start' }]);
}

/** One row as the pricing core's input. */
export function toUsageInput(r: UsageRow): UsageInput {
  return {
    windowStart: r.window_start, windowEnd: r.window_end, resourceId: r.resource_id, meter: r.meter, unit: r.unit,
    quantity: r.quantity, projectId: r.project_id, flavorName: r.flavor_name, vcpus: r.vcpus, memoryMb: r.memory_mb,
  };
}

/** What reading checked usage needs: the database, and where invalid records are reported. */
export interface UsageDeps {
  db: Knex | Knex.Transaction;
  /** Reports invalid records (log, alert, counters); default: a guard logging to `log`. */
  usageGuard?: UsageGuard;
  log?: Logger;
}

// What a bill can hold (numeric(24,6)): a quantity of 10^18 or more can never be invoiced.
const QUANTITY = /^\d{1,18}(\.\d+)?$/;
const count = (v: number | null) => v === null || (Number.isInteger(v) && v >= 0);

/** Why a stored record cannot be rated, or null when it can. */
export function checkUsageRow(r: UsageRow): string | null {
  if (!QUANTITY.test(r.quantity)) {
    if (/^-/.test(r.quantity)) return `quantity ${r.quantity} is negative`;
    return `quantity ${r.quantity.slice(0, 40)} is not a decimal below 10^18`;
  }
  if (!(r.window_end.getTime() > r.window_start.getTime())) return 'window_end is not after window_start';
  if (!count(r.vcpus)) return `vcpus ${r.vcpus} is negative`;
  if (!count(r.memory_mb)) return `memory_mb ${r.memory_mb} is negative`;
  return null;
}

/** Rows as rating input, the invalid ones set apart. */
export function splitRows(rows: readonly UsageRow[]): { usage: UsageInput[]; invalid: InvalidUsage[] } {
  const usage: UsageInput[] = [];
  const invalid: InvalidUsage[] = [];
  for (const r of rows) {
    const reason = checkUsageRow(r);
    if (reason === null) usage.push(toUsageInput(r));
    else invalid.push({ project_id: r.project_id, resource_id: r.resource_id, meter: r.meter, window_start: r.window_start.toISOString(), reason });
  }
  return { usage, invalid };
}

const fallbackGuards = new WeakMap<object, UsageGuard>();
const isTransaction = (db: Knex | Knex.Transaction): boolean => (db as { isTransaction?: boolean }).isTransaction === true;
/**
 * The guard of `deps`, or one per database handle for callers without an app (the
 * schedule, tests). Given only a transaction, it logs and counts but raises no alert
 * (an alert written in a transaction that then fails would roll back with it).
 */
export function guardOf(deps: UsageDeps): UsageGuard {
  if (deps.usageGuard) return deps.usageGuard;
  let g = fallbackGuards.get(deps.db);
  if (!g) {
    const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
    g = new UsageGuard(isTransaction(deps.db) ? null : (deps.db as Knex), deps.log ?? silent);
    fallbackGuards.set(deps.db, g);
  }
  return g;
}

/** Checked usage records whose window starts in the period, for some projects (all when omitted); invalid ones reported. */
export async function checkedUsage(deps: UsageDeps, period: { start: Date; end: Date }, projectIds?: readonly string[]): Promise<PeriodUsage & { invalid: InvalidUsage[] }> {
  const q = usageRecords(deps.db, period);
  if (projectIds !== undefined) void q.whereIn('project_id', projectIds as string[]);
  const rows = (await q) as UsageRow[];
  const { usage, invalid } = splitRows(rows);
  if (invalid.length > 0) {
    // Inside a transaction the alert is not awaited: it needs a connection of its own, and the
    // transaction may hold the last one of the pool.
    const reported = guardOf(deps).report(invalid);
    if (!isTransaction(deps.db)) await reported;
  }
  const latest = new Map<string, { t: number; name: string | null }>();
  for (const r of rows) {
    const seen = latest.get(r.resource_id);
    if (!seen || (r.display_name !== null && (seen.name === null || r.window_start.getTime() >= seen.t))) latest.set(r.resource_id, { t: r.window_start.getTime(), name: r.display_name });
  }
  return { usage, invalid, names: new Map([...latest].map(([id, l]) => [id, l.name])) };
}

/** {@link checkedUsage} of one project, or of all. */
export function periodUsage(deps: UsageDeps, period: Period, projectId?: string): Promise<PeriodUsage & { invalid: InvalidUsage[] }> {
  return checkedUsage(deps, period, projectId === undefined ? undefined : [projectId]);
}
