/**
 * Rating the usage of an account's projects over a period with the pricing
 * core and every live policy version.
 */
import type { Knex } from '@tally/common';
import { ratePeriod, type PolicyVersion, type RatingResult, type UsageInput } from '../pricing/index.js';
import { policyVersions } from '../policies/store.js';
import { ratingFacts } from '../modes/store.js';
import { toUsageInput, usageRecords, type UsageRow } from '../usage.js';

/** Usage records of `projectIds` whose window starts in the period, in a stable order. */
export async function usageOf(db: Knex | Knex.Transaction, projectIds: readonly string[], period: { start: Date; end: Date }): Promise<UsageInput[]> {
  if (projectIds.length === 0) return [];
  const rows = (await usageRecords(db, period).whereIn('project_id', projectIds as string[])) as UsageRow[];
  return rows.map(toUsageInput);
}

/** Rate `[start, end)` for `projectIds`; `versions` default to every live one; `usage` when already read. */
export async function rateProjects(db: Knex | Knex.Transaction, projectIds: readonly string[], period: { start: Date; end: Date }, versions?: PolicyVersion[], usage?: UsageInput[]): Promise<RatingResult> {
  versions ??= await policyVersions(db);
  usage ??= await usageOf(db, projectIds, period);
  // Billing modes and pools' free capacity: dynamic resources are rated at their pool's factor.
  const facts = await ratingFacts(db, [...new Set(usage.map((u) => u.resourceId))]);
  return ratePeriod(versions, { usage, ...facts, projects: [...projectIds] }, period);
}
