/**
 * Rating the usage of an account's projects over a period with the pricing
 * core and every live policy version.
 */
import type { Knex } from '@tally/common';
import { ratePeriod, type PolicyVersion, type RatingResult, type UsageInput } from '../pricing/index.js';
import { policyVersions } from '../policies/store.js';
import { ratingFacts } from '../modes/store.js';

interface UsageRow {
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
}

/** Usage records of `projectIds` whose window starts in the period, in a stable order. */
export async function usageOf(db: Knex | Knex.Transaction, projectIds: readonly string[], period: { start: Date; end: Date }): Promise<UsageInput[]> {
  const rows = projectIds.length === 0 ? [] : ((await db('usage_records')
    .whereIn('project_id', projectIds as string[])
    .where('window_start', '>=', period.start).where('window_start', '<', period.end)
    .orderBy([{ column: 'project_id' }, { column: 'resource_id' }, { column: 'meter' }, { column: 'window_start' }])
    .select('window_start', 'window_end', 'resource_id', 'meter', 'unit', db.raw('quantity::text AS quantity'), 'project_id', 'flavor_name', 'vcpus', 'memory_mb')) as UsageRow[]);
  const usage: UsageInput[] = rows.map((r) => ({
    windowStart: r.window_start, windowEnd: r.window_end, resourceId: r.resource_id, meter: r.meter, unit: r.unit,
    quantity: r.quantity, projectId: r.project_id, flavorName: r.flavor_name, vcpus: r.vcpus, memoryMb: r.memory_mb,
  }));
  return usage;
}

/** Rate `[start, end)` for `projectIds`; `versions` default to every live one; `usage` when already read. */
export async function rateProjects(db: Knex | Knex.Transaction, projectIds: readonly string[], period: { start: Date; end: Date }, versions?: PolicyVersion[], usage?: UsageInput[]): Promise<RatingResult> {
  versions ??= await policyVersions(db);
  usage ??= await usageOf(db, projectIds, period);
  // Billing modes and pools' free capacity: dynamic resources are rated at their pool's factor.
  const facts = await ratingFacts(db, [...new Set(usage.map((u) => u.resourceId))]);
  return ratePeriod(versions, { usage, ...facts, projects: [...projectIds] }, period);
}
