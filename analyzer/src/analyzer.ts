/**
 * One analyzer: ingest (bus -> DFS) plus the window job (DFS -> usage_records).
 * The caller opens the bus, DFS and database and runs the migrations; this wires them.
 */
import type { Bus, Knex, Logger } from '@tally/common';
import type { Dfs } from './dfs/types.js';
import { Ingestor, type IngestStats } from './ingest.js';
import { defaultAnalyzerId } from './queues.js';
import { analyzerStatus, renderMetrics, startMetricsServer } from './metrics.js';
import type { VerifyMode } from './verify.js';
import { WindowProcessor, type WindowStats } from './window-processor.js';
import { NovaIngestor, type NovaFormat, type NovaIngestStats } from './nova/ingest.js';

export interface AnalyzerDeps {
  bus: Bus;
  dfs: Dfs;
  db: Knex;
  log: Logger;
  /** Wall clock in ms; default Date.now. */
  clock?: () => number;
}

/**
 * Settings, as loaded from `ingestOptions`, `windowOptions` and common's `busOptions`
 * (durations in ms, as `loadConfig` returns them).
 */
export interface AnalyzerOptions {
  analyzerQueue: string;
  /** Empty: `<hostname>-<pid>`. */
  analyzerId: string;
  ingestBatchSize: number;
  ingestFlushInterval: number;
  gapThreshold: number;
  windowInterval: number;
  /** ms; default 0. */
  allowedLateness?: number;
  /** ms; see ingest's sample-max-age (default 35 d, 0 = any age). */
  sampleMaxAge?: number;
  /** ms; see ingest's sample-max-future (default 10 min). */
  sampleMaxFuture?: number;
  controlExchange: string;
  exchangeDurable: boolean;
  /** How often the bus is probed (ms); two failed probes in a row resolve `lost`. Default 2000. */
  busCheckInterval?: number;
  /** Prometheus endpoint port; 0 or absent: none. */
  metricsPort?: number;
  metricsHost?: string;
  /** Signature checks; default `off`. */
  verify?: VerifyMode;
  signatureSecret?: string;
  /** Nova's notifications (nova/ingest.ts's options); default `off` here, `both` from the CLI's defaults. */
  novaNotifications?: NovaFormat;
  novaExchange?: string;
  /** Empty: `<analyzerQueue>.nova`. */
  novaQueue?: string;
  novaVersionedTopic?: string;
  novaLegacyTopic?: string;
}

export interface AnalyzerStats {
  analyzerId: string;
  ingest: IngestStats;
  windows: WindowStats;
  /** Present when Nova's notifications are read. */
  nova?: NovaIngestStats;
}

export interface Analyzer {
  /** Write buffered samples and recompute every dirty window now. */
  flush(): Promise<void>;
  /** Stop consuming, drain in-flight batches, process remaining dirty windows. */
  stop(): Promise<void>;
  /**
   * For the scheduler's drain: stop consuming, write and acknowledge the batch in hand, stop
   * the window job's timer — and leave the remaining dirty windows to the cluster's other
   * analyzers rather than wait for them.
   */
  drain(): Promise<void>;
  stats(): AnalyzerStats;
  /** The port `/metrics` is served on, when enabled. */
  readonly metricsPort: number | undefined;
  /**
   * Resolves when the bus stopped answering (connection lost): the caller stops this
   * analyzer and starts a new one on a new connection. Unsettled deliveries are redelivered
   * by the broker; their samples are deduplicated by the usage job.
   */
  readonly lost: Promise<Error>;
}

