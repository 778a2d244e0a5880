/**
 * The window job: recompute the usage of hourly windows marked dirty by ingest.
 * A job for window W reads the DFS hours covering [W.start − T, W.end + T) (T = gap
 * threshold): the samples before W close intervals that start before W, and those
 * after W close intervals that end after it, so W counts exactly its part of each.
 */
import { defineOptions, opt, type Knex, type Logger } from '@tally/common';
import { decodeSampleLine, type RawSample } from './decode.js';
import type { Dfs } from './dfs/types.js';
import { hoursCovering, rawHourPrefix } from './layout.js';
import { lifetimesOverlapping, updateLifetimes } from './lifetimes.js';
import { extract, type InstanceRecord } from './mapreduce.js';
import { extractMeter, type MeterRecord } from './meters.js';
import { windowUsage } from './window-usage.js';
import { novaLifetimes, novaWindowRows } from './nova/window.js';
import { HOUR_US, hourStartUs, usToDate } from './timestamp.js';
import { DIRTY_TABLE, replaceWindowUsage } from './usage.js';

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

/** Mark windows dirty (idempotent). Call only after the samples are durable in the DFS. */
export async function markDirty(db: Knex, windowStartsUs: Iterable<number>): Promise<void> {
  const rows = [...new Set(windowStartsUs)].sort((a, b) => a - b).map((w) => ({ window_start: usToDate(w), marked_at: db.fn.now() }));
  if (rows.length === 0) return;
  // DO UPDATE (not NOTHING) so a mark racing a job that holds the row waits for it and is re-inserted after.
  await db(DIRTY_TABLE).insert(rows).onConflict('window_start').merge(['marked_at']);
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
}

/** Read the heartbeat and measured records in [fromUs, toUs) from the DFS hours covering it. */
export async function readRecords(dfs: Dfs, fromUs: number, toUs: number, log: Logger): Promise<{ records: InstanceRecord[]; meters: MeterRecord[]; files: number; badLines: number }> {
  const records: InstanceRecord[] = [];
  const meters: MeterRecord[] = [];
  let files = 0;
  let badLines = 0;
  for (const hour of hoursCovering(fromUs, toUs)) {
    for (const path of await dfs.list(rawHourPrefix(hour))) {
      files++;
      const text = (await dfs.readFile(path)).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let sample: RawSample;
        try {
          sample = decodeSampleLine(line);
        } catch (e) {
          // Lines were validated before they were written: a bad one means damage, not input.
          badLines++;
          log.warn('unreadable DFS line skipped', { path, error: e });
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
  return { records, meters, files, badLines };
}

/** Recompute one window and write its rows (in `trx`, which the caller commits); with `projectId`, only that project's rows. */
export async function processWindow(deps: WindowDeps, trx: Knex, windowStartUs: number, gapThresholdUs: number, projectId?: string): Promise<WindowResult> {
  const window = { startUs: hourStartUs(windowStartUs), endUs: hourStartUs(windowStartUs) + HOUR_US };
  const { records, meters, files, badLines } = await readRecords(deps.dfs, window.startUs - gapThresholdUs, window.endUs + gapThresholdUs, deps.log);
  const reached = (await updateLifetimes(trx, records)).filter((h) => h !== window.startUs);
  await markDirty(trx, reached);
  // Nova's events, where it sent some, sharpen lifetimes and running time (nova/window.ts).
  const lifetimes = await novaLifetimes(trx, await lifetimesOverlapping(trx, window.startUs, window.endUs), window);
  const all = await novaWindowRows(trx, windowUsage({ instances: records, meters, lifetimes }, window, gapThresholdUs), records, window, gapThresholdUs);
  const usage = projectId === undefined ? all : all.filter((r) => r.projectId === projectId);
  await replaceWindowUsage(trx, usToDate(window.startUs), usage, projectId);
  return { windowStartUs: window.startUs, rows: usage.length, files, badLines };
}

export interface WindowProcessorOptions {
  gapThresholdMs: number;
  windowIntervalMs: number;
  /** See the `allowed-lateness` option; default 0. */
  allowedLatenessMs?: number;
  /** Wall clock in ms (the watermark); default Date.now. */
  clock?: () => number;
}

export interface WindowStats {
  windowsProcessed: number;
  rowsWritten: number;
  failures: number;
}

/**
 * Drains the dirty-window table periodically and on demand. Each job claims one
 * dirty row with FOR UPDATE SKIP LOCKED, so replicas share the work and never run
 * the same window at once; the row is deleted in the job's transaction.
 */
export class WindowProcessor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly counters: WindowStats = { windowsProcessed: 0, rowsWritten: 0, failures: 0 };
  private readonly thresholdUs: number;

  private readonly latenessMs: number;
  private readonly clock: () => number;

  constructor(private readonly deps: WindowDeps, private readonly opts: WindowProcessorOptions) {
    this.thresholdUs = opts.gapThresholdMs * 1000;
    this.latenessMs = opts.allowedLatenessMs ?? 0;
    this.clock = opts.clock ?? Date.now;
  }

  /** Start the periodic job. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.flushNow().catch((e: unknown) => this.deps.log.error('window job failed', { error: e }));
    }, this.opts.windowIntervalMs);
    this.timer.unref();
  }

  /** Process dirty windows until none is left; concurrent calls share one run. Returns windows processed. */
  flushNow(): Promise<number> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stop the timer and process what is still dirty. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.flushNow();
  }

  stats(): WindowStats {
    return { ...this.counters };
  }

  private async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      let result: WindowResult | undefined;
      try {
        result = await this.deps.db.transaction(async (trx) => {
          // Eligible: never processed, marked again since, or closed (its final run).
          const closedBefore = new Date(this.clock() - HOUR_US / 1000 - this.thresholdUs / 1000 - this.latenessMs);
          const claimed = (await trx(DIRTY_TABLE)
            .select('window_start')
            .where((q) => void q.whereNull('processed_at').orWhereRaw('marked_at > processed_at').orWhere('window_start', '<=', closedBefore))
            .orderBy('window_start')
            .forUpdate()
            .skipLocked()
            .limit(1)) as { window_start: Date }[];
          const row = claimed[0];
          if (!row) return undefined;
          const r = await processWindow(this.deps, trx, row.window_start.getTime() * 1000, this.thresholdUs);
          if (row.window_start <= closedBefore) await trx(DIRTY_TABLE).where('window_start', row.window_start).delete();
          else await trx(DIRTY_TABLE).where('window_start', row.window_start).update({ processed_at: trx.fn.now() });
          return r;
        });
      } catch (e) {
        this.counters.failures++;
        throw e;
      }
      if (!result) return n;
      n++;
      this.counters.windowsProcessed++;
      this.counters.rowsWritten += result.rows;
      this.deps.log.debug('window processed', { window: usToDate(result.windowStartUs).toISOString(), rows: result.rows, files: result.files });
    }
  }
}
