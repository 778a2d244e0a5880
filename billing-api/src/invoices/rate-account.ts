/**
 * Rating the usage of an account's projects over a period with the pricing
 * core and every live policy version. An account is rated whole or not at all:
 * when one of its projects has stored usage that cannot be rated, the account
 * gets UsageInvalidError (and is not billed) rather than a bill missing that usage.
 */
import type { Knex } from '@tally/common';
import { ratePeriod, type PolicyVersion, type RatingResult, type UsageInput } from '../pricing/index.js';
import { policyVersions } from '../policies/store.js';
import { ratingFacts } from '../modes/store.js';
import { checkedUsage, type UsageDeps } from '../usage.js';
import { UsageInvalidError, type InvalidUsage } from '../usage-guard.js';

/** Checked usage of some projects. */
export interface AccountUsage {
  usage: UsageInput[];
  invalid: InvalidUsage[];
}

/** Usage records of `projectIds` whose window starts in the period, in a stable order; invalid ones set apart and reported. */
export async function usageOf(deps: UsageDeps, projectIds: readonly string[], period: { start: Date; end: Date }): Promise<AccountUsage> {
  if (projectIds.length === 0) return { usage: [], invalid: [] };
  const { usage, invalid } = await checkedUsage(deps, period, projectIds);
  return { usage, invalid };
}

/**
 * Rate `[start, end)` for `projectIds`; `versions` default to every live one; `usage` when already read.
 * Throws UsageInvalidError (naming the project and records) when any of them cannot be rated.
 */
export async function rateProjects(db: Knex | Knex.Transaction | UsageDeps, projectIds: readonly string[], period: { start: Date; end: Date }, versions?: PolicyVersion[], usage?: AccountUsage): Promise<RatingResult> {
  const deps: UsageDeps = typeof db === 'function' ? { db } : db;
  versions ??= await policyVersions(deps.db);
  usage ??= await usageOf(deps, projectIds, period);
  const bad = usage.invalid[0];
  if (bad) {
    const p = bad.project_id ?? '';
    throw new UsageInvalidError(p, usage.invalid.filter((r) => (r.project_id ?? '') === p));
  }
  // Billing modes and pools' free capacity: dynamic resources are rated at their pool's factor.
  const facts = await ratingFacts(deps.db, usage.usage);
  return ratePeriod(versions, { usage: usage.usage, ...facts, projects: [...projectIds] }, period);
}