/** Start consuming and the periodic window job. */
export async function startAnalyzer(deps: AnalyzerDeps, opts: AnalyzerOptions): Promise<Analyzer> {
  const analyzerId = opts.analyzerId || defaultAnalyzerId();
  const log = deps.log.child('analyzer');
  const ingest = new Ingestor(
    { bus: deps.bus, dfs: deps.dfs, db: deps.db, log: log.child('ingest'), ...(deps.clock ? { clock: deps.clock } : {}) },
    {
      analyzerQueue: opts.analyzerQueue,
      analyzerId,
      ingestBatchSize: opts.ingestBatchSize,
      ingestFlushIntervalMs: opts.ingestFlushInterval,
      gapThresholdMs: opts.gapThreshold,
      controlExchange: opts.controlExchange,
      exchangeDurable: opts.exchangeDurable,
      allowedLatenessMs: opts.allowedLateness ?? 0,
      ...(opts.sampleMaxAge !== undefined ? { sampleMaxAgeMs: opts.sampleMaxAge } : {}),
      ...(opts.sampleMaxFuture !== undefined ? { sampleMaxFutureMs: opts.sampleMaxFuture } : {}),
      ...(opts.verify ? { verify: opts.verify } : {}),
      ...(opts.signatureSecret !== undefined ? { signatureSecret: opts.signatureSecret } : {}),
    },
  );
  const windows = new WindowProcessor({ dfs: deps.dfs, db: deps.db, log: log.child('windows') }, {
    gapThresholdMs: opts.gapThreshold, windowIntervalMs: opts.windowInterval, allowedLatenessMs: opts.allowedLateness ?? 0, ...(deps.clock ? { clock: deps.clock } : {}),
    ...(opts.sampleMaxFuture !== undefined ? { maxFutureMs: opts.sampleMaxFuture } : {}),
  });
  const novaFormat = opts.novaNotifications ?? 'off';
  const nova = novaFormat === 'off' ? undefined : new NovaIngestor({ bus: deps.bus, db: deps.db, log: log.child('nova'), ...(deps.clock ? { clock: deps.clock } : {}) }, {
    queue: opts.novaQueue || `${opts.analyzerQueue}.nova`, exchange: opts.novaExchange ?? 'nova', exchangeDurable: opts.exchangeDurable, format: novaFormat,
    versionedTopic: opts.novaVersionedTopic ?? 'versioned_notifications', legacyTopic: opts.novaLegacyTopic ?? 'notifications',
    gapThresholdMs: opts.gapThreshold, markIntervalMs: opts.windowInterval, analyzerId,
  });
  await ingest.start();
  await nova?.start();
  windows.start();
  const clock = deps.clock ?? Date.now;
  const metrics = opts.metricsPort
    ? await startMetricsServer(opts.metricsHost ?? '127.0.0.1', opts.metricsPort, async () =>
        renderMetrics(analyzerId, ingest.stats(), windows.stats(), await analyzerStatus(deps.db, deps.bus, opts.analyzerQueue), clock()))
    : undefined;
  log.info('analyzer started', { analyzerId, queue: opts.analyzerQueue, bus: deps.bus.description, dfs: deps.dfs.description, gapThresholdMs: opts.gapThreshold });
  let stopping: Promise<void> | undefined;
  let failures = 0;
  let probing = false;
  let signalLost!: (e: Error) => void;
  const lost = new Promise<Error>((resolve) => (signalLost = resolve));
  const probe = setInterval(() => {
    if (probing) return;
    probing = true;
    // A probe caught by the connection's death may never settle: a time limit counts it as failed.
    const limitMs = Math.max(1000, 2 * (opts.busCheckInterval ?? 2000));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bus probe unanswered after ${limitMs} ms`)), limitMs);
    });
    Promise.race([deps.bus.queueDepth(opts.analyzerQueue), timeout]).then(
      () => (failures = 0),
      (e: unknown) => {
        if (++failures === 2) {
          log.warn('the bus stopped answering', { error: e });
          signalLost(e instanceof Error ? e : new Error(String(e)));
        }
      },
    ).finally(() => {
      clearTimeout(timer);
      probing = false;
    });
  }, opts.busCheckInterval ?? 2000);
  probe.unref();
  return {
    async flush() {
      await ingest.flush();
      await nova?.markSpans();
      await windows.flushNow();
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(probe);
        await metrics?.close();
        await ingest.stop();
        await nova?.stop();
        await windows.stop();
        log.info('analyzer stopped', { ...ingest.stats(), ...(nova ? { nova: nova.stats() } : {}) });
      })();
      return stopping;
    },
    drain() {
      stopping ??= (async () => {
        clearInterval(probe);
        await metrics?.close();
        await ingest.stop();
        await nova?.stop();
        windows.halt();
        log.info('analyzer drained', { ...ingest.stats(), ...(nova ? { nova: nova.stats() } : {}) });
      })();
      return stopping;
    },
    stats: () => ({ analyzerId, ingest: ingest.stats(), windows: windows.stats(), ...(nova ? { nova: nova.stats() } : {}) }),
    metricsPort: metrics?.port,
    lost,
  };
}
