// Scheduler rounds on the machine's PostgreSQL, the in-process bus and the local driver with
// analyzers started in this process (as in `tally start`): a backlog with no consumer raises
// the alert and makes the scheduler add an analyzer; once the queue is empty it drains and
// removes it; every sample reaches the DFS exactly once. Plus the registry: registration,
// change, stale heartbeats, lost and recovered parts, malformed heartbeats dead-lettered.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createDatabase, dropDatabase, encodeHeartbeat, HEARTBEAT_QUEUE, heartbeatKey, InProcessBus, listAlerts, memoryLogger, migrate, openDatabase, REGISTRY_EXCHANGE,
  type ComponentHeartbeat, type Knex,
} from '@tally/common';
import { analyzerMigrations, analyzerQueueSpec, LocalDfs } from '@tally/analyzer';
import {
  addScalingPolicyVersion, InProcessLauncher, listActions, listComponents, listDecisions, LocalDriver, recordHeartbeat, schedulerMigrations, startScheduler,
  type LeaderLock, type Scheduler,
} from '../src/index.js';

const ADMIN = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SUFFIX = `${process.pid}_${randomBytes(4).toString('hex')}`;
const EXCHANGE = `ceilometer_sched_${SUFFIX}`;
const QUEUE = `tally.analyzer.sched.${SUFFIX}`;
const SETTINGS = {
  schedulerDriver: 'local' as const, schedulerClusters: 'analyzer', schedulerInterval: 3_600_000, lostAfter: 30_000, seriesRetention: 3_600_000,
  drainTimeout: 60_000, registerTimeout: 60_000, createTimeout: 60_000, heartbeatQueue: 'tally.registry.heartbeats', alertWebhookUrl: '', alertWebhookTimeout: 1000, analyzerQueue: QUEUE,
};
const always: LeaderLock = { tryAcquire: () => Promise.resolve(true), held: () => true, release: () => Promise.resolve() };

/** `n` messages of 10 cpu samples each, ids unique. */
function bodies(from: number, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = from; i < from + n; i++) {
    const samples = Array.from({ length: 10 }, (_, k) => {
      const j = i * 10 + k;
      const ts = new Date(Date.UTC(2026, 10, 20, 6) + j * 1000).toISOString().replace('Z', '');
      return `{"source":"openstack","counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":${9085000000000000 + j},"user_id":"u","project_id":"p","resource_id":"vm-${j % 5}","timestamp":"${ts}","resource_metadata":{},"message_id":"s-${j}","monotonic_time":null,"message_signature":""}`;
    });
    const inner = `{"message_id":"n-${i}","publisher_id":"ceilometer.polling","event_type":"telemetry.polling","priority":"SAMPLE","payload":{"samples":[${samples.join(',')}]},"timestamp":"2026-11-20 12:00:00.000000"}`;
    out.push(Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner })));
  }
  return out;
}

