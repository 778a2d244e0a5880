/**
 * Rating many projects so that one project's data can never fail another's: the
 * projects with invalid stored records are not rated (their records were set apart
 * by usage.ts), and when rating the rest at once still fails, each project is rated
 * on its own and only the ones that fail are answered without a number. A project's
 * lines depend on its own usage only, so both ways give the same lines.
 */
import { TallyError, type Logger } from '@tally/common';
import { ratePeriod, type PolicySource, type PricedLine, type RatingInput, type RatingPeriod, type RatingResult, type UsageInput } from './pricing/index.js';
import { Money, formatTotal } from './rating.js';
import { UsageInvalidError, type InvalidUsage } from './usage-guard.js';

/** The rating of the projects that could be rated, and why each other one could not. */
export interface IsolatedRating {
  result: RatingResult;
  /** By project id ('' for usage without a project). */
  unrated: Map<string, UsageInvalidError>;
}

const keyOf = (p: string | null): string => p ?? '';

/** Rate `input` over `period`, leaving out (and explaining) the projects that cannot be rated. */
export function rateIsolated(source: PolicySource, input: RatingInput, period: RatingPeriod, invalid: readonly InvalidUsage[], log?: Logger): IsolatedRating {
  const unrated = new Map<string, UsageInvalidError>();
  const bad = new Map<string, InvalidUsage[]>();
  for (const r of invalid) bad.set(keyOf(r.project_id), [...(bad.get(keyOf(r.project_id)) ?? []), r]);
  for (const [p, records] of bad) unrated.set(p, new UsageInvalidError(p, records));
  const usage = bad.size === 0 ? input.usage : input.usage.filter((u) => !bad.has(keyOf(u.projectId)));
  const projects = input.projects?.filter((p) => !bad.has(p));
  const rest: RatingInput = { ...input, usage, ...(projects === undefined ? {} : { projects }) };
  try {
    return { result: ratePeriod(source, rest, period), unrated };
  } catch (err) {
    log?.warn('rating all projects at once failed; rating each project on its own', { err });
  }
  const byProject = new Map<string, UsageInput[]>();
  for (const p of projects ?? []) byProject.set(p, []);
  for (const u of usage) byProject.set(keyOf(u.projectId), [...(byProject.get(keyOf(u.projectId)) ?? []), u]);
  const lines: PricedLine[] = [];
  let currency: string | undefined;
  for (const [p, own] of [...byProject].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    try {
      const r = ratePeriod(source, { ...input, usage: own, projects: p === '' ? [] : [p] }, period);
      currency ??= r.currency;
      lines.push(...r.lines);
    } catch (err) {
      // A ValidationError names the field of the record at fault; anything else is ours, and logged.
      const detail = err instanceof TallyError ? `rating failed: ${err.message}` : 'rating failed with an internal error (see the server log)';
      if (!(err instanceof TallyError)) log?.error('rating a project failed', { err, projectId: p, stack: (err as Error)?.stack });
      unrated.set(p, new UsageInvalidError(p, [], detail));
    }
  }
  // The currency of a period with nothing rated: that of the policy in force (throws, as before, on a bad policy).
  currency ??= ratePeriod(source, { usage: [] }, period).currency;
  const total = lines.reduce((s, l) => s.plus(l.amount), new Money(0));
  return { result: { currency, lines, total, totalText: formatTotal(total) }, unrated };
}
