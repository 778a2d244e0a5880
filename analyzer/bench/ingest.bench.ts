// Ingest: RabbitMQ (the machine's) -> durable local DFS (write, fsync, link) with acks,
// messages of 50 samples as Ceilometer's polling agent sends them (batch_size 50).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmqpBus, benchHeader, ceilometerVectorsDir, createDatabase, dropDatabase, memoryLogger, migrate, openDatabase } from '@tally/common';
import { analyzerMigrations, analyzerQueueSpec, Ingestor, LocalDfs, parseJson, stringifyJson, type JsonObject } from '@tally/analyzer';

benchHeader('@tally/analyzer ingest', 'npm run bench -w @tally/analyzer  (bench/ingest.bench.ts; needs RabbitMQ and PostgreSQL on localhost; BENCH_MESSAGES)');
const ADMIN = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 2000);
const sfx = randomBytes(4).toString('hex');
const golden = JSON.parse(readFileSync(`${ceilometerVectorsDir()}/polling-agent-notifications.json`, 'utf8')) as { runs: { deliveries: { body: string }[] }[] };
const template = ((parseJson((parseJson(golden.runs[0]!.deliveries[3]!.body) as JsonObject)['oslo.message'] as string) as JsonObject)['payload'] as JsonObject)['samples'] as JsonObject[];

const db = openDatabase(await createDatabase(ADMIN, `tally_bench_ingest_${sfx}`), 4);
const bus = await AmqpBus.connect(AMQP, memoryLogger());
const dir = await mkdtemp(join(tmpdir(), 'tally-bench-ingest-'));
const exchange = { name: `ceilometer_bench_${sfx}`, type: 'topic' as const, durable: false, autoDelete: false };
try {
  await migrate(db, analyzerMigrations);
  for (const batch of [500, 2000]) {
    const queue = `tally.analyzer.bench.${sfx}.${batch}`;
    await bus.declareQueue(analyzerQueueSpec({ analyzerQueue: queue, controlExchange: exchange.name, exchangeDurable: false }));
    let id = 0;
    const start = Date.UTC(2026, 10, 21, 10) * 1000;
    const pubs: Promise<void>[] = [];
    for (let m = 0; m < MESSAGES; m++) {
      const samples = Array.from({ length: 50 }, (_, k) => ({
        ...template[k % 2]!, message_id: `b-${batch}-${id++}`, timestamp: new Date((start + m * 1_000_000 + k) / 1000).toISOString().replace('Z', ''),
      }));
      const inner = stringifyJson({ message_id: `n-${m}`, publisher_id: 'ceilometer.polling', event_type: 'telemetry.polling', priority: 'SAMPLE', payload: { samples } as never });
      pubs.push(bus.publish({ exchange, routingKey: 'notifications.sample', body: Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner })) }));
      if (pubs.length >= 200) await Promise.all(pubs.splice(0));
    }
    await Promise.all(pubs);
    const ingest = new Ingestor({ bus, dfs: new LocalDfs(join(dir, String(batch))), db, log: memoryLogger(), clock: () => start / 1000 + 3_600_000 }, {
      analyzerQueue: queue, analyzerId: 'bench', ingestBatchSize: batch, ingestFlushIntervalMs: 200, gapThresholdMs: 630_000,
      controlExchange: exchange.name, exchangeDurable: false,
    });
    const t0 = process.hrtime.bigint();
    await ingest.start();
    while (ingest.stats().messages < MESSAGES) await new Promise((r) => setTimeout(r, 5));
    await ingest.stop(); // every batch durable and every delivery acked
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const st = ingest.stats();
    process.stdout.write(`ingest, batch ${String(batch).padStart(4)} samples/file: ${st.samples} samples (${MESSAGES} messages of 50) in ${s.toFixed(2)} s = ${Math.round(st.samples / s).toLocaleString('en-US')} samples/s, ${st.files} files fsynced\n`);
    await bus.deleteQueue(queue);
    await bus.deleteQueue(`${queue}.dead`);
    await bus.deleteExchange(`${queue}.dead`);
  }
  process.stdout.write(`peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
} finally {
  await bus.deleteExchange(exchange.name).catch(() => undefined);
  await bus.close();
  await db.destroy();
  await dropDatabase(ADMIN, `tally_bench_ingest_${sfx}`);
  await rm(dir, { recursive: true, force: true });
}
