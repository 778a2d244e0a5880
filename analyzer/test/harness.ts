// One analyzer on the machine's PostgreSQL, an in-process bus and a temporary local DFS,
// with a clock the test moves, and what the hostile-input tests read back: dead letters,
// usage rows, the dirty table, quarantine rows and the metrics text.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, analyzerStatus, DIRTY_TABLE, LocalDfs, parseJson, queryUsage, renderMetrics, startAnalyzer, type Analyzer, type AnalyzerOptions, type JsonObject } from '../src/index.js';

export const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const EX = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };

/** A dead letter as the analyzer publishes it. */
export interface Letter {
  reason: string;
  field: string | null;
  index?: number;
  sample?: JsonObject;
  body?: string;
}

export interface Harness {
  db: Knex;
  dfs: LocalDfs;
  analyzer: Analyzer;
  log: ReturnType<typeof memoryLogger>;
  letters: Letter[];
  /** The wall clock of the analyzer, ms; tests move it. */
  now: number;
  /** Publish one `metering` body of raw sample JSON texts and wait until it is settled (written or dead-lettered). */
  send(samples: string[]): Promise<void>;
  /** The same for an oslo 2.0 envelope around a `telemetry.polling` message. */
  sendEnvelope(samples: string[]): Promise<void>;
  /** Write buffered samples and run every dirty window. */
  flush(): Promise<void>;
  metrics(): Promise<string>;
  pendingWindows(): Promise<number>;
  close(): Promise<void>;
}

/** Start an analyzer with a fresh database named `name` (unique per process). */
export async function harness(name: string, nowMs: number, opts: Partial<AnalyzerOptions> = {}): Promise<Harness> {
  const dbName = `tally_${name}_${process.pid}_${Date.now() % 1e6}`;
  const db = openDatabase(await createDatabase(ADMIN, dbName), 4);
  await migrate(db, analyzerMigrations);
  const dir = await mkdtemp(join(tmpdir(), `tally-${name}-`));
  const bus = new InProcessBus();
  const dfs = new LocalDfs(join(dir, 'dfs'));
  const log = memoryLogger();
  const letters: Letter[] = [];
  const queue = `q.${name}`;
  const publish = async (routingKey: string, body: Buffer): Promise<void> => {
    const before = h.analyzer.stats().ingest.messages;
    await bus.publish({ exchange: EX, routingKey, body });
    for (let i = 0; i < 400 && h.analyzer.stats().ingest.messages === before; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(h.analyzer.stats().ingest.messages, before + 1, 'the message was not taken');
    await h.analyzer.flush();
  };
  const h: Harness = {
    db, dfs, log, letters, now: nowMs,
    analyzer: undefined as unknown as Analyzer,
    send: (samples) => publish('metering.sample', Buffer.from(`{"event_type": "metering", "payload": [${samples.join(', ')}]}`)),
    sendEnvelope: (samples) => publish('notifications.sample', Buffer.from(JSON.stringify({
      'oslo.version': '2.0', 'oslo.message': `{"message_id": "n-${++seq}", "publisher_id": "ceilometer.polling", "event_type": "telemetry.polling", "priority": "SAMPLE", "payload": {"samples": [${samples.join(', ')}]}}`,
    }))),
    flush: () => h.analyzer.flush(),
    async metrics() {
      const s = h.analyzer.stats();
      return renderMetrics(s.analyzerId, s.ingest, s.windows, await analyzerStatus(db, bus, queue), h.now);
    },
    async pendingWindows() {
      return Number(((await db(DIRTY_TABLE).count('* as n')) as { n: string }[])[0]!.n);
    },
    async close() {
      await h.analyzer.stop().catch(() => undefined);
      await bus.close();
      await db.destroy();
      await dropDatabase(ADMIN, dbName);
      await rm(dir, { recursive: true, force: true });
    },
  };
  h.analyzer = await startAnalyzer({ bus, dfs, db, log, clock: () => h.now }, {
    analyzerQueue: queue, analyzerId: name, ingestBatchSize: 1000, ingestFlushInterval: 60_000, gapThreshold: 630_000, windowInterval: 3_600_000,
    allowedLateness: 0, controlExchange: 'ceilometer', exchangeDurable: false, ...opts,
  });
  await bus.consume({ name: `${queue}.dead`, durable: true, bindings: [] }, { prefetch: 1000 }, (d) => {
    const l = parseJson(d.body.toString('utf8')) as unknown as Letter;
    letters.push(l.index === undefined ? l : { ...l, index: Number(l.index) }); // a LosslessNumber as parsed
    return Promise.resolve('ack');
  });
  return h;
}

let seq = 0;
/** One raw sample as JSON text; `over` replaces fields with raw JSON texts (`'<omit>'` drops one). */
export function sampleText(over: Record<string, string> = {}): string {
  const f: Record<string, string> = {
    source: '"openstack"', counter_name: '"cpu"', counter_type: '"cumulative"', counter_unit: '"ns"', counter_volume: '9085000000000121',
    user_id: '"u1"', project_id: '"p1"', resource_id: '"vm-1"', timestamp: '"2026-11-21T20:00:00"',
    resource_metadata: '{"flavor": {"name": "m1.small", "vcpus": 1, "ram": 2048}, "display_name": "web-01"}', message_id: `"s-${++seq}"`,
    monotonic_time: 'null', message_signature: '""', ...over,
  };
  return '{' + Object.entries(f).filter(([, v]) => v !== '<omit>').map(([k, v]) => `"${k}": ${v}`).join(', ') + '}';
}

/** A VM's heartbeats every 5 minutes over [fromIso, toIso), cpu counter rising by 1e9 ns each. */
export function heartbeats(vm: string, project: string, fromIso: string, toIso: string, extra: Record<string, string> = {}): string[] {
  const out: string[] = [];
  for (let t = Date.parse(fromIso + 'Z'), k = 0; t < Date.parse(toIso + 'Z'); t += 300_000, k++) {
    out.push(sampleText({ resource_id: `"${vm}"`, project_id: `"${project}"`, timestamp: `"${new Date(t).toISOString().replace('Z', '')}"`, counter_volume: String(9_085_000_000_000_000n + BigInt(k) * 1_000_000_000n), ...extra }));
  }
  return out;
}

/** `instance` and measured rows as `HH:MM resource meter quantity`, for one day. */
export async function usageLines(db: Knex, day = '2026-11-21'): Promise<string[]> {
  const rows = await queryUsage(db, { from: new Date(`${day}T00:00:00Z`), to: new Date(Date.parse(`${day}T00:00:00Z`) + 2 * 86_400_000) });
  return rows.map((r) => `${r.windowStart.toISOString().slice(5, 16)} ${r.resourceId} ${r.meter} ${r.quantity}`);
}
