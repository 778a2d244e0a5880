/**
 * The periodic window job: drains the dirty-window table, one claimed window per
 * transaction, and isolates failures so no single input stalls the others:
 * - a data error (see isDataError) reruns the window row by row in savepoints and
 *   quarantines what PostgreSQL refuses; if even that fails, the window itself is
 *   quarantined and settled, and the drain goes on;
 * - any other error (connection, DFS I/O) leaves the window marked, skips it for the
 *   rest of this pass, and raises an alert once it has failed three passes in a row;
 * - windows starting beyond any event time ingest accepts (marked by data from before
 *   the bound existed) are quarantined instead of staying pending forever.
 */
import { raiseAlert, resolveAlert, type Knex } from '@tally/common';
import { claimWindow, settleWindow } from './dirty.js';
import { DEFAULT_SAMPLE_MAX_FUTURE_MS } from './event-time.js';
import { alertQuarantined, errorReason, isDataError, quarantine, type QuarantineEntry } from './quarantine.js';
import { HOUR_US, usToDate } from './timestamp.js';
import { DIRTY_TABLE } from './usage.js';
import { processWindow, type WindowDeps, type WindowResult } from './windows.js';

export interface WindowProcessorOptions {
  gapThresholdMs: number;
  windowIntervalMs: number;
  /** See the `allowed-lateness` option; default 0. */
  allowedLatenessMs?: number;
  /** Ingest's sample-max-future (ms): windows starting beyond clock + this + gap + 1 h are quarantined. Default 10 min. */
  maxFutureMs?: number;
  /** Wall clock in ms (the watermark); default Date.now. */
  clock?: () => number;
}

export interface WindowStats {
  windowsProcessed: number;
  rowsWritten: number;
  /** Window jobs that failed (each is retried; a data error is isolated first). */
  failures: number;
  /** DFS lines set aside as unreadable or unstorable. */
  quarantinedSamples: number;
  /** Lifetime and usage rows PostgreSQL refused. */
  quarantinedRows: number;
  /** Whole windows set aside. */
  quarantinedWindows: number;
}

/** Passes in a row a window may fail on other than bad data before an alert is raised. */
const FAILING_ALERT_AFTER = 3;

