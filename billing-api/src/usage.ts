/**
 * Reads `usage_records` (owned and written by the analyzer) for the month-to-date
 * views: the records of a period as the pricing core's `UsageInput`, and each
 * resource's latest display name.
 */
import type { Knex } from '@tally/common';
import type { UsageInput } from './pricing/index.js';
import type { Period } from './period.js';

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

/** Usage records whose window starts in `[period.start, period.end)`; optionally for one project only. */
export async function periodUsage(db: Knex, period: Period, projectId?: string): Promise<PeriodUsage> {
  const q = usageRecords(db, period);
  if (projectId !== undefined) void q.where('project_id', projectId);
  const rows = (await q) as UsageRow[];
  const latest = new Map<string, { t: number; name: string | null }>();
  const usage = rows.map((r): UsageInput => {
    const seen = latest.get(r.resource_id);
    if (!seen || (r.display_name !== null && (seen.name === null || r.window_start.getTime() >= seen.t))) latest.set(r.resource_id, { t: r.window_start.getTime(), name: r.display_name });
    return toUsageInput(r);
  });
  return { usage, names: new Map([...latest].map(([id, l]) => [id, l.name])) };
}
