// Nova's notifications through the analyzer into usage_records (PostgreSQL): the real bodies of
// test/fixtures/nova-notifications.json, re-addressed to the test's instances and instants.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ceilometerVectorsDir, createDatabase, dropDatabase, InProcessBus, memoryLogger, migrate, openDatabase, type Delivery, type Knex } from '@tally/common';
import { analyzerMigrations, LocalDfs, NOVA_EVENTS_TABLE, novaCreatedAt, parseJson, queryUsage, startAnalyzer, stringifyJson, type Analyzer, type JsonObject } from '../src/index.js';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = `tally_nova_test_${process.pid}_${Date.now() % 1e6}`;
const CEILOMETER = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
const NOVA = { name: 'nova', type: 'topic' as const, durable: false, autoDelete: false };

const golden = JSON.parse(readFileSync(`${ceilometerVectorsDir()}/polling-agent-notifications.json`, 'utf8')) as { runs: { deliveries: { body: string }[] }[] };
const template = ((parseJson((parseJson(golden.runs[0]!.deliveries[3]!.body) as JsonObject)['oslo.message'] as string) as JsonObject)['payload'] as JsonObject)['samples'] as JsonObject[];
const VM = template[1]!['resource_id'] as string; // web-01, m1.small
const PROJECT = template[1]!['project_id'] as string;
const fixture = JSON.parse(readFileSync(new URL('./fixtures/nova-notifications.json', import.meta.url), 'utf8')) as { bodies: string[] };
const real = (eventType: string): Record<string, any> => {
  const b = fixture.bodies.find((x) => JSON.parse(JSON.parse(x)['oslo.message'] as string)['event_type'] === eventType)!;
  return JSON.parse(JSON.parse(b)['oslo.message'] as string) as Record<string, any>;
};

let n = 0;
/** A real versioned notification of `action`, for instance `uuid` at `timestamp`. */
function nova(action: string, timestamp: string, uuid = VM, format: 'versioned' | 'legacy' = 'versioned', createdAt?: string): Buffer {
  const legacyType: Record<string, string> = { create: 'compute.instance.create.end', power_off: 'compute.instance.power_off.end', delete: 'compute.instance.delete.end' };
  const m = real(format === 'versioned' ? `instance.${action}.end` : legacyType[action]!);
  m['message_id'] = `nova-${++n}`;
  m['timestamp'] = timestamp;
  if (format === 'versioned') Object.assign(m['payload']['nova_object.data'], { uuid, tenant_id: PROJECT }, createdAt ? { created_at: createdAt } : {});
  else Object.assign(m['payload'], { instance_id: uuid, tenant_id: PROJECT });
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(m) }));
}
const beats = (vm: string, stamps: string[]): Buffer => Buffer.from(stringifyJson({
  message_id: `n-${++n}`, publisher_id: 'telemetry.publisher.c1', event_type: 'metering', priority: 'SAMPLE',
  payload: stamps.map((timestamp) => ({ ...template[1]!, resource_id: vm, timestamp, message_id: `s-${++n}` })),
}));
const every5 = (day: string, h: number, from: number, to: number) => Array.from({ length: Math.floor((to - from) / 5) + 1 }, (_, i) => `${day}T${String(h).padStart(2, '0')}:${String(from + 5 * i).padStart(2, '0')}:00`);

