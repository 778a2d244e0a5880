/**
 * Rerun a range of hourly windows from the raw samples in the DFS (`tally analyzer
 * reprocess`): each window in its own transaction, rows upserted, so a rerun never
 * duplicates and a partial run can simply be repeated.
 */
import { ValidationError } from '@tally/common';
import { hoursCovering } from './layout.js';
import { parseTimestampUs, usToDate } from './timestamp.js';
import { lifetimesOverlapping, updateLifetimes } from './lifetimes.js';
import { runLocalParallel } from './runner.js';
import { SPAN_METER, spanRows } from './window-usage.js';
import { HOUR_US } from './timestamp.js';
import { replaceWindowUsage, type UsageRecord } from './usage.js';
import { lockWindow, markDirty } from './dirty.js';
import { processWindow, type WindowDeps } from './windows.js';
import { eventsOf } from './nova/read.js';
import { novaLifetimes } from './nova/window.js';

export interface ReprocessRequest {
  /** Inclusive start, µs (rounded down to its hour). */
  sinceUs: number;
  /** Exclusive end, µs. */
  untilUs: number;
  /** Only this project's rows are rewritten. */
  projectId?: string;
  /** `local` (default): the worker-thread runner over the whole range; `in-process`: the window job, window by window. */
  runner?: 'local' | 'in-process';
  /** Worker threads of the local runner; default the machine's parallelism. */
  workers?: number;
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
  if ((req.runner ?? 'local') === 'local') return reprocessLocal(deps, req, hours, gapThresholdUs, onWindow);
  for (const h of hours) {
    const r = await deps.db.transaction(async (trx) => {
      const done = await processWindow(deps, trx, h, gapThresholdUs, req.projectId);
      await markDirty(trx, done.reached);
      return done;
    });
    out.windows++;
    out.rows += r.rows;
    out.files += r.files;
    onWindow?.(h, r.rows);
    deps.log.debug('window reprocessed', { window: usToDate(h).toISOString(), rows: r.rows });
  }
  return out;
}


/**
 * The range on the local parallel runner: instance and meter rows from the job; lifetimes
 * folded into the table and `project.span` rows from the table (every VM's whole life, as
 * the window job does); then each window's rows replaced in its own transaction.
 */
async function reprocessLocal(deps: WindowDeps, req: ReprocessRequest, hours: number[], gapThresholdUs: number, onWindow?: (windowStartUs: number, rows: number) => void): Promise<ReprocessResult> {
  const fromUs = hours[0] as number;
  const toUs = (hours[hours.length - 1] as number) + HOUR_US;
  const r = await runLocalParallel(deps.dfs, { gapThresholdUs, fromUs, toUs, ...(req.workers ? { workers: req.workers } : {}) });
  const byWindow = new Map<number, UsageRecord[]>();
  for (const rec of r.records) {
    if (rec.meter === SPAN_METER) continue;
    if (req.projectId !== undefined && rec.projectId !== req.projectId) continue;
    const w = rec.windowStart.getTime() * 1000;
    const list = byWindow.get(w);
    if (list) list.push(rec);
    else byWindow.set(w, [rec]);
  }
  const reached = await deps.db.transaction(async (trx) => {
    const beats = r.lifetimes.flatMap((l) => [{ resourceId: l.resourceId, projectId: l.projectId, timestampUs: l.firstUs }, { resourceId: l.resourceId, projectId: l.projectId, timestampUs: l.lastUs }]);
    return updateLifetimes(trx, beats);
  });
  // Windows outside the range whose span the lifetimes reached are left to the window job.
  await markDirty(deps.db, reached.filter((h) => h < fromUs || h >= toUs));
  const out: ReprocessResult = { windows: 0, rows: 0, files: r.files };
  // The runner sees no Nova events: a window holding an instance Nova told of is rerun by the window job.
  const novaKnown = new Set((await eventsOf(deps.db, [...new Set(r.records.map((x) => x.resourceId))], toUs + gapThresholdUs)).keys());
  for (const h of hours) {
    if ((byWindow.get(h) ?? []).some((x) => novaKnown.has(x.resourceId))) {
      const w = await deps.db.transaction(async (trx) => {
        const done = await processWindow(deps, trx, h, gapThresholdUs, req.projectId);
        await markDirty(trx, done.reached);
        return done;
      });
      out.windows++;
      out.rows += w.rows;
      onWindow?.(h, w.rows);
      continue;
    }
    const rows = await deps.db.transaction(async (trx) => {
      await lockWindow(trx, h);
      const spans = spanRows(await novaLifetimes(trx, await lifetimesOverlapping(trx, h, h + HOUR_US), { startUs: h, endUs: h + HOUR_US }), { startUs: h, endUs: h + HOUR_US })
        .filter((s) => req.projectId === undefined || s.projectId === req.projectId);
      const records = [...(byWindow.get(h) ?? []), ...spans];
      await replaceWindowUsage(trx, usToDate(h), records, req.projectId);
      return records.length;
    });
    out.windows++;
    out.rows += rows;
    onWindow?.(h, rows);
  }
  return out;
}
