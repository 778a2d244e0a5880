// End to end against the machine's PostgreSQL: bus -> ingest -> DFS -> window job -> usage_records.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ceilometerVectorsDir, createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, DIRTY_TABLE, LocalDfs, markDirty, parseJson, queryUsage, startAnalyzer, stringifyJson, type Analyzer, type JsonObject } from '../src/index.js';
import { parseTimestampUs } from '../src/timestamp.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `tally_analyzer_test_${process.pid}_${Date.now() % 1e6}`;
const EXCHANGE = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };

// The real cpu sample of run A (a counter above 2^53), re-stamped per test sample.
const golden = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(`${ceilometerVectorsDir()}/polling-agent-notifications.json`, 'utf8'))) as { runs: { deliveries: { body: string }[] }[] };
const template = ((parseJson((parseJson(golden.runs[0]!.deliveries[3]!.body) as JsonObject)['oslo.message'] as string) as JsonObject)['payload'] as JsonObject)['samples'] as JsonObject[];

let n = 0;
function cpu(vm: 'A' | 'B', timestamp: string, over: Record<string, unknown> = {}): JsonObject {
  const base = template[vm === 'A' ? 1 : 0]!; // A = web-01 (m1.small), B = the unicode-named m1.large
  return { ...base, timestamp, message_id: `msg-${vm}-${++n}`, ...over } as JsonObject;
}
const envelope = (samples: JsonObject[]): Buffer => Buffer.from(JSON.stringify({
  'oslo.version': '2.0',
  'oslo.message': stringifyJson({ message_id: `n-${++n}`, publisher_id: 'ceilometer.polling', event_type: 'telemetry.polling', priority: 'SAMPLE', payload: { samples } }),
}));
const meteringV1 = (samples: JsonObject[]): Buffer => Buffer.from(stringifyJson({ message_id: `n-${++n}`, publisher_id: 'telemetry.publisher.c1', event_type: 'metering', priority: 'SAMPLE', payload: samples }));

