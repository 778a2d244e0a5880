/**
 * A launcher for the local driver that starts analyzers inside this process, on the
 * process's own bus, DFS and database: what `tally start` uses, since its in-process bus
 * cannot reach another process. Each analyzer registers and heartbeats like a `tally
 * analyzer` process, listens for the drain command, and on a drain (or a stop) stops its
 * intake, writes and acknowledges its batch, and deregisters.
 */
import { ProcLoadReader, startHeartbeat, type Bus, type Knex, type Logger } from '@tally/common';
import { listenForDrain, startAnalyzer, type AnalyzerOptions, type Dfs } from '@tally/analyzer';
import { analyzerHeartbeatMetrics } from '../observe.js';
import { recordHeartbeat } from '../registry.js';
import type { LaunchedAnalyzer, Launcher } from './local.js';
import type { MemberSpec } from './types.js';

export interface InProcessLauncherDeps {
  bus: Bus;
  dfs: Dfs;
  db: Knex;
  log: Logger;
  /** Analyzer settings; the id, queue and cluster come from the member. */
  analyzer: Omit<AnalyzerOptions, 'analyzerId' | 'analyzerQueue' | 'metricsPort'>;
  heartbeatIntervalMs: number;
  version: string;
  clock?: () => number;
}

export class InProcessLauncher implements Launcher {
  constructor(private readonly d: InProcessLauncherDeps) {}

  async launch(spec: MemberSpec): Promise<LaunchedAnalyzer> {
    const log = this.d.log.child(spec.name);
    const analyzer = await startAnalyzer({ bus: this.d.bus, dfs: this.d.dfs, db: this.d.db, log, ...(this.d.clock ? { clock: this.d.clock } : {}) },
      { ...this.d.analyzer, analyzerId: spec.name, analyzerQueue: spec.queue, metricsPort: 0 });
    const reader = new ProcLoadReader();
    const heartbeat = startHeartbeat({
      sink: (h) => recordHeartbeat(this.d.db, h).then(() => undefined), log, readLoad: () => reader.read(),
      metrics: analyzerHeartbeatMetrics(() => analyzer.stats().ingest, this.d.clock), ...(this.d.clock ? { clock: this.d.clock } : {}),
    }, { id: spec.name, role: 'analyzer', cluster: spec.cluster, version: this.d.version }, this.d.heartbeatIntervalMs);
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number | null>((r) => (resolveExit = r));
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        await heartbeat.beat('draining');
        await analyzer.drain();
        await heartbeat.stop();
        await drain.close();
        resolveExit(0);
      })();
      return stopping;
    };
    const drain = await listenForDrain({ bus: this.d.bus, log, analyzerId: spec.name }, async () => {
      await stop();
      const s = analyzer.stats().ingest;
      return { messages: s.messages, samples: s.samples };
    });
    return { ref: `in-process:${spec.name}`, exited, stop };
  }
}
