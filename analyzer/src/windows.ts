/**
 * The window job: recompute the usage of hourly windows marked dirty by ingest.
 * A job for window W reads the DFS hours covering [W.start − T, W.end + T) (T = gap
 * threshold): the samples before W close intervals that start before W, and those
 * after W close intervals that end after it, so W counts exactly its part of each.
 */
import { defineOptions, opt, ValidationError, type Knex, type Logger } from '@tally/common';
import { decodeSampleLine, type RawSample } from './decode.js';
import { lockWindow } from './dirty.js';
import type { Dfs } from './dfs/types.js';
import { hoursCovering, rawHourPrefix } from './layout.js';
import { compareCodePoints, lifetimesOverlapping, updateLifetimes } from './lifetimes.js';
import { extract, type InstanceRecord } from './mapreduce.js';
import { extractMeter, type MeterRecord } from './meters.js';
import { windowUsage } from './window-usage.js';
import { novaLifetimes, novaWindowRows } from './nova/window.js';
import { HOUR_US, hourStartUs, usToDate } from './timestamp.js';
import { alertQuarantined, bisectWrite, errorReason, quarantine, type QuarantineEntry } from './quarantine.js';
import { deleteStaleUsage, LIFETIME_TABLE, replaceWindowUsage, upsertUsage, USAGE_TABLE, type UsageRecord } from './usage.js';

export const windowOptions = defineOptions('analyzer-windows', 'turning raw samples into hourly usage records', {
  gapThreshold: opt.duration({
    name: 'gap-threshold',
    default: '630s',
    minMs: 1000,
    help: 'A gap between two heartbeats of an instance at or above this is downtime, not billed. Default 630s = 2 x the 300 s polling interval + 30 s slack, so one missed poll is still billed; keep it in step with the agents\' polling interval.',
  }),
  allowedLateness: opt.duration({
    name: 'allowed-lateness',
    default: '10m',
    minMs: 0,
    help: 'A window closes at its end + gap threshold + this (the watermark, by the wall clock). Until then it is recomputed provisionally as samples arrive; at the close it is computed once more and unmarked. A sample for a closed window is counted late and reruns it.',
  }),
  windowInterval: opt.duration({
    name: 'window-interval',
    default: '2s',
    minMs: 10,
    help: 'How often dirty hourly windows are recomputed into usage records.',
  }),
});

/**
 * The hourly windows a sample at `tsUs` can change: it may close an interval that
 * began after tsUs − T and open one that ends before tsUs + T (samples can arrive out
 * of order), so every hour those intervals can overlap, in whole microseconds.
 */
export function windowsTouched(tsUs: number, gapThresholdUs: number): number[] {
  return hoursCovering(tsUs - gapThresholdUs + 1, tsUs + gapThresholdUs - 1);
}

export interface WindowDeps {
  dfs: Dfs;
  db: Knex;
  log: Logger;
}

/** What one window job did. */
export interface WindowResult {
  windowStartUs: number;
  rows: number;
  files: number;
  badLines: number;
  /** Other windows whose span the lifetimes grew into: the caller marks them dirty (see dirty.ts for when). */
  reached: number[];
  /** What the job set aside (already recorded in the quarantine table and alerted). */
  quarantined: QuarantineEntry[];
}

/**
 * Read the heartbeat and measured records in [fromUs, toUs) from the DFS hours covering
 * it. A line that fails validation is returned in `bad` (to quarantine), never thrown.
 */
