/**
 * Observability: the analyzer's state as Prometheus text (`/metrics` on
 * `metrics-port`) and as a status object (`tally analyzer status`). Pure rendering;
 * the small HTTP server is the only IO here besides the queries in `analyzerStatus`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineOptions, opt, type Bus, type Knex } from '@tally/common';
import type { IngestStats } from './ingest.js';
import { QUARANTINE_TABLE } from './quarantine.js';
import { DIRTY_TABLE, LIFETIME_TABLE, USAGE_TABLE } from './usage.js';
import type { WindowStats } from './window-processor.js';

export const metricsOptions = defineOptions('analyzer-metrics', "the analyzer's Prometheus endpoint", {
  metricsPort: opt.int({ name: 'metrics-port', default: 0, min: 0, max: 65535, help: 'Serve Prometheus metrics on http://<metrics-host>:<port>/metrics; 0 disables.' }),
  metricsHost: opt.string({ name: 'metrics-host', default: '127.0.0.1', help: 'Address the metrics endpoint listens on.' }),
});

/** Shared state visible to any replica: the queues and the window table. */
export interface AnalyzerStatus {
  queue: string;
  /** Messages ready in the analyzer queue, or null when the bus cannot say. */
  queueMessages: number | null;
  deadLetters: number | null;
  windowsPending: number;
  /** Start of the oldest window still marked (ISO), or null. */
  oldestPendingWindow: string | null;
  /** End of the newest window that has usage (ISO), or null. */
  newestUsageWindow: string | null;
  usageRows: number;
  vmsSeen: number;
  /** Rows in the quarantine table (samples, rows and windows set aside). */
  quarantined: number;
}

/** Query the shared state (PostgreSQL and the broker). */
export async function analyzerStatus(db: Knex, bus: Bus | undefined, queue: string): Promise<AnalyzerStatus> {
  const depth = async (q: string): Promise<number | null> => (bus ? bus.queueDepth(q).catch(() => null) : null);
  const dirty = (await db(DIRTY_TABLE).count('* as n').min('window_start as oldest').first()) as { n: string | number; oldest: Date | null } | undefined;
  const usage = (await db(USAGE_TABLE).count('* as n').max('window_end as newest').first()) as { n: string | number; newest: Date | null } | undefined;
  const vms = (await db(LIFETIME_TABLE).count('* as n').first()) as { n: string | number } | undefined;
  const quarantined = (await db(QUARANTINE_TABLE).count('* as n').first()) as { n: string | number } | undefined;
  return {
    queue,
    queueMessages: await depth(queue),
    deadLetters: await depth(`${queue}.dead`),
    windowsPending: Number(dirty?.n ?? 0),
    oldestPendingWindow: dirty?.oldest ? dirty.oldest.toISOString() : null,
    newestUsageWindow: usage?.newest ? usage.newest.toISOString() : null,
    usageRows: Number(usage?.n ?? 0),
    vmsSeen: Number(vms?.n ?? 0),
    quarantined: Number(quarantined?.n ?? 0),
  };
}

type Sample = [name: string, type: 'counter' | 'gauge', help: string, value: number | null, labels?: Record<string, string>];

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Render metrics in the Prometheus text exposition format (0.0.4); null values are left out. */
export function renderMetrics(analyzerId: string, ingest: IngestStats, windows: WindowStats, status: AnalyzerStatus, nowMs: number): string {
  const lagS = ingest.newestSampleUs > 0 ? Math.max(0, nowMs / 1000 - ingest.newestSampleUs / 1e6) : null;
  const oldest = status.oldestPendingWindow ? Math.max(0, (nowMs - Date.parse(status.oldestPendingWindow)) / 1000) : 0;
  const samples: Sample[] = [
    ['tally_analyzer_messages_total', 'counter', 'Deliveries taken off the analyzer queue.', ingest.messages],
    ['tally_analyzer_samples_total', 'counter', 'Samples written to the DFS.', ingest.samples],
    ['tally_analyzer_duplicate_samples_total', 'counter', 'Samples skipped as already written (same message_id).', ingest.duplicates],
    ['tally_analyzer_dead_letters_total', 'counter', 'Samples or bodies dead-lettered by this analyzer.', ingest.deadLetters],
    ...Object.entries(ingest.deadLettersByField).sort(([a], [b]) => (a < b ? -1 : 1)).map(([field, n]): Sample =>
      ['tally_analyzer_dead_letters_by_field_total', 'counter', 'Dead letters by the field at fault (body: a whole body).', n, { field }]),
    ['tally_analyzer_bad_signatures_total', 'counter', 'Samples whose message_signature did not verify.', ingest.badSignatures],
    ['tally_analyzer_late_samples_total', 'counter', 'Samples for windows already closed (rerun).', ingest.lateSamples],
    ['tally_analyzer_batches_total', 'counter', 'Batches written durably to the DFS.', ingest.batches],
    ['tally_analyzer_batch_failures_total', 'counter', 'Batch writes that failed (deliveries requeued).', ingest.batchFailures],
    ['tally_analyzer_windows_processed_total', 'counter', 'Window jobs completed by this analyzer.', windows.windowsProcessed],
    ['tally_analyzer_window_failures_total', 'counter', 'Window jobs that failed (retried; bad data is isolated first).', windows.failures],
    ...(['sample', 'row', 'window'] as const).map((kind): Sample => ['tally_analyzer_quarantined_total', 'counter', 'Things set aside by window jobs (sample: a DFS line; row: a row PostgreSQL refused; window: a whole window).',
      kind === 'sample' ? windows.quarantinedSamples : kind === 'row' ? windows.quarantinedRows : windows.quarantinedWindows, { kind }]),
    ['tally_analyzer_quarantine_entries', 'gauge', 'Rows in the analyzer_quarantine table (shared by all replicas).', status.quarantined],
    ['tally_analyzer_processing_lag_seconds', 'gauge', 'Wall clock minus the event time of the newest sample ingested (a sample stamped ahead of the clock counts as stamped on arrival).', lagS],
    ['tally_analyzer_queue_messages', 'gauge', 'Messages ready in the analyzer queue.', status.queueMessages, { queue: status.queue }],
    ['tally_analyzer_dead_letter_queue_messages', 'gauge', 'Messages in the dead-letter queue.', status.deadLetters, { queue: `${status.queue}.dead` }],
    ['tally_analyzer_windows_pending', 'gauge', 'Hourly windows marked for (re)computation, open ones included.', status.windowsPending],
    ['tally_analyzer_oldest_pending_window_age_seconds', 'gauge', 'Age of the oldest marked window start.', oldest],
  ];
  const lines: string[] = [];
  let previous = '';
  for (const [name, type, help, value, labels] of samples) {
    if (value === null) continue;
    const all = { analyzer: analyzerId, ...labels };
    const l = Object.entries(all).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
    // One HELP/TYPE per metric family, before its first sample.
    if (name !== previous) lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    previous = name;
    lines.push(`${name}{${l}} ${Number.isInteger(value) ? value : value.toFixed(6)}`);
  }
  return lines.join('\n') + '\n';
}

/** Serve `render()` on GET /metrics; resolves with the bound port once listening. */
export async function startMetricsServer(host: string, port: number, render: () => Promise<string>): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    render().then(
      (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`# metrics unavailable: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
