/**
 * Rerun a range of hourly windows from the raw samples in the DFS (`tally analyzer
 * reprocess`): each window in its own transaction, rows upserted, so a rerun never
 * duplicates and a partial run can simply be repeated.
 */
import { ValidationError } from '@tally/common';
import { hoursCovering } from './layout.js';
import { parseTimestampUs, usToDate } from './timestamp.js';
import { processWindow, type WindowDeps } from './windows.js';

export interface ReprocessRequest {
  /** Inclusive start, µs (rounded down to its hour). */
  sinceUs: number;
  /** Exclusive end, µs. */
  untilUs: number;
  /** Only this project's rows are rewritten. */
  projectId?: string;
}

export interface ReprocessResult {
  windows: number;
  rows: number;
  files: number;
}

/** Parse `--since`/`--until`: an ISO timestamp (naive = UTC) or a date `YYYY-MM-DD`. Throws ValidationError naming the field. */
export function parseInstant(text: string, field: string): number {
  if (text === '') throw new ValidationError(field, 'is required');
  return parseTimestampUs(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text, field);
}

/** Recompute every window overlapping [since, until). */
export async function reprocess(deps: WindowDeps, req: ReprocessRequest, gapThresholdUs: number, onWindow?: (windowStartUs: number, rows: number) => void): Promise<ReprocessResult> {
  if (!(req.untilUs > req.sinceUs)) throw new ValidationError('until', 'must be after since');
  const hours = hoursCovering(req.sinceUs, req.untilUs);
  if (hours.length > 24 * 366 * 5) throw new ValidationError('since', 'range longer than five years');
  const out: ReprocessResult = { windows: 0, rows: 0, files: 0 };
  for (const h of hours) {
    const r = await deps.db.transaction((trx) => processWindow(deps, trx, h, gapThresholdUs, req.projectId));
    out.windows++;
    out.rows += r.rows;
    out.files += r.files;
    onWindow?.(h, r.rows);
    deps.log.debug('window reprocessed', { window: usToDate(h).toISOString(), rows: r.rows });
  }
  return out;
}