describe('scheduler rounds (PostgreSQL, in-process bus, local driver)', () => {
  let db: Knex;
  let dir: string;
  const name = `tally_sched_${SUFFIX}`;
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, name), 6);
    await migrate(db, [...analyzerMigrations, ...schedulerMigrations]);
    dir = await mkdtemp(join(tmpdir(), 'tally-sched-'));
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, name);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('registry: registers, updates on change, ignores stale heartbeats; lost parts are alerted and resolved when back; bad ones dead-lettered', async () => {
    let now = Date.parse('2026-12-04T10:00:00Z');
    const hb = (over: Partial<ComponentHeartbeat> = {}): ComponentHeartbeat => ({
      id: 'agent:compute-9', role: 'agent', cluster: 'agent', node: 'compute-9', version: '0.1.0', endpoints: {}, state: 'running',
      startedAt: '2026-12-04T09:00:00.000Z', at: new Date(now).toISOString(), load: null, metrics: {}, ...over,
    });
    assert.deepEqual(await recordHeartbeat(db, hb()), { registered: true, recovered: false, stale: false });
    const [first] = await listComponents(db, { role: 'agent' });
    now += 10_000;
    assert.deepEqual(await recordHeartbeat(db, hb()), { registered: false, recovered: false, stale: false });
    assert.equal((await listComponents(db, { role: 'agent' }))[0]!.changed_at, first!.changed_at, 'nothing changed');
    now += 10_000;
    await recordHeartbeat(db, hb({ version: '0.2.0' }));
    const changed = (await listComponents(db, { role: 'agent' }))[0]!;
    assert.deepEqual([changed.version, changed.changed_at, changed.heartbeats], ['0.2.0', new Date(now).toISOString(), '3']);
    assert.equal((await recordHeartbeat(db, hb({ at: '2026-12-04T09:59:00.000Z' }))).stale, true);

    const bus = new InProcessBus();
    const driver = new LocalDriver({ launch: () => Promise.reject(new Error('no members in this test')) }, memoryLogger());
    const s = await startScheduler({ db, bus, driver, lock: always, log: memoryLogger(), actor: 'test', clock: () => now }, { ...SETTINGS, schedulerClusters: 'none' });
    try {
      // A heartbeat over the bus (an agent without database access), and a malformed one.
      now += 5_000;
      await bus.publish({ exchange: REGISTRY_EXCHANGE, routingKey: heartbeatKey('agent'), body: encodeHeartbeat(hb({ id: 'agent:compute-10', node: 'compute-10' })) });
      await bus.publish({ exchange: REGISTRY_EXCHANGE, routingKey: heartbeatKey('agent'), body: Buffer.from('{"id": "x"}') });
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(s.stats.heartbeats, 1);
      assert.deepEqual(s.stats.badHeartbeats, 1);
      assert.equal(await bus.queueDepth('tally.registry.heartbeats.dead'), 1);
      assert.equal(await bus.queueDepth(HEARTBEAT_QUEUE.name), 0);
      now += 40_000; // compute-9 silent for 45 s, compute-10 for 40 s: both past lost-after (30 s)
      await s.tick();
      const lost = await listComponents(db, { state: 'lost' });
      assert.deepEqual(lost.map((c) => c.id), ['agent:compute-10', 'agent:compute-9']);
      const alerts = await listAlerts(db, { kind: 'component_lost' });
      assert.deepEqual(alerts.map((a) => a.key).sort(), ['component-lost:agent:compute-10', 'component-lost:agent:compute-9']);
      await s.tick(); // still lost: swept once, so still the same two alerts
      assert.equal((await listAlerts(db, { kind: 'component_lost' })).length, 2);
      now += 1000;
      assert.equal((await recordHeartbeat(db, hb())).recovered, true);
      await s.tick();
      assert.deepEqual((await listAlerts(db, { kind: 'component_lost' })).map((a) => a.key), ['component-lost:agent:compute-10']);
      assert.equal((await listAlerts(db, { kind: 'component_lost', state: 'resolved' }))[0]!.key, 'component-lost:agent:compute-9');
    } finally {
      await s.stop();
      await bus.close();
    }
  });

  it('a backlog adds an analyzer, an empty queue drains and removes it; every sample is written once', { timeout: 60_000 }, async () => {
    const bus = new InProcessBus();
    const dfs = new LocalDfs(join(dir, 'dfs'));
    const log = memoryLogger();
    let now = Date.now();
    const clock = () => now;
    await addScalingPolicyVersion(db, { cluster: 'analyzer', createdBy: 'test', source: `
min_size: 0
max_size: 2
scale_out:
  cooldown: 0s
  when_any: ["last queue_depth_per_replica > 50 over 2s"]
scale_in:
  cooldown: 0s
  stabilization: 0s
  when_all: ["max queue_depth < 1 over 2s"]
` });
    const launcher = new InProcessLauncher({
      bus, dfs, db, log, heartbeatIntervalMs: 3_600_000, version: 'test', clock,
      analyzer: { ingestBatchSize: 100, ingestFlushInterval: 20, gapThreshold: 630_000, windowInterval: 3_600_000, controlExchange: EXCHANGE, exchangeDurable: false },
    });
    const driver = new LocalDriver(launcher, log);
    let s: Scheduler | undefined;
    try {
      s = await startScheduler({ db, bus, driver, lock: always, log, actor: 'scheduler-test', clock }, SETTINGS);
      await bus.declareQueue(analyzerQueueSpec({ analyzerQueue: QUEUE, controlExchange: EXCHANGE, exchangeDurable: false }));
      const ex = { name: EXCHANGE, type: 'topic' as const, durable: false, autoDelete: false };
      const publish = async (bs: Buffer[]) => { for (const b of bs) await bus.publish({ exchange: ex, routingKey: 'notifications.sample', body: b }); };
      // No analyzer: the queue grows over three rounds, one second apart.
      const step = async () => { now += 1000; return (await s!.tick())[0]!; };
      await publish(bodies(0, 100));
      assert.equal((await step()).decision.reason, 'within thresholds (2 rules without a whole window of data yet)');
      await publish(bodies(100, 100));
      await step();
      assert.deepEqual((await listAlerts(db, { kind: 'queue_no_consumer' })).map((a) => a.key), [`queue-no-consumer:${QUEUE}`]);
      const out = await step();
      // The series reaches back 2 s at the third round; its latest depth is 200 for 0 replicas (counted as 1).
      assert.deepEqual([out.decision.action, out.decision.count, out.decision.reason], ['out', 1, 'latest queue depth 200 > 50 per replica for 2 s']);
      const created = await listActions(db, { cluster: 'analyzer' });
      assert.deepEqual(created.map((a) => [a.kind, a.member, a.step]).reverse(), [['scale_out', null, 'started'], ['create', 'analyzer-1', 'started']]);
      // analyzer-1 runs in this process and takes the backlog.
      for (let i = 0; i < 200 && (await bus.queueDepth(QUEUE)) > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await bus.queueDepth(QUEUE), 0);
      const running = await step();
      assert.equal(running.decision.reason, 'within thresholds');
      assert.deepEqual((await listAlerts(db, { kind: 'queue_no_consumer' })).length, 0, 'resolved once a consumer runs');
      assert.equal((await listComponents(db, { role: 'analyzer' }))[0]!.state, 'running');
      // The window (3 s, 5 s] holds only empty-queue observations.
      const remove = await step();
      assert.deepEqual([remove.decision.action, remove.decision.reason], ['in', 'highest queue depth 0 < 1 for 2 s']);
      // The drain runs over the bus; the analyzer deregisters; the next rounds delete it.
      for (let i = 0; i < 100 && (await listComponents(db, { role: 'analyzer' }))[0]!.state !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal((await listComponents(db, { role: 'analyzer' }))[0]!.state, 'stopped');
      await step();
      await step();
      const steps = (await listActions(db, { cluster: 'analyzer' })).reverse().map((a) => `${a.kind}/${a.member ?? ''}/${a.step}`);
      assert.deepEqual(steps, ['scale_out//started', 'create/analyzer-1/started', 'create/analyzer-1/succeeded', 'scale_in//started', 'drain/analyzer-1/started',
        'drain/analyzer-1/succeeded', 'delete/analyzer-1/started', 'delete/analyzer-1/succeeded']);
      const log2 = await listDecisions(db, { cluster: 'analyzer', actionsOnly: true });
      assert.deepEqual(log2.map((d) => [d.action, d.members]), [['in', ['analyzer-1']], ['out', ['analyzer-1']]]);
      // Every sample once in the DFS: 200 messages × 10 samples, ids s-0 … s-1999.
      const ids: string[] = [];
      for (const f of await dfs.list('raw/')) for (const line of (await dfs.readFile(f)).toString("utf8").split('\n')) if (line) ids.push(/"message_id":"(s-\d+)"/.exec(line)![1]!);
      assert.equal(ids.length, 2000);
      assert.equal(new Set(ids).size, 2000);
    } finally {
      await s?.stop();
      await driver.close();
      await bus.close();
    }
  });
});
