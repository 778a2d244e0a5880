/**
 * Reads `usage_records` (owned and written by the analyzer) and sums them in SQL
 * into rating units: one row per project, resource, flavor and UTC day.
 */
import type { Knex } from '@tally/common';
import type { Period } from './period.js';

/** The meter whose quantity is running seconds; the only one rated so far. */
export const INSTANCE_METER = 'instance';

/** Running seconds of one resource under one flavor on one UTC day. */
export interface DailyUsage {
  projectId: string;
  resourceId: string;
  /** The latest display name seen in the span. */
  displayName: string | null;
  flavorName: string | null;
  vcpus: number | null;
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** Decimal string (numeric sum), never a JS number. */
  seconds: string;
}

interface Row {
  project_id: string;
  resource_id: string;
  display_name: string | null;
  flavor_name: string | null;
  vcpus: number | null;
  day: string;
  seconds: string;
}

/**
 * Sum instance seconds per project/resource/flavor/day for windows starting in
 * `[period.start, period.end)`; optionally for one project only.
 */
export async function dailyUsage(db: Knex, period: Period, projectId?: string): Promise<DailyUsage[]> {
  const q = db('usage_records')
    .select(
      'project_id',
      'resource_id',
      'flavor_name',
      'vcpus',
      db.raw(`to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day`),
      db.raw('sum(quantity)::text AS seconds'),
      db.raw('(array_agg(display_name ORDER BY window_start DESC))[1] AS display_name'),
    )
    .where('meter', INSTANCE_METER)
    .where('window_start', '>=', period.start)
    .where('window_start', '<', period.end)
    .groupBy('project_id', 'resource_id', 'flavor_name', 'vcpus', 'day')
    .orderBy([{ column: 'project_id' }, { column: 'resource_id' }, { column: 'day' }, { column: 'flavor_name' }]);
  if (projectId !== undefined) void q.where('project_id', projectId);
  const rows = (await q) as Row[];
  return rows.map((r) => ({
    projectId: r.project_id,
    resourceId: r.resource_id,
    displayName: r.display_name,
    flavorName: r.flavor_name,
    vcpus: r.vcpus,
    day: r.day,
    seconds: r.seconds,
  }));
}
