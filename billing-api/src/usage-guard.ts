/**
 * What happens to a stored usage record that cannot be rated (a negative gauge
 * written before the analyzer refused them, a quantity beyond what a bill holds):
 * it is left out of every rating, its project answers with what is wrong instead
 * of a number, and it is reported: a log line (once per process), an alert
 * (`usage_record_invalid`, one per project, listing the records, in PostgreSQL)
 * and the counters on `/metrics`. Reporting never fails the read that found it.
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

/** Records remembered (to count distinct ones); beyond, the count is a lower bound. */
const MAX_REMEMBERED = 100_000;
/** Records an alert lists and a report logs one by one. */
const SHOWN = 20;

/**
 * Reports invalid usage records: a log line per record (the first few of a report), one alert
 * per project (`usage-records-invalid:<project>`, raised again only when what is invalid changes,
 * so reads do not write), and counters. One per process and app.
 */
export class UsageGuard {
  /** Distinct invalid records seen by this process. */
  distinct = 0;
  /** Times a rating left an invalid record out. */
  skipped = 0;
  /** Projects answered as unratable (a record or a rating failure). */
  unrated = 0;
  private readonly seen = new Set<string>();
  private readonly alerted = new Map<string, string>();

  /** `db: null` only logs and counts (for a caller that has nothing but a transaction, where an alert would roll back with it). */
  constructor(private readonly db: Knex | null, private readonly log: Logger) {}

  /** Report records left out of one rating. Resolves when alerts are written; never rejects. */
  async report(records: readonly InvalidUsage[]): Promise<void> {
    this.skipped += records.length;
    const byProject = new Map<string, InvalidUsage[]>();
    for (const r of records) byProject.set(r.project_id ?? '', [...(byProject.get(r.project_id ?? '') ?? []), r]);
    for (const [project, rows] of byProject) {
      let logged = 0;
      for (const r of rows) {
        const key = `${project}\u0000${r.resource_id}\u0000${r.meter}\u0000${r.window_start}`;
        if (this.seen.has(key)) continue;
        if (this.seen.size < MAX_REMEMBERED) this.seen.add(key);
        this.distinct++;
        if (logged++ < SHOWN) this.log.warn('usage record left out of rating', { ...r });
      }
      const signature = `${rows.length}\u0000${rows[0]!.resource_id}\u0000${rows[0]!.window_start}\u0000${rows[rows.length - 1]!.resource_id}\u0000${rows[rows.length - 1]!.window_start}`;
      if (this.db === null || this.alerted.get(project) === signature) continue;
      const first = rows[0]!;
      try {
        await raiseAlert(this.db, {
          key: `usage-records-invalid:${project}`, kind: 'usage_record_invalid', severity: 'warning', source: 'billing-api',
          message: `${rows.length} stored usage record(s) of project ${project || '(none)'} cannot be rated (first: resource ${first.resource_id}, meter ${first.meter}, window ${first.window_start}: ${first.reason}); they are left out of rating and the project is not billed until they are corrected or deleted`,
          details: { project_id: first.project_id, count: rows.length, records: rows.slice(0, SHOWN) },
        });
        this.alerted.set(project, signature);
      } catch (err) {
        // The alert is for an operator; the read goes on without it.
        this.log.error('could not raise the usage_record_invalid alert', { err, project });
      }
    }
  }

  /** A project answered without a number (its usage holds invalid records, or rating it failed). */
  noteUnrated(n = 1): void {
    this.unrated += n;
  }
}
