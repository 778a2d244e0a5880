// Watermarks, late data, reprocess and metrics against the machine's PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, DIRTY_TABLE, LocalDfs, parseTimestampUs, queryUsage, reprocess, startAnalyzer, USAGE_TABLE, type Analyzer } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `tally_analyzer_wm_${process.pid}_${Date.now() % 1e6}`;
const EX = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
let n = 0;
const cpu = (vm: string, project: string, ts: string): string =>
  `{"source": "openstack", "counter_name": "cpu", "counter_type": "cumulative", "counter_unit": "ns", "counter_volume": ${1000 + n}, "user_id": "u", "project_id": "${project}", "resource_id": "${vm}", "timestamp": "${ts}", "resource_metadata": {"vcpus": 2, "memory_mb": 1024}, "message_id": "m-${++n}"}`;
const body = (samples: string[]): Buffer => Buffer.from(`{"event_type": "metering", "payload": [${samples.join(', ')}]}`);

describe('watermark, late data, reprocess, metrics', () => {
  let db: Knex;
  let dir: string;
  let bus: InProcessBus;
  let dfs: LocalDfs;
  let analyzer: Analyzer;
  // The wall clock of the test: 20:30 on the day of the samples.
  let now = Date.UTC(2026, 10, 21, 20, 30);

  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 4);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-wm-'));
    bus = new InProcessBus();
    dfs = new LocalDfs(join(dir, 'dfs'));
    analyzer = await startAnalyzer({ bus, dfs, db, log: memoryLogger(), clock: () => now }, {
      analyzerQueue: 'q.wm', analyzerId: 'wm', ingestBatchSize: 1000, ingestFlushInterval: 60_000, gapThreshold: 630_000,
      windowInterval: 3_600_000, allowedLateness: 600_000, controlExchange: 'ceilometer', exchangeDurable: false, metricsPort: 0,
    });
  });
  after(async () => {
    await analyzer?.stop();
    await bus?.close();
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function send(samples: string[]): Promise<void> {
    const before = analyzer.stats().ingest.messages;
    await bus.publish({ exchange: EX, routingKey: 'metering.sample', body: body(samples) });
    for (let i = 0; i < 200 && analyzer.stats().ingest.messages === before; i++) await new Promise((r) => setTimeout(r, 5));
    await analyzer.flush();
  }
  const instance = async (project?: string): Promise<string[]> =>
    (await queryUsage(db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z'), ...(project ? { projectId: project } : {}) }))
      .filter((r) => r.meter === 'instance').map((r) => `${r.windowStart.toISOString().slice(11, 16)} ${r.resourceId} ${r.quantity}`);
  const pending = async (): Promise<string[]> =>
    ((await db(DIRTY_TABLE).select('window_start').orderBy('window_start')) as { window_start: Date }[]).map((r) => r.window_start.toISOString().slice(11, 16));

  it('an open window is computed provisionally and stays marked until its watermark', async () => {
    await send([cpu('vm-a', 'p1', '2026-11-21T20:00:00'), cpu('vm-a', 'p1', '2026-11-21T20:05:00'), cpu('vm-b', 'p2', '2026-11-21T20:10:00'), cpu('vm-b', 'p2', '2026-11-21T20:15:00')]);
    assert.deepEqual(await instance(), ['20:00 vm-a 300', '20:00 vm-b 300']);
    // 19:00 closed at 20:00 + 630 s + 600 s = 20:20:30 (before now): unmarked. 20:00 is open.
    assert.deepEqual(await pending(), ['20:00']);
    // Past 21:20:30 the 20:00 window closes: one final run, then unmarked.
    now = Date.UTC(2026, 10, 21, 21, 21);
    await analyzer.flush();
    assert.deepEqual(await pending(), []);
    assert.equal(analyzer.stats().ingest.lateSamples, 0);
  });

  it('a late sample for a closed window is counted and reruns it', async () => {
    await send([cpu('vm-a', 'p1', '2026-11-21T20:10:00')]);
    assert.equal(analyzer.stats().ingest.lateSamples, 1);
    assert.deepEqual(await instance(), ['20:00 vm-a 600', '20:00 vm-b 300']);
    assert.deepEqual(await pending(), []);
  });

  for (const runner of ['in-process', 'local'] as const) it(`reprocess (${runner} runner) rebuilds a range from the DFS, optionally one project only, never duplicating`, async () => {
    const good = runner === 'in-process' ? await instance() : ['20:00 vm-a 600', '20:00 vm-b 300'];
    const spans = await db(USAGE_TABLE).where('meter', 'project.span').orderBy('resource_id').select('resource_id', 'quantity');
    await db(USAGE_TABLE).where('resource_id', 'vm-a').update({ quantity: '1' });
    await db(USAGE_TABLE).where('resource_id', 'vm-b').delete();
    const deps = { dfs, db, log: memoryLogger() };
    const r1 = await reprocess(deps, { sinceUs: parseTimestampUs('2026-11-21T20:00:00'), untilUs: parseTimestampUs('2026-11-21T21:00:00'), projectId: 'p2', runner, workers: 2 }, 630_000_000);
    assert.equal(r1.windows, 1);
    assert.deepEqual(await instance(), ['20:00 vm-a 1', '20:00 vm-b 300']); // p1 untouched
    await reprocess(deps, { sinceUs: parseTimestampUs('2026-11-21T18:00:00'), untilUs: parseTimestampUs('2026-11-21T23:00:00'), runner, workers: 2 }, 630_000_000);
    await reprocess(deps, { sinceUs: parseTimestampUs('2026-11-21T18:00:00'), untilUs: parseTimestampUs('2026-11-21T23:00:00'), runner, workers: 2 }, 630_000_000);
    assert.deepEqual(await instance(), good);
    assert.deepEqual(await instance('p1'), ['20:00 vm-a 600']);
    assert.deepEqual(await db(USAGE_TABLE).where('meter', 'project.span').orderBy('resource_id').select('resource_id', 'quantity'), spans);
    await assert.rejects(reprocess(deps, { sinceUs: 2, untilUs: 1 }, 1), /until/);
  });
});

describe('metrics endpoint', () => {
  it('serves Prometheus text with lag, queue and window gauges', async () => {
    const db = openDatabase(await createDatabase(ADMIN, `${DB}_m`), 2);
    const bus = new InProcessBus();
    const dir = await mkdtemp(join(tmpdir(), 'tally-metrics-'));
    try {
      await migrate(db, analyzerMigrations);
      const a = await startAnalyzer({ bus, dfs: new LocalDfs(dir), db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 21, 20, 10) }, {
        analyzerQueue: 'q.m', analyzerId: 'm-1', ingestBatchSize: 10, ingestFlushInterval: 10, gapThreshold: 630_000, windowInterval: 3_600_000,
        controlExchange: 'ceilometer', exchangeDurable: false, metricsPort: 0,
      });
      assert.equal(a.metricsPort, undefined);
      await a.stop();
      const b = await startAnalyzer({ bus, dfs: new LocalDfs(dir), db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 21, 20, 10) }, {
        analyzerQueue: 'q.m', analyzerId: 'm-1', ingestBatchSize: 10, ingestFlushInterval: 10, gapThreshold: 630_000, windowInterval: 3_600_000,
        controlExchange: 'ceilometer', exchangeDurable: false, metricsPort: 39000 + (process.pid % 20000), metricsHost: '127.0.0.1',
      });
      try {
        await bus.publish({ exchange: EX, routingKey: 'metering.sample', body: body([cpu('vm-m', 'p', '2026-11-21T20:00:00'), '{"bad": 1}']) });
        for (let i = 0; i < 200 && b.stats().ingest.batches === 0; i++) await new Promise((r) => setTimeout(r, 5));
        const res = await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const text = await res.text();
        assert.match(text, /^tally_analyzer_samples_total\{analyzer="m-1"\} 1$/m);
        assert.match(text, /^tally_analyzer_dead_letters_total\{analyzer="m-1"\} 1$/m);
        assert.match(text, /^tally_analyzer_processing_lag_seconds\{analyzer="m-1"\} 600$/m);
        assert.match(text, /^tally_analyzer_dead_letter_queue_messages\{analyzer="m-1",queue="q\.m\.dead"\} 1$/m);
        assert.match(text, /^tally_analyzer_windows_pending\{analyzer="m-1"\} \d+$/m);
        assert.match(text, /^# TYPE tally_analyzer_queue_messages gauge$/m);
        assert.equal((await fetch(`http://127.0.0.1:${b.metricsPort}/other`)).status, 404);
      } finally {
        await b.stop();
      }
    } finally {
      await bus.close();
      await db.destroy();
      await dropDatabase(ADMIN, `${DB}_m`);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