/** A failure of one window's job (not of the claim): that window is skipped, the drain goes on. */
class WindowFailure extends Error {
  constructor(readonly windowStartUs: number, readonly error: unknown) {
    super(`window ${usToDate(windowStartUs).toISOString()} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

/**
 * Drains the dirty-window table periodically and on demand. Each job claims one
 * window with an advisory lock (see dirty.ts), so replicas share the work and never
 * run the same window at once; the window is settled in the job's transaction.
 */
export class WindowProcessor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly counters: WindowStats = { windowsProcessed: 0, rowsWritten: 0, failures: 0, quarantinedSamples: 0, quarantinedRows: 0, quarantinedWindows: 0 };
  private readonly thresholdUs: number;
  private readonly latenessMs: number;
  private readonly clock: () => number;
  /** Consecutive failed passes per window (not data errors). */
  private readonly failing = new Map<number, number>();

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

  /**
   * Stop the timer only: a run in progress finishes by itself, what is still dirty is left to
   * the other analyzers (windows are claimed in PostgreSQL; a run cut short by the process
   * exiting rolls back and leaves its window dirty). For a drain, which must not wait for it.
   */
  halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
    const skip: number[] = [];
    let n = 0;
    try {
      await this.quarantineBeyondBound();
    } catch (e) {
      this.counters.failures++;
      throw e;
    }
    for (;;) {
      let result: WindowResult | undefined;
      try {
        result = await this.runOne(skip);
      } catch (e) {
        this.counters.failures++;
        if (!(e instanceof WindowFailure)) throw e; // the claim itself failed: the database is away
        skip.push(e.windowStartUs);
        await this.noteFailure(e);
        continue;
      }
      if (!result) return n;
      n++;
      this.count(result);
      if (this.failing.delete(result.windowStartUs)) await resolveAlert(this.deps.db, failingKey(result.windowStartUs)).catch(() => false);
      this.deps.log.debug('window processed', { window: usToDate(result.windowStartUs).toISOString(), rows: result.rows, files: result.files, quarantined: result.quarantined.length });
    }
  }

  private count(r: WindowResult): void {
    this.counters.windowsProcessed++;
    this.counters.rowsWritten += r.rows;
    for (const q of r.quarantined) {
      if (q.kind === 'sample') this.counters.quarantinedSamples++;
      else if (q.kind === 'row') this.counters.quarantinedRows++;
      else this.counters.quarantinedWindows++;
    }
  }

  /** Claim, compute and settle one window in one transaction; undefined when none is eligible. */
  private runOne(skip: readonly number[]): Promise<WindowResult | undefined> {
    const closedBeforeMs = this.clock() - HOUR_US / 1000 - this.thresholdUs / 1000 - this.latenessMs;
    return this.deps.db.transaction(async (trx) => {
      const claimed = await claimWindow(trx, new Date(closedBeforeMs), skip);
      if (!claimed) return undefined;
      try {
        const r = await this.compute(trx, claimed.windowStartUs);
        await settleWindow(trx, claimed, r.reached, claimed.windowStartUs <= closedBeforeMs * 1000);
        return r;
      } catch (e) {
        throw e instanceof WindowFailure ? e : new WindowFailure(claimed.windowStartUs, e);
      }
    });
  }

  /** The window's job; on a data error once more row by row, then the window quarantined. */
  private async compute(trx: Knex, windowStartUs: number): Promise<WindowResult> {
    for (const isolate of [false, true]) {
      try {
        return await trx.transaction((sp) => processWindow(this.deps, sp, windowStartUs, this.thresholdUs, undefined, isolate));
      } catch (e) {
        if (!isDataError(e)) throw new WindowFailure(windowStartUs, e);
        this.deps.log.warn(isolate ? 'window job failed on bad data row by row; the window is quarantined' : 'window job failed on bad data; isolating the rows', { window: usToDate(windowStartUs).toISOString(), error: e });
        if (isolate) {
          const entry: QuarantineEntry = { kind: 'window', windowStartUs, ...errorReason(e) };
          await quarantine(trx, [entry]);
          await alertQuarantined(trx, [entry]);
          return { windowStartUs, rows: 0, files: 0, badLines: 0, reached: [], quarantined: [entry] };
        }
      }
    }
    throw new Error('unreachable');
  }

  /** Quarantine marked windows no accepted sample can reach (marked by data from before the ingest bound). */
  private async quarantineBeyondBound(): Promise<void> {
    const bound = new Date(this.clock() + (this.opts.maxFutureMs ?? DEFAULT_SAMPLE_MAX_FUTURE_MS) + this.thresholdUs / 1000 + HOUR_US / 1000);
    await this.deps.db.transaction(async (trx) => {
      const gone = (await trx(DIRTY_TABLE).where('window_start', '>', bound).delete().returning('window_start')) as { window_start: Date }[];
      if (gone.length === 0) return;
      const entries: QuarantineEntry[] = gone.map((g) => ({
        kind: 'window', windowStartUs: g.window_start.getTime() * 1000, field: 'timestamp',
        reason: `window beyond the event times ingest accepts (clock + sample-max-future, ${bound.toISOString()}): marked by a sample accepted before that bound existed`,
      }));
      await quarantine(trx, entries);
      await alertQuarantined(trx, entries);
      this.counters.quarantinedWindows += entries.length;
    });
  }

  private async noteFailure(f: WindowFailure): Promise<void> {
    const passes = (this.failing.get(f.windowStartUs) ?? 0) + 1;
    this.failing.set(f.windowStartUs, passes);
    const window = usToDate(f.windowStartUs).toISOString();
    this.deps.log.error('window job failed; the window stays marked and is retried', { window, passes, error: f.error });
    if (passes < FAILING_ALERT_AFTER) return;
    await raiseAlert(this.deps.db, {
      key: failingKey(f.windowStartUs), kind: 'window_failing', severity: 'warning', source: 'analyzer',
      message: `The usage of window ${window} has failed ${passes} times in a row and is retried: ${errorReason(f.error).reason.slice(0, 500)}`,
      details: { window, passes, ...errorReason(f.error) },
    }).catch((e: unknown) => this.deps.log.warn('alert not raised', { error: e }));
  }
}

const failingKey = (windowStartUs: number): string => `analyzer-window-failing:${usToDate(windowStartUs).toISOString()}`;
