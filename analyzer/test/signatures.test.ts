// verify = off | warn | enforce on the real Ceilometer deliveries: run A (14 samples) is signed
// with s3cr3t, run B (5) with Ceilometer's default secret, run C (2) not at all.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ceilometerVectorsDir, createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, Ingestor, LocalDfs, parseJson, type VerifyMode } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `tally_analyzer_sig_${process.pid}_${Date.now() % 1e6}`;
const runs = (JSON.parse(readFileSync(`${ceilometerVectorsDir()}/polling-agent-notifications.json`, 'utf8')) as { runs: { run: string; deliveries: { body: string }[] }[] }).runs;
const EX = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };

describe('signature verification in ingest', () => {
  let db: Knex;
  let dir: string;
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 2);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-sig-'));
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function ingestAll(verify: VerifyMode): Promise<{ kept: number; dead: { reason: string; field: string; index: number }[]; bad: number }> {
    const bus = new InProcessBus();
    const dfs = new LocalDfs(join(dir, verify));
    // The golden vectors were recorded on 2026-11-21: the ingest's clock is that day.
    const ingest = new Ingestor({ bus, dfs, db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 21, 22) }, {
      analyzerQueue: `q.${verify}`, analyzerId: verify, ingestBatchSize: 1000, ingestFlushIntervalMs: 60_000, gapThresholdMs: 630_000,
      controlExchange: 'ceilometer', exchangeDurable: false, verify, signatureSecret: 's3cr3t',
    });
    await ingest.start();
    const dead: { reason: string; field: string; index: number }[] = [];
    await bus.consume({ name: `q.${verify}.dead`, durable: true, bindings: [] }, { prefetch: 100 }, (d) => {
      dead.push(parseJson(d.body.toString()) as never);
      return Promise.resolve('ack');
    });
    const deliveries = runs.flatMap((r) => r.deliveries);
    for (const d of deliveries) await bus.publish({ exchange: EX, routingKey: 'notifications.sample', body: Buffer.from(d.body) });
    for (let i = 0; i < 400 && ingest.stats().messages < deliveries.length; i++) await new Promise((r) => setTimeout(r, 5));
    await ingest.stop();
    let kept = 0;
    for (const f of await dfs.list('raw/')) kept += (await dfs.readFile(f)).toString().trim().split('\n').length;
    await bus.close();
    return { kept, dead, bad: ingest.stats().badSignatures };
  }

  it('off keeps everything and checks nothing', async () => {
    assert.deepEqual(await ingestAll('off'), { kept: 21, dead: [], bad: 0 });
  });
  it('warn keeps everything and counts the 7 samples of runs B (5) and C (2)', async () => {
    assert.deepEqual(await ingestAll('warn'), { kept: 21, dead: [], bad: 7 });
  });
  it('enforce dead-letters runs B and C with the reason and keeps run A', async () => {
    const r = await ingestAll('enforce');
    assert.equal(r.kept, 14);
    assert.equal(r.bad, 7);
    assert.equal(r.dead.length, 7);
    assert.deepEqual(r.dead.filter((d) => /missing/.test(d.reason)).length, 2);
    assert.deepEqual([...new Set(r.dead.map((d) => `${d.field}: ${d.reason}`))].sort(), ['message_signature: message_signature does not match', 'message_signature: message_signature missing or empty']);
  });
});