describe("Nova's notifications in the analyzer (PostgreSQL)", () => {
  let db: Knex;
  let dir: string;
  let bus: InProcessBus;
  let analyzer: Analyzer;
  const dead: Delivery[] = [];

  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 4);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-nova-'));
    bus = new InProcessBus();
    analyzer = await startAnalyzer({ bus, dfs: new LocalDfs(join(dir, 'dfs')), db, log: memoryLogger(), clock: () => Date.UTC(2026, 10, 3, 12) }, {
      analyzerQueue: 'tally.analyzer', analyzerId: 'an-1', ingestBatchSize: 1000, ingestFlushInterval: 60_000,
      gapThreshold: 630_000, windowInterval: 3_600_000, controlExchange: 'ceilometer', exchangeDurable: false, novaNotifications: 'both',
    });
    await bus.consume({ name: 'tally.analyzer.nova.dead', durable: true, bindings: [] }, { prefetch: 10 }, (d) => {
      dead.push(d);
      return Promise.resolve('ack');
    });
  });

  after(async () => {
    await analyzer?.stop();
    await bus?.close();
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let published = 0;
  const toNova = (routingKey: string, body: Buffer) => {
    published++;
    return bus.publish({ exchange: NOVA, routingKey, body });
  };
  /** Wait until every Nova message published so far is settled, then write samples and run the window job. */
  async function settle(): Promise<void> {
    const done = () => {
      const s = analyzer.stats().nova!;
      return s.messages === published && s.events + s.duplicates + s.ignored + s.deadLetters + s.failures === published;
    };
    for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(done(), JSON.stringify(analyzer.stats().nova));
    for (let i = 0; i < 400 && (await bus.queueDepth('tally.analyzer')) > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    await analyzer.flush();
  }
  const usage = async (meter: string, vm?: string) => (await queryUsage(db, { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-04T00:00:00Z') }))
    .filter((r) => r.meter === meter && (vm === undefined || r.resourceId === vm));

  it('a VM shut off for two days and then deleted: exact running time, and its project billed until the delete', async () => {
    await toNova('versioned_notifications.info', nova('create', '2026-11-01 10:00:00.000000', VM, 'versioned', '2026-11-01T09:59:50Z'));
    await bus.publish({ exchange: CEILOMETER, routingKey: 'metering.sample', body: beats(VM, every5('2026-11-01', 10, 1, 51)) });
    await toNova('versioned_notifications.info', nova('power_off', '2026-11-01 10:53:30.000000'));
    await settle();
    // 10:00:00 .. 10:53:30 (the heartbeats alone: 10:01 .. 10:51 = 3000 s).
    assert.deepEqual((await usage('instance')).map((r) => [r.windowStart.toISOString(), r.quantity, r.samples]), [['2026-11-01T10:00:00.000Z', '3210', 11]]);
    // Not deleted yet: the span runs on, hour after hour without a heartbeat, up to the analyzer's now (11-03 12:00).
    const open = await usage('project.span');
    assert.equal(open.length, 51, '11-01 10:00 .. 11-03 12:00');
    assert.ok(open.every((r) => r.quantity === '3600' && r.resourceId === PROJECT));

    await toNova('versioned_notifications.info', nova('delete', '2026-11-03 10:53:30.000000'));
    await settle();
    const span = await usage('project.span');
    assert.equal(span.length, 49, '11-01 10:00 .. 11-03 10:00');
    assert.equal(span[48]!.quantity, '3210');
    assert.equal(span.reduce((s, r) => s + Number(r.quantity), 0), 48 * 3600 + 3210);
    assert.deepEqual((await novaCreatedAt(db, [VM])).get(VM)?.toISOString(), '2026-11-01T09:59:50.000Z', "RESOURCE_AGE's creation time from the payload");
  });

  it('duplicates and legacy twins change nothing; a bad body is dead-lettered with its field; other events are counted', async () => {
    const before = { events: analyzer.stats().nova!.events, rows: await usage('instance') };
    const again = nova('power_off', '2026-11-01 10:53:30.000000');
    await toNova('versioned_notifications.info', again);
    await toNova('versioned_notifications.info', again);
    await toNova('notifications.info', nova('power_off', '2026-11-01 10:53:29.990000', VM, 'legacy'));
    await toNova('versioned_notifications.info', Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"event_type\\": \\"instance.delete.end\\", \\"message_id\\": \\"x\\", \\"timestamp\\": \\"2026-11-01 10:00:00\\", \\"payload\\": {}}"}'));
    await toNova('versioned_notifications.info', Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(real('instance.update')) })));
    await settle();
    const st = analyzer.stats().nova!;
    assert.equal(st.events, before.events + 2, 'the new power_off and its legacy twin are stored (as received)');
    assert.equal(st.duplicates, 1);
    assert.equal(st.deadLetters, 1);
    assert.equal(st.ignored, 1);
    assert.deepEqual(await usage('instance'), before.rows);
    assert.equal(dead.length, 1);
    const letter = JSON.parse(dead[0]!.body.toString()) as { field: string; reason: string; body: string };
    assert.equal(letter.field, 'payload.nova_object.data');
    assert.match(letter.body, /instance\.delete\.end/);
    // Stored as received, byte for byte.
    const stored = (await db(NOVA_EVENTS_TABLE).where('body', again.toString()).count('* as c'))[0]!['c'];
    assert.equal(stored, '1');
  });

  it('a delete that arrives before the last sample: the sample after the delete adds nothing', async () => {
    const B = '0b0b0b0b-0000-4000-8000-00000000000b';
    await bus.publish({ exchange: CEILOMETER, routingKey: 'metering.sample', body: beats(B, every5('2026-11-02', 21, 0, 10)) });
    await toNova('versioned_notifications.info', nova('delete', '2026-11-02 21:12:30.000000', B));
    await settle();
    const first = (await usage('instance', B)).map((r) => r.quantity);
    // The agent's last poll (21:15) raced the delete and reaches the analyzer later.
    await bus.publish({ exchange: CEILOMETER, routingKey: 'metering.sample', body: beats(B, ['2026-11-02T21:15:00']) });
    await settle();
    assert.deepEqual(first, ['750']);
    assert.deepEqual((await usage('instance', B)).map((r) => [r.quantity, r.samples]), [['750', 4]]);
  });
});
