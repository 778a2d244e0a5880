// `tally scheduler` with the local driver on the machine's RabbitMQ and PostgreSQL: a backlog
// on the analyzer queue makes it add a second `tally analyzer` process; once the backlog is
// gone, while samples still trickle in, it drains the newest analyzer over the bus (the
// analyzer stops its intake, writes and acknowledges its batch, deregisters and exits 0) and
// removes it. Afterwards the usage equals that of the pure in-process job over the same
// samples, exactly: no sample lost or counted twice across the scale-in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AmqpBus, createDatabase, dropDatabase, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerQueueSpec, DIRTY_TABLE, queryUsage, runInProcess, sortUsage, type UsageRecord } from '@tally/analyzer';
import { addScalingPolicyVersion, listActions, listComponents, listDecisions } from '@tally/scheduler';
import { ALL_MIGRATIONS } from '@tally/cli';
import { ADMIN_DB_URL, AMQP_URL, eventually, tally, type Proc } from './helpers.js';

const S = 1_000_000;
const START_US = Date.UTC(2026, 10, 19, 6) * 1000; // two days back: every window closes at once

/** `vms` VMs over 6 h: cpu (cumulative, above 2^53) and memory.usage (gauge), as 50-sample messages. */
function workload(vms: number): { lines: string[]; bodies: Buffer[] } {
  const samples: string[] = [];
  let id = 0;
  for (let v = 0; v < vms; v++) {
    for (let k = 0; k < 72; k++) {
      if ((v + k) % 23 === 0) continue;
      const ts = new Date((START_US + k * 300 * S + v * 1_000_003) / 1000).toISOString().replace('Z', '');
      const common = `"user_id":"u","project_id":"p${v % 5}","resource_id":"vm-${v}","timestamp":"${ts}","source":"openstack","monotonic_time":null,"message_signature":""`;
      samples.push(`{"counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":${9_085_000_000_000_000n + BigInt(k) * 299_000_000_000n},${common},"resource_metadata":{"vcpus":${1 + (v % 3)},"memory_mb":${1024 * (1 + (v % 3))},"display_name":"vm-${v}"},"message_id":"c-${id++}"}`);
      samples.push(`{"counter_name":"memory.usage","counter_type":"gauge","counter_unit":"MB","counter_volume":${(k * 37 + v) % 900}.5,${common},"resource_metadata":{},"message_id":"g-${id++}"}`);
    }
  }
  const bodies: Buffer[] = [];
  for (let i = 0; i < samples.length; i += 50) {
    const inner = `{"message_id":"n-${i}","publisher_id":"ceilometer.polling","event_type":"telemetry.polling","priority":"SAMPLE","payload":{"samples":[${samples.slice(i, i + 50).join(',')}]},"timestamp":"2026-11-19 12:00:00.000000"}`;
    bodies.push(Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner })));
  }
  return { lines: samples, bodies };
}

const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) =>
  [r.windowStart.toISOString(), r.windowEnd.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.userId, r.flavorName, r.vcpus, r.memoryMb, r.displayName].join(' | '));

