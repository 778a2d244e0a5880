// A failed batch write requeues its deliveries, and their redelivery is written (not skipped as duplicates).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, DfsError, Ingestor, LocalDfs, queryUsage, WindowProcessor } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
// The wall clock of the ingest: the day of the samples (they must be within sample-max-age of it).
const SAMPLE_DAY = (): number => Date.UTC(2026, 10, 21, 22);
const DB = `tally_analyzer_fail_${process.pid}_${Date.now() % 1e6}`;

class FlakyDfs extends LocalDfs {
  failures = 1;
  override async writeFile(path: string, data: Buffer | string): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new DfsError('dfs_io', 'disk on fire');
    }
    return super.writeFile(path, data);
  }
}

const body = (id: string, ts: string): Buffer => Buffer.from(`{"event_type": "metering", "payload": [{"source": "openstack", "counter_name": "cpu", "counter_type": "cumulative", "counter_unit": "ns", "counter_volume": 9085000000000121, "user_id": "u", "project_id": "p", "resource_id": "vm-1", "timestamp": "${ts}", "resource_metadata": {}, "message_id": "${id}"}]}`);

describe('ingest failure', () => {
  let db: Knex;
  let dir: string;
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 2);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-flaky-'));
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('requeues on a failed write and ingests the redelivery once', async () => {
    const bus = new InProcessBus();
    const dfs = new FlakyDfs(join(dir, 'dfs'));
    const log = memoryLogger();
    const ingest = new Ingestor({ bus, dfs, db, log, clock: SAMPLE_DAY }, {
      analyzerQueue: 'q.flaky', analyzerId: 'f', ingestBatchSize: 2, ingestFlushIntervalMs: 60_000, gapThresholdMs: 630_000,
      controlExchange: 'ceilometer', exchangeDurable: false,
    });
    await ingest.start();
    const ex = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
    await bus.publish({ exchange: ex, routingKey: 'metering.sample', body: body('s1', '2026-11-21T20:00:00') });
    await bus.publish({ exchange: ex, routingKey: 'metering.sample', body: body('s2', '2026-11-21T20:05:00') });
    // Batch size 2: the first write fails (both requeued), the redelivery succeeds.
    for (let i = 0; i < 200 && ingest.stats().batches < 1; i++) await new Promise((r) => setTimeout(r, 5));
    await ingest.stop();
    const st = ingest.stats();
    assert.equal(st.batchFailures, 1);
    assert.equal(st.batches, 1);
    assert.equal(st.duplicates, 0);
    assert.equal(st.messages, 4);
    assert.equal(await bus.queueDepth('q.flaky'), 0);
    assert.ok(log.lines.some((l) => l.level === 'error' && /requeued/.test(l.msg)));
    const files = await dfs.list('raw/');
    assert.equal(files.length, 1);
    assert.equal((await dfs.readFile(files[0]!)).toString().trim().split('\n').length, 2);

    const wp = new WindowProcessor({ dfs, db, log }, { gapThresholdMs: 630_000, windowIntervalMs: 1000 });
    assert.equal(await wp.flushNow(), 2); // 20:00 and, within 630 s of its start, 19:00
    const usage = await queryUsage(db, { from: new Date('2026-11-21T19:00:00Z'), to: new Date('2026-11-21T21:00:00Z') });
    assert.deepEqual(usage.filter((u) => u.meter === 'instance').map((u) => [u.windowStart.toISOString(), u.quantity, u.samples]), [['2026-11-21T20:00:00.000Z', '300', 2]]);
    await bus.close();
  });
  it('writes a batch early when every prefetched delivery waits on it (no stall until the flush interval)', async () => {
    const bus = new InProcessBus();
    const dfs = new LocalDfs(join(dir, 'prefetch'));
    const ingest = new Ingestor({ bus, dfs, db, log: memoryLogger(), clock: SAMPLE_DAY }, {
      analyzerQueue: 'q.prefetch', analyzerId: 'p', ingestBatchSize: 1000, ingestFlushIntervalMs: 600_000, gapThresholdMs: 630_000,
      controlExchange: 'ceilometer', exchangeDurable: false, prefetch: 2,
    });
    await ingest.start();
    const ex = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
    for (let k = 0; k < 5; k++) await bus.publish({ exchange: ex, routingKey: 'metering.sample', body: body(`p${k}`, `2026-11-21T20:0${k}:00`) });
    // Prefetch 2, batch 1000, flush interval 10 min: batches of 2, 2, then 1 left for stop().
    for (let i = 0; i < 400 && ingest.stats().batches < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ingest.stats().batches, 2);
    assert.equal(await bus.queueDepth('q.prefetch'), 0);
    await ingest.stop();
    assert.equal(ingest.stats().samples, 5);
    assert.equal(ingest.stats().batches, 3);
    assert.equal((await dfs.list('raw/')).length, 3);
    await bus.close();
  });
});