export async function readRecords(dfs: Dfs, fromUs: number, toUs: number, log: Logger): Promise<{ records: InstanceRecord[]; meters: MeterRecord[]; files: number; badLines: number; bad: QuarantineEntry[] }> {
  const records: InstanceRecord[] = [];
  const meters: MeterRecord[] = [];
  const bad: QuarantineEntry[] = [];
  let files = 0;
  for (const hour of hoursCovering(fromUs, toUs)) {
    for (const path of await dfs.list(rawHourPrefix(hour))) {
      files++;
      const text = (await dfs.readFile(path)).toString('utf8');
      let lineNo = 0;
      for (const line of text.split('\n')) {
        lineNo++;
        if (line === '') continue;
        let sample: RawSample;
        try {
          sample = decodeSampleLine(line);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          // Written before ingest checked what it checks now, or damaged: set aside, never fatal.
          bad.push({ kind: 'sample', windowStartUs: hour, path, line: lineNo, field: e.field, reason: e.message, content: line });
          log.warn('DFS line quarantined', { path, line: lineNo, field: e.field, reason: e.message });
          continue;
        }
        if (sample.timestampUs < fromUs || sample.timestampUs >= toUs) continue;
        const rec = extract(sample);
        if (rec) records.push(rec);
        const m = extractMeter(sample);
        if (m) meters.push(m);
      }
    }
  }
  return { records, meters, files, badLines: bad.length, bad };
}

const rowText = (table: string, row: object): string => JSON.stringify({ table, ...row });

/**
 * Recompute one window and write its rows (in `trx`, which the caller commits); with
 * `projectId`, only that project's rows. Holds the window's advisory lock until `trx`
 * ends; does not mark the windows it reached (returned in `reached`). Bad DFS lines are
 * quarantined. With `isolate` (after a data error), lifetimes and usage rows are
 * written by bisection in savepoints and each one PostgreSQL refuses is quarantined.
 */
export async function processWindow(deps: WindowDeps, trx: Knex, windowStartUs: number, gapThresholdUs: number, projectId?: string, isolate = false): Promise<WindowResult> {
  const window = { startUs: hourStartUs(windowStartUs), endUs: hourStartUs(windowStartUs) + HOUR_US };
  await lockWindow(trx, window.startUs);
  const { records, meters, files, badLines, bad } = await readRecords(deps.dfs, window.startUs - gapThresholdUs, window.endUs + gapThresholdUs, deps.log);
  const quarantined = [...bad];
  const refused = (content: string) => (_: unknown, e: unknown): void => void quarantined.push({ kind: 'row', windowStartUs: window.startUs, ...errorReason(e), content });
  let reached: number[];
  if (!isolate) reached = await updateLifetimes(trx, records);
  else {
    const byVm = new Map<string, InstanceRecord[]>();
    for (const r of records) byVm.set(r.resourceId, [...(byVm.get(r.resourceId) ?? []), r]);
    const groups = [...byVm.values()].sort((a, b) => compareCodePoints(a[0]!.resourceId, b[0]!.resourceId));
    const parts = await bisectWrite(trx, groups, (sp, gs) => updateLifetimes(sp, gs.flat()),
      (g, e) => refused(rowText(LIFETIME_TABLE, { resource_id: g[0]!.resourceId, project_id: g[0]!.projectId }))(g, e));
    reached = [...new Set(parts.flat())].sort((a, b) => a - b);
  }
  reached = reached.filter((h) => h !== window.startUs);
  // Nova's events, where it sent some, sharpen lifetimes and running time (nova/window.ts).
  const lifetimes = await novaLifetimes(trx, await lifetimesOverlapping(trx, window.startUs, window.endUs), window);
  const all = await novaWindowRows(trx, windowUsage({ instances: records, meters, lifetimes }, window, gapThresholdUs), records, window, gapThresholdUs);
  let usage = projectId === undefined ? all : all.filter((r) => r.projectId === projectId);
  if (!isolate) await replaceWindowUsage(trx, usToDate(window.startUs), usage, projectId);
  else {
    const upsert = async (sp: Knex, rs: readonly UsageRecord[]): Promise<readonly UsageRecord[]> => {
      await upsertUsage(sp, rs);
      return rs;
    };
    usage = (await bisectWrite(trx, usage, upsert, (r, e) => refused(rowText(USAGE_TABLE, r))(r, e))).flat();
    await deleteStaleUsage(trx, usToDate(window.startUs), usage, projectId);
  }
  if (quarantined.length > 0) {
    await quarantine(trx, quarantined);
    await alertQuarantined(trx, quarantined);
  }
  return { windowStartUs: window.startUs, rows: usage.length, files, badLines, reached, quarantined };
}