describe('analyzer pipeline (PostgreSQL)', () => {
  let db: Knex;
  let dir: string;
  let bus: InProcessBus;
  let dfs: LocalDfs;
  let analyzer: Analyzer;

  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 4);
    assert.deepEqual(await migrate(db, analyzerMigrations), analyzerMigrations.map((m) => m.name));
    dir = await mkdtemp(join(tmpdir(), 'tally-analyzer-'));
    bus = new InProcessBus();
    dfs = new LocalDfs(join(dir, 'dfs'));
    analyzer = await startAnalyzer({ bus, dfs, db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 22, 1) }, {
      analyzerQueue: 'tally.analyzer', analyzerId: 'an-1', ingestBatchSize: 1000, ingestFlushInterval: 60_000,
      gapThreshold: 630_000, windowInterval: 3_600_000, controlExchange: 'ceilometer', exchangeDurable: false,
    });
  });

  after(async () => {
    await analyzer?.stop();
    await bus?.close();
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function send(routingKey: string, body: Buffer): Promise<void> {
    await bus.publish({ exchange: EXCHANGE, routingKey, body, properties: { contentType: 'application/json' } });
  }
  async function settle(messages: number): Promise<void> {
    // Handlers resolve only after the batch write: wait until all were taken, then flush.
    for (let i = 0; i < 200 && analyzer.stats().ingest.messages < messages; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(analyzer.stats().ingest.messages, messages);
    await analyzer.flush();
    assert.equal(await bus.queueDepth('tally.analyzer'), 0);
  }
  const rows = async (): Promise<string[]> =>
    (await queryUsage(db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') }))
      .filter((r) => r.meter === 'instance')
      .map((r) => `${r.windowStart.toISOString().slice(11, 16)} ${r.resourceId.slice(0, 4)} ${r.quantity}s n=${r.samples} ${r.projectId?.slice(0, 4)} ${r.flavorName} ${r.vcpus} ${r.memoryMb} ${r.displayName}`);

  it('ingests both routing keys and writes hand-computed hourly usage', async () => {
    // A, part 1 (metering.sample, v1 body): 20:52:30, 20:57:30, 21:02:30.25, 21:07:30.25.
    await send('metering.sample', meteringV1([cpu('A', '2026-11-21T20:52:30'), cpu('A', '2026-11-21T20:57:30')]));
    await send('metering.sample', meteringV1([cpu('A', '2026-11-21T21:02:30.250000'), cpu('A', '2026-11-21T21:07:30.250000')]));
    await settle(2);
    assert.deepEqual(await rows(), [
      '20:00 9f5a 450s n=2 8e2f m1.small 1 2048 web-01', // 300 + (21:00 − 20:57:30 = 150)
      '21:00 9f5a 450.25s n=2 8e2f m1.small 1 2048 web-01', // 150.25 + 300
    ]);

    // A, part 2: 21:30 (gap 1349.75 s: downtime), 21:35, 21:45:29.999999 (629.999999 s: counted),
    // 21:56 (630.000001 s: downtime), 22:01 (crosses 22:00: 240 s + 60 s).
    // B (notifications.sample, oslo envelope, +00:00 stamps): 21:10, 21:15; plus a memory sample (not a heartbeat).
    // One bad sample (null volume) beside good ones, one body that is not JSON, one redelivered message.
    const partTwo = meteringV1([cpu('A', '2026-11-21T21:30:00'), cpu('A', '2026-11-21T21:35:00'), cpu('A', '2026-11-21T21:45:29.999999')]);
    await send('metering.sample', partTwo);
    await send('metering.sample', meteringV1([cpu('A', '2026-11-21T21:56:00'), cpu('A', '2026-11-21T22:01:00'), cpu('A', '2026-11-21T21:58:00', { counter_volume: null })]));
    await send('notifications.sample', envelope([cpu('B', '2026-11-21T21:10:00+00:00'), cpu('B', '2026-11-21T21:15:00.000000+00:00'), { ...template[0]!, counter_name: 'memory.usage', message_id: 'mem-1', timestamp: '2026-11-21T21:20:00' }]));
    await send('notifications.sample', Buffer.from('this is not json'));
    await send('metering.sample', partTwo);
    await settle(7);

    assert.deepEqual(await rows(), [
      '20:00 9f5a 450s n=2 8e2f m1.small 1 2048 web-01',
      // A: 150.25 + 300 + 300 + 629.999999 + 240 = 1620.249999; B: 300.
      '21:00 4b6c 300s n=2 0f1e m1.large 4 8192 Сервер-Ünïcødé ☃ 東京',
      '21:00 9f5a 1620.249999s n=6 8e2f m1.small 1 2048 web-01',
      '22:00 9f5a 60s n=1 8e2f m1.small 1 2048 web-01',
    ]);
    const st = analyzer.stats().ingest;
    assert.equal(st.samples, 12); // 4 + 3 + 2 + 3 (B's two cpu and one memory)
    assert.equal(st.duplicates, 3);
    assert.equal(st.deadLetters, 2);
    assert.equal(await bus.queueDepth('tally.analyzer.dead'), 2);
    assert.equal((await db(DIRTY_TABLE).count('* as c'))[0]!['c'], '0');
  });

  it('writes the billing span per project and the flavor integrated over running time', async () => {
    const all = await queryUsage(db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') });
    const pick = (meter: string): string[] => all.filter((r) => r.meter === meter).map((r) => `${r.windowStart.toISOString().slice(11, 16)} ${r.resourceId.slice(0, 4)} ${r.quantity}${r.unit}`);
    // A's project: from A's first heartbeat (20:52:30) to its last (22:01), stops included; B's: 21:10 to 21:15.
    assert.deepEqual(pick('project.span'), ['20:00 8e2f 450s', '21:00 0f1e 300s', '21:00 8e2f 3600s', '22:00 8e2f 60s']);
    // m1.small has 1 vCPU and 2048 MB; m1.large 4 vCPUs and 8192 MB.
    assert.deepEqual(pick('instance.vcpus'), ['20:00 9f5a 450vCPU*s', '21:00 4b6c 1200vCPU*s', '21:00 9f5a 1620.249999vCPU*s', '22:00 9f5a 60vCPU*s']);
    assert.deepEqual(pick('instance.memory'), ['20:00 9f5a 921600MB*s', '21:00 4b6c 2457600MB*s', '21:00 9f5a 3318271.997952MB*s', '22:00 9f5a 122880MB*s']);
  });

  it('stores raw samples by hour with counters kept exact', async () => {
    const files = await dfs.list('raw/');
    assert.ok(files.every((f) => /^raw\/dt=2026-11-21\/hour=(20|21|22)\/an-1-\d{16}\.jsonl$/.test(f)), files.join());
    const b = await dfs.list('raw/dt=2026-11-21/hour=21/');
    const text = (await Promise.all(b.map((f) => dfs.readFile(f)))).join('');
    assert.match(text, /"counter_volume":9085000000000121,/);
    assert.equal(text.split('\n').filter((l) => l.includes('"message_id":"msg-A-')).length, 6); // no duplicate lines
  });

  it('reprocessing every window gives the same rows (idempotent upsert)', async () => {
    const before = await rows();
    const hours = ['19', '20', '21', '22', '23'].map((h) => parseTimestampUs(`2026-11-21T${h}:00:00`));
    await markDirty(db, hours);
    await analyzer.flush();
    assert.deepEqual(await rows(), before);
    assert.equal((await db('usage_records').where('meter', 'instance').count('* as c'))[0]!['c'], '4');
  });
});