describe('tally scheduler with the local driver (RabbitMQ + PostgreSQL)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('a backlog adds an analyzer process; after it, the newest is drained and removed; usage equals the fault-free run', { timeout: 240_000 }, async () => {
    const { lines, bodies } = workload(500);
    const expected = canon(runInProcess(lines, { gapThresholdUs: 630 * S }));
    const sfx = randomBytes(4).toString('hex');
    const dbName = `tally_sched_local_${sfx}`;
    const exchange = `ceilometer_sched_${sfx}`;
    const queue = `tally.analyzer.sched.${sfx}`;
    const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
    const db: Knex = openDatabase(dbUrl, 2);
    const dir = mkdtempSync(join(tmpdir(), 'tally-sched-local-'));
    const bus = await AmqpBus.connect(AMQP_URL, memoryLogger());
    const procs: Proc[] = [];
    cleanups.push(async () => {
      for (const p of procs) await p.stop('SIGTERM');
      for (const q of [queue, `${queue}.dead`, `tally.registry.sched.${sfx}`, `tally.registry.sched.${sfx}.dead`, 'tally.analyzer.control.dead']) await bus.deleteQueue(q).catch(() => undefined);
      for (const x of [exchange, `${queue}.dead`]) await bus.deleteExchange(x).catch(() => undefined);
      await bus.close();
      await db.destroy();
      await dropDatabase(ADMIN_DB_URL, dbName);
      rmSync(dir, { recursive: true, force: true });
    });
    await migrate(db, ALL_MIGRATIONS);
    await addScalingPolicyVersion(db, { cluster: 'analyzer', createdBy: 'test', source: `
min_size: 1
max_size: 2
scale_out:
  step: 1
  cooldown: 0s
  when_any: ["min queue_depth_per_replica > 300 over 1500ms"]
scale_in:
  step: 1
  cooldown: 3s
  stabilization: 2s
  when_all: ["max queue_depth < 100 over 3s"]
` });
    await bus.declareQueue(analyzerQueueSpec({ analyzerQueue: queue, controlExchange: exchange, exchangeDurable: false }));
    const ex = { name: exchange, type: 'topic' as const, durable: false, autoDelete: false };
    const publish = (b: Buffer) => bus.publish({ exchange: ex, routingKey: 'notifications.sample', body: b, properties: { contentType: 'application/json' } });
    const backlog = bodies.length - 400;
    await Promise.all(bodies.slice(0, backlog).map(publish));
    assert.equal(await bus.queueDepth(queue), backlog);

    const scheduler = tally(['scheduler', '--amqp-url', AMQP_URL, '--database-url', dbUrl, '--dfs-url', `file://${dir}/dfs`, '--data-dir', join(dir, 'data'),
      '--analyzer-queue', queue, '--control-exchange', exchange, '--scheduler-driver', 'local', '--scheduler-interval', '500ms', '--heartbeat-interval', '500ms',
      '--lost-after', '20s', '--heartbeat-queue', `tally.registry.sched.${sfx}`, '--drain-timeout', '60s', '--ingest-batch-size', '300', '--ingest-flush-interval', '150ms', '--window-interval', '1s',
      '--allowed-lateness', '0s', '--log-level', 'info']);
    procs.push(scheduler);
    cleanups.push(async () => {
      // What the scheduler said, for a failure's post-mortem.
      if (process.env['TALLY_TEST_KEEP_OUTPUT']) writeFileSync(process.env['TALLY_TEST_KEEP_OUTPUT'], scheduler.output());
    });
    await scheduler.waitFor(/scheduler running/, 30_000);
    // Below min size: analyzer-1; the backlog stays over 300 per replica: analyzer-2.
    await eventually('two analyzers', 90_000, async () => ((await listDecisions(db, { cluster: 'analyzer', actionsOnly: true })).some((d) => d.action === 'out' && d.members.includes('analyzer-2')) ? true : undefined));
    const out = (await listDecisions(db, { cluster: 'analyzer', actionsOnly: true })).reverse();
    assert.deepEqual(out.map((d) => [d.action, d.members, d.reason.replace(/[\d.,]+ >/, 'N >')]).slice(0, 2),
      [['out', ['analyzer-1'], 'below min size 1 (0 members)'], ['out', ['analyzer-2'], 'lowest queue depth N > 300 per replica for 1.5 s']]);
    await eventually('both registered', 30_000, async () => ((await listComponents(db, { role: 'analyzer', state: 'running' })).length === 2 ? true : undefined));

    // The backlog drains; then samples trickle in while the scheduler scales in.
    await eventually('backlog taken', 120_000, async () => ((await bus.queueDepth(queue)) < 100 ? true : undefined));
    const trickleEnd = { at: 0 };
    const trickle = (async () => {
      for (const b of bodies.slice(backlog)) {
        await publish(b);
        await new Promise((r) => setTimeout(r, 100));
      }
      trickleEnd.at = Date.now();
    })();
    const step = (kind: string, s: string) => async () => ((await listActions(db, { cluster: 'analyzer' })).some((a) => a.kind === kind && a.member === 'analyzer-2' && a.step === s) ? true : undefined);
    await eventually('analyzer-2 asked to drain', 120_000, step('drain', 'started'));
    const drainAsked = Date.now();
    await eventually('analyzer-2 drained and deleted', 90_000, step('delete', 'succeeded'));
    await trickle;
    assert.ok(drainAsked < trickleEnd.at, 'the scale-in began while samples were still arriving');
    const steps = (await listActions(db, { cluster: 'analyzer' })).reverse().filter((a) => a.member === 'analyzer-2').map((a) => `${a.kind}/${a.step}`);
    assert.deepEqual(steps, ['create/started', 'create/succeeded', 'drain/started', 'drain/succeeded', 'delete/started', 'delete/succeeded']);
    assert.equal((await listComponents(db, { role: 'analyzer' })).find((c) => c.id === 'analyzer-2')?.state, 'stopped', 'deregistered, not lost');
    const log2 = readFileSync(join(dir, 'data', 'scheduler', 'local', 'analyzer-2.log'), 'utf8');
    assert.match(log2, /drain requested/);
    assert.match(log2, /drained on the scheduler's request; exiting/);
    const scaleIn = (await listDecisions(db, { cluster: 'analyzer', actionsOnly: true })).find((d) => d.action === 'in')!;
    assert.deepEqual([scaleIn.members, scaleIn.from_size, scaleIn.to_size], [['analyzer-2'], 2, 1]);
    assert.match(scaleIn.reason, /^highest queue depth \d+ < 100 for 3 s$/);

    // Settled: nothing in the queue, no window marked, three times in a row.
    let calm = 0;
    await eventually('queue drained and windows computed', 120_000, async () => {
      const depth = await bus.queueDepth(queue);
      const dirty = Number(((await db(DIRTY_TABLE).count('* as n')) as { n: string }[])[0]!.n);
      calm = depth === 0 && dirty === 0 ? calm + 1 : 0;
      return calm >= 3 ? true : undefined;
    });
    assert.equal(await scheduler.stop('SIGTERM'), 0, scheduler.output().slice(-3000));
    assert.equal(await bus.queueDepth(`${queue}.dead`), 0);
    const rows = await queryUsage(db, { from: new Date('2026-11-18T00:00:00Z'), to: new Date('2026-11-22T00:00:00Z') });
    assert.deepEqual(canon(rows), expected);
    assert.equal((await listComponents(db, { role: 'analyzer' })).find((c) => c.id === 'analyzer-1')?.state, 'stopped', 'the scheduler stopped its analyzer on the way out');
  });
});
