// Issue 12's defect: PostgreSQL `deadlock detected` (40P01) on the upsert into
// analyzer_dirty_windows. A window job held its claimed row while it marked the windows a
// lifetime reached, and an ingest batch held one of those while it waited for the claimed
// row (or a second job held the other). Each interleaving is forced here with a DFS whose
// reads wait on a gate, against the machine's PostgreSQL (deadlock_timeout 1 s).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, DIRTY_TABLE, Ingestor, LocalDfs, markDirty, parseTimestampUs, queryUsage, rawFilePath, WindowProcessor } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `tally_analyzer_dl_${process.pid}_${Date.now() % 1e6}`;
const EX = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
const W = parseTimestampUs('2026-11-21T20:00:00');
const W1 = parseTimestampUs('2026-11-21T19:00:00');
const NOW = Date.UTC(2026, 10, 21, 20, 30);

const line = (vm: string, ts: string, id: string, project = 'p'): string =>
  `{"source":"openstack","counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":${1000 + id.length},"user_id":"u","project_id":"${project}","resource_id":"${vm}","timestamp":"${ts}","resource_metadata":{"vcpus":1},"message_id":"${id}"}`;

/** A DFS whose reads wait until the test opens the gate; `waiting` resolves at the first read. */
class GatedDfs extends LocalDfs {
  private open!: () => void;
  private readonly gate = new Promise<void>((r) => (this.open = r));
  private arrived!: () => void;
  readonly waiting = new Promise<void>((r) => (this.arrived = r));
  override async readFile(path: string): Promise<Buffer> {
    this.arrived();
    await this.gate;
    return super.readFile(path);
  }
  release(): void {
    this.open();
  }
}

