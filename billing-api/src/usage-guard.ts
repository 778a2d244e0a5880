/**
 * What happens to a stored usage record that cannot be rated (a negative gauge
 * written before the analyzer refused them, a quantity beyond what a bill holds):
 * it is left out of every rating, its project answers with what is wrong instead
 * of a number, and each such record is reported once per process — a log line, an
 * alert (`usage_record_invalid`, one per record, in PostgreSQL) and the counters
 * on `/metrics`. Reporting never fails the read that found it.
 */
import { raiseAlert, TallyError, type Knex, type Logger } from '@tally/common';

/** A stored usage record left out of rating, and why. */
export interface InvalidUsage {
  project_id: string | null;
  resource_id: string;
  meter: string;
  window_start: string;
  reason: string;
}

/** The usage of a project cannot be rated (409): names the records and what is wrong with them. */
export class UsageInvalidError extends TallyError {
  constructor(readonly projectId: string, readonly records: readonly InvalidUsage[], detail?: string) {
    super('usage_invalid', describeUnrated(projectId, records, detail), { field: 'usage' });
  }
}

/** One sentence: the project, up to three records with their reasons, and what to do. */
export function describeUnrated(projectId: string, records: readonly InvalidUsage[], detail?: string): string {
  const shown = records.slice(0, 3).map((r) => `resource ${r.resource_id}, meter ${r.meter}, window ${r.window_start}: ${r.reason}`);
  const more = records.length > 3 ? `; and ${records.length - 3} more` : '';
  const what = detail ?? `${records.length} stored usage record(s) cannot be rated (${shown.join('; ')}${more})`;
  return `the charges of project ${projectId} cannot be computed: ${what}. No partial total is given; an operator must correct or delete the record(s) (an alert is open)`;
}

const MAX_REMEMBERED = 10_000;

/** Reports invalid usage records: log, alert, counters. One per process and app. */
export class UsageGuard {
  /** Distinct invalid records seen by this process. */
  distinct = 0;
  /** Times a rating left an invalid record out. */
  skipped = 0;
  /** Projects answered as unratable (a record or a rating failure). */
  unrated = 0;
  private readonly seen = new Set<string>();

  /** `db: null` only logs and counts (for a caller that has nothing but a transaction, where an alert would roll back with it). */
  constructor(private readonly db: Knex | null, private readonly log: Logger) {}

  /** Report records left out of one rating. Resolves when alerts are written; never rejects. */
  async report(records: readonly InvalidUsage[]): Promise<void> {
    this.skipped += records.length;
    for (const r of records) {
      const key = `usage-record-invalid:${r.project_id ?? ''}:${r.resource_id}:${r.meter}:${r.window_start}`;
      if (this.seen.has(key)) continue;
      if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
      this.seen.add(key);
      this.distinct++;
      this.log.warn('usage record left out of rating', { ...r });
      if (this.db === null) continue;
      try {
        await raiseAlert(this.db, {
          key, kind: 'usage_record_invalid', severity: 'warning', source: 'billing-api',
          message: `usage record of project ${r.project_id ?? '(none)'} (resource ${r.resource_id}, meter ${r.meter}, window ${r.window_start}) is invalid: ${r.reason}; it is left out of rating and its project is not billed until it is corrected or deleted`,
          details: { ...r },
        });
      } catch (err) {
        // The alert is for an operator; the read goes on without it.
        this.seen.delete(key);
        this.log.error('could not raise the usage_record_invalid alert', { err, key });
      }
    }
  }

  /** A project answered without a number (its usage holds invalid records, or rating it failed). */
  noteUnrated(n = 1): void {
    this.unrated += n;
  }
}
