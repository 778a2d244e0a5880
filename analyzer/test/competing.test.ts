// Two analyzers share one queue on the machine's RabbitMQ (competing consumers): every
// good sample lands in the DFS exactly once, both take a share, bad signatures are dead-lettered.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { computeSignature } from '@tally/ceilometer-publisher';
import { AmqpBus, createDatabase, dropDatabase, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, Ingestor, LocalDfs, parseJson, stringifyJson, toPyValue, type JsonObject } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const AMQP = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';
const SUFFIX = `${process.pid}_${randomBytes(4).toString('hex')}`;
const DB = `tally_analyzer_cc_${SUFFIX}`;
const EXCHANGE = `ceilometer_test_${SUFFIX}`;
const QUEUE = `tally.analyzer.test.${SUFFIX}`;
const SECRET = 's3cr3t';

function sample(i: number, good: boolean): JsonObject {
  const s: Record<string, unknown> = {
    source: 'openstack', counter_name: 'cpu', counter_type: 'cumulative', counter_unit: 'ns', counter_volume: 9085000000000121n + BigInt(i),
    user_id: 'u', project_id: 'p', resource_id: `vm-${i % 7}`, timestamp: new Date(Date.UTC(2026, 10, 21, 20) + i * 1000).toISOString().replace('Z', ''),
    resource_metadata: { display_name: `vm-${i % 7}` }, message_id: `m-${i}`, monotonic_time: null,
  };
  const wire = parseJson(stringifyJson(s as never).replace(/"counter_volume":"(\d+)"/, '"counter_volume":$1')) as JsonObject;
  wire['message_signature'] = good ? computeSignature(toPyValue(wire) as Map<string, never>, SECRET) : 'f'.repeat(64);
  return wire;
}

describe('competing consumers on RabbitMQ', () => {
  let db: Knex;
  let dir: string;
  const buses: AmqpBus[] = [];
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 4);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-cc-'));
  });
  after(async () => {
    const admin = buses[0];
    if (admin) {
      for (const q of [QUEUE, `${QUEUE}.dead`]) await admin.deleteQueue(q).catch(() => undefined);
      for (const x of [EXCHANGE, `${QUEUE}.dead`]) await admin.deleteExchange(x).catch(() => undefined);
    }
    for (const b of buses) await b.close();
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('two analyzers share the queue; each good sample is written once; bad signatures are dead-lettered', async () => {
    const dfs = new LocalDfs(join(dir, 'dfs'));
    const ingestors: Ingestor[] = [];
    for (const id of ['an-1', 'an-2']) {
      const bus = await AmqpBus.connect(AMQP, memoryLogger());
      buses.push(bus);
      const ing = new Ingestor({ bus, dfs, db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 21, 22) }, {
        analyzerQueue: QUEUE, analyzerId: id, ingestBatchSize: 50, ingestFlushIntervalMs: 50, gapThresholdMs: 630_000,
        controlExchange: EXCHANGE, exchangeDurable: false, verify: 'enforce', signatureSecret: SECRET,
      });
      await ing.start();
      ingestors.push(ing);
    }
    const pub = await AmqpBus.connect(AMQP, memoryLogger());
    buses.push(pub);
    const ex = { name: EXCHANGE, type: 'topic' as const, durable: false, autoDelete: false };
    const MESSAGES = 120;
    const PER = 10;
    let bad = 0;
    for (let m = 0; m < MESSAGES; m++) {
      const samples = Array.from({ length: PER }, (_, k) => {
        const i = m * PER + k;
        const good = i % 17 !== 0;
        if (!good) bad++;
        return sample(i, good);
      });
      const inner = stringifyJson({ message_id: `n-${m}`, publisher_id: 'ceilometer.polling', event_type: 'telemetry.polling', priority: 'SAMPLE', payload: { samples } });
      await pub.publish({ exchange: ex, routingKey: m % 2 === 0 ? 'notifications.sample' : 'metering.sample', body: Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner })) });
    }
    const taken = (): number => ingestors.reduce((n, i) => n + i.stats().messages, 0);
    for (let i = 0; i < 1000 && taken() < MESSAGES; i++) await new Promise((r) => setTimeout(r, 10));
    for (const i of ingestors) await i.stop();
    const st = ingestors.map((i) => i.stats());
    assert.equal(st[0]!.messages + st[1]!.messages, MESSAGES);
    assert.ok(st.every((s) => s.messages > 0), `both consumers took a share: ${st.map((s) => s.messages).join('/')}`);
    assert.equal(st[0]!.deadLetters + st[1]!.deadLetters, bad);
    const ids: string[] = [];
    for (const f of await dfs.list('raw/')) {
      for (const line of (await dfs.readFile(f)).toString().trim().split('\n')) ids.push((parseJson(line) as JsonObject)['message_id'] as string);
    }
    assert.equal(ids.length, MESSAGES * PER - bad);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(await pub.queueDepth(QUEUE), 0);
    assert.equal(await pub.queueDepth(`${QUEUE}.dead`), bad);
  });
});