describe('dirty windows: no deadlock between ingest batches and window jobs (PostgreSQL)', () => {
  let db: Knex;
  let dir: string;
  let n = 0;
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 8);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-deadlock-'));
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A fresh DFS folder and tables holding VM `vm-x` seen at 19:55, 20:00 and 20:05: its lifetime reaches 19:00 and 20:00. */
  async function setUp(): Promise<string> {
    await db(DIRTY_TABLE).delete();
    await db('analyzer_lifetimes').delete();
    await db('usage_records').delete();
    const root = join(dir, `case-${++n}`);
    const lines = [line('vm-x', '2026-11-21T19:55:00', `x1-${n}`), line('vm-x', '2026-11-21T20:00:00', `x2-${n}`), line('vm-x', '2026-11-21T20:05:00', `x3-${n}`)];
    const seed = new LocalDfs(root);
    await seed.writeFile(rawFilePath(W1, 'seed', 1), lines[0] + '\n');
    await seed.writeFile(rawFilePath(W, 'seed', 2), lines.slice(1).join('\n') + '\n');
    return root;
  }
  const lockWaits = async (): Promise<number> =>
    Number(((await db.raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = ? AND wait_event_type = 'Lock'`, [DB])) as { rows: { n: string }[] }).rows[0]!.n);
  async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`timed out waiting for ${what}`);
  }
  const noDeadlock = (log: ReturnType<typeof memoryLogger>): void =>
    assert.ok(!log.lines.some((l) => /deadlock/i.test(JSON.stringify(l))), log.lines.filter((l) => l.level === 'error').map((l) => JSON.stringify(l)).join('\n'));
  const instanceRows = async (): Promise<string[]> =>
    (await queryUsage(db, { from: new Date(W1 / 1000), to: new Date(W / 1000 + 3_600_000) })).filter((r) => r.meter === 'instance')
      .map((r) => `${r.windowStart.toISOString().slice(11, 16)} ${r.resourceId} ${r.quantity}`);

  it('an ingest batch marking 19:00 and 20:00 while the job of 20:00 marks 19:00 (reached by a lifetime)', async () => {
    const root = await setUp();
    const log = memoryLogger();
    const gated = new GatedDfs(root);
    await markDirty(db, [W]);
    const wp = new WindowProcessor({ dfs: gated, db, log }, { gapThresholdMs: 630_000, windowIntervalMs: 3_600_000, clock: () => NOW });
    const job = wp.flushNow().then(() => undefined, (e: unknown) => e);
    await gated.waiting; // the job of 20:00 has claimed its window and reads the DFS

    const bus = new InProcessBus();
    const ingest = new Ingestor({ bus, dfs: new LocalDfs(root), db, log, clock: () => NOW }, {
      analyzerQueue: 'q.dl', analyzerId: 'dl', ingestBatchSize: 1, ingestFlushIntervalMs: 60_000, gapThresholdMs: 630_000,
      controlExchange: 'ceilometer', exchangeDurable: false,
    });
    await ingest.start();
    // A sample at 20:01 touches 19:00 and 20:00 (within 630 s of either side).
    await bus.publish({ exchange: EX, routingKey: 'metering.sample', body: Buffer.from(`{"event_type":"metering","payload":[${line('vm-y', '2026-11-21T20:01:00', 'y1')}]}`) });
    // The batch's mark either went through or waits on a row lock (the old claim held 20:00).
    await until('the batch to be written or to wait on a lock', async () => ingest.stats().batches + ingest.stats().batchFailures > 0 || (await lockWaits()) > 0);
    gated.release();
    assert.equal(await job, undefined, 'the window job failed');
    await ingest.stop();
    await wp.flushNow();
    await bus.close();
    noDeadlock(log);
    assert.equal(ingest.stats().batchFailures, 0);
    assert.equal(ingest.stats().batches, 1);
    assert.equal(wp.stats().failures, 0);
    // 19:55 -> 20:05 for vm-x (300 s in each hour); vm-y has one heartbeat, no interval.
    assert.deepEqual(await instanceRows(), ['19:00 vm-x 300', '20:00 vm-x 300', '20:00 vm-y 0']);
  });

  it('two window jobs (two replicas) whose lifetimes reach each other\'s window', async () => {
    const root = await setUp();
    const log = memoryLogger();
    await markDirty(db, [W1, W]);
    const a = new GatedDfs(root);
    const b = new GatedDfs(root);
    const wpA = new WindowProcessor({ dfs: a, db, log }, { gapThresholdMs: 630_000, windowIntervalMs: 3_600_000, clock: () => NOW });
    const wpB = new WindowProcessor({ dfs: b, db, log }, { gapThresholdMs: 630_000, windowIntervalMs: 3_600_000, clock: () => NOW });
    const jobA = wpA.flushNow().then(() => undefined, (e: unknown) => e);
    await a.waiting; // A holds the oldest window, 19:00
    const jobB = wpB.flushNow().then(() => undefined, (e: unknown) => e);
    await b.waiting; // B holds 20:00
    a.release();
    b.release();
    const results = await Promise.all([jobA, jobB]);
    noDeadlock(log);
    assert.deepEqual(results, [undefined, undefined]);
    assert.equal(wpA.stats().failures + wpB.stats().failures, 0);
    await wpA.flushNow();
    assert.deepEqual(await instanceRows(), ['19:00 vm-x 300', '20:00 vm-x 300']);
  });

  it('marks 70,000 hours in one call (a lifetime can reach years back): in chunks under the bind-parameter limit', async () => {
    await setUp();
    const hours = Array.from({ length: 70_000 }, (_, k) => W - k * 3_600_000_000);
    await markDirty(db, hours);
    assert.equal(Number(((await db(DIRTY_TABLE).count('* as n')) as { n: string }[])[0]!.n), 70_000);
    await db(DIRTY_TABLE).delete();
  });

  it('many concurrent batches over neighbouring hours while two replicas drain: no batch and no job fails', async () => {
    const root = await setUp();
    const log = memoryLogger();
    const dfs = new LocalDfs(root);
    const bus = new InProcessBus();
    const ingest = new Ingestor({ bus, dfs, db, log, clock: () => NOW }, {
      analyzerQueue: 'q.dl.many', analyzerId: 'dlm', ingestBatchSize: 3, ingestFlushIntervalMs: 5, gapThresholdMs: 630_000,
      controlExchange: 'ceilometer', exchangeDurable: false, prefetch: 50,
    });
    await ingest.start();
    const wps = [0, 1].map(() => new WindowProcessor({ dfs, db, log }, { gapThresholdMs: 630_000, windowIntervalMs: 20, clock: () => NOW }));
    for (const wp of wps) wp.start();
    const base = Date.UTC(2026, 10, 21, 17, 50);
    for (let m = 0; m < 60; m++) {
      const samples = [0, 1, 2].map((k) => {
        const t = new Date(base + ((m * 7 + k * 53) % 160) * 60_000).toISOString().replace('Z', '');
        return line(`vm-${(m + k) % 9}`, t, `many-${m}-${k}`, `p${k}`);
      });
      await bus.publish({ exchange: EX, routingKey: 'metering.sample', body: Buffer.from(`{"event_type":"metering","payload":[${samples.join(',')}]}`) });
    }
    await until('every message taken', async () => ingest.stats().messages >= 60);
    await ingest.stop();
    for (const wp of wps) await wp.stop();
    await bus.close();
    noDeadlock(log);
    assert.equal(ingest.stats().batchFailures, 0);
    assert.equal(ingest.stats().samples, 180);
    assert.equal(wps[0]!.stats().failures + wps[1]!.stats().failures, 0);
  });
});
