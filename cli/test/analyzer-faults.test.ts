// Faults on the machine's RabbitMQ and PostgreSQL: `tally analyzer` SIGKILLed in the middle
// of a batch and restarted; the broker connection cut (a TCP proxy the test controls) and
// restored. Afterwards the usage equals that of a run without faults (the pure in-process
// job over the same samples), exactly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AmqpBus, createDatabase, dropDatabase, memoryLogger, openDatabase, type Knex } from '@tally/common';
import { analyzerQueueSpec, DIRTY_TABLE, LocalDfs, queryUsage, runInProcess, sortUsage, type UsageRecord } from '@tally/analyzer';
import { ADMIN_DB_URL, AMQP_URL, eventually, tally, type Proc } from './helpers.js';

const S = 1_000_000;
// Two days ago on an hour boundary: every window closes at once, and the samples are
// well inside the analyzer's accepted event-time window (sample-max-age, 35 days).
const START_US = (Math.floor(Date.now() / 3_600_000) - 48) * 3_600_000 * 1000;

/** 30 VMs in 4 projects over 6 h: cpu (cumulative, above 2^53) and memory.usage (gauge), as 50-sample messages. */
function workload(): { lines: string[]; bodies: Buffer[] } {
  const samples: string[] = [];
  let id = 0;
  for (let v = 0; v < 30; v++) {
    for (let k = 0; k < 72; k++) {
      if ((v + k) % 23 === 0) continue; // a missed poll now and then
      const t = START_US + k * 300 * S + v * 1_000_003;
      const ts = new Date(t / 1000).toISOString().replace('Z', '');
      const common = `"user_id":"u","project_id":"p${v % 4}","resource_id":"vm-${v}","timestamp":"${ts}","source":"openstack","monotonic_time":null,"message_signature":""`;
      samples.push(`{"counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":${9_085_000_000_000_000n + BigInt(k) * 299_000_000_000n},${common},"resource_metadata":{"vcpus":${1 + (v % 3)},"memory_mb":${1024 * (1 + (v % 3))},"display_name":"vm-${v}"},"message_id":"c-${id++}"}`);
      samples.push(`{"counter_name":"memory.usage","counter_type":"gauge","counter_unit":"MB","counter_volume":${(k * 37 + v) % 900}.5,${common},"resource_metadata":{},"message_id":"g-${id++}"}`);
    }
  }
  const bodies: Buffer[] = [];
  for (let i = 0; i < samples.length; i += 50) {
    const inner = `{"message_id":"n-${i}","publisher_id":"ceilometer.polling","event_type":"telemetry.polling","priority":"SAMPLE","payload":{"samples":[${samples.slice(i, i + 50).join(',')}]},"timestamp":"2026-11-20 12:00:00.000000"}`;
    bodies.push(Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner })));
  }
  return { lines: samples, bodies };
}

const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) =>
  [r.windowStart.toISOString(), r.windowEnd.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.userId, r.flavorName, r.vcpus, r.memoryMb, r.displayName].join(' | '));

/** A TCP proxy to RabbitMQ that the test can cut (every connection reset, new ones refused) and restore. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private up = true;
  port = 0;
  async start(): Promise<void> {
    const target = new URL(AMQP_URL);
    this.server = createServer((client) => {
      if (!this.up) return client.destroy();
      const upstream = connect(Number(target.port || 5672), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as { port: number }).port;
  }
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.resetAndDestroy();
  }
  restore(): void {
    this.up = true;
  }
  url(): string {
    const u = new URL(AMQP_URL);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

const { lines, bodies } = workload();
const expected = canon(runInProcess(lines, { gapThresholdUs: 630 * S }));

describe('analyzer faults (RabbitMQ + PostgreSQL)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  async function scenario(name: string, fault: (ctx: { analyzer: () => Proc; restart(): void; proxy: Proxy; dfs: LocalDfs }) => Promise<void>): Promise<void> {
    const sfx = `${name}_${randomBytes(4).toString('hex')}`;
    const dbName = `tally_fault_${sfx}`;
    const exchange = `ceilometer_fault_${sfx}`;
    const queue = `tally.analyzer.fault.${sfx}`;
    const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
    const db: Knex = openDatabase(dbUrl, 2);
    const dir = mkdtempSync(join(tmpdir(), `tally-fault-${name}-`));
    const bus = await AmqpBus.connect(AMQP_URL, memoryLogger());
    const proxy = new Proxy();
    await proxy.start();
    let proc: Proc | undefined;
    cleanups.push(async () => {
      await proc?.stop('SIGKILL');
      await proxy.close();
      for (const q of [queue, `${queue}.dead`]) await bus.deleteQueue(q).catch(() => undefined);
      for (const x of [exchange, `${queue}.dead`]) await bus.deleteExchange(x).catch(() => undefined);
      await bus.close();
      await db.destroy();
      await dropDatabase(ADMIN_DB_URL, dbName);
      rmSync(dir, { recursive: true, force: true });
    });
    const ex = { name: exchange, type: 'topic' as const, durable: false, autoDelete: false };
    await bus.declareQueue(analyzerQueueSpec({ analyzerQueue: queue, controlExchange: exchange, exchangeDurable: false }));
    const start = (): Proc => {
      const p = tally(['analyzer', '--amqp-url', proxy.url(), '--database-url', dbUrl, '--dfs-url', `file://${dir}/dfs`, '--analyzer-queue', queue,
        '--control-exchange', exchange, '--analyzer-id', `an-${name}`, '--ingest-batch-size', '300', '--ingest-flush-interval', '150ms',
        '--window-interval', '300ms', '--allowed-lateness', '0s', '--bus-check-interval', '200ms', '--log-level', 'info']);
      proc = p;
      return p;
    };
    start();
    await proc!.waitFor(/analyzer started/, 30_000);
    // Publish on a direct connection, paced, while the fault happens.
    const publishing = (async () => {
      for (let i = 0; i < bodies.length; i++) {
        await bus.publish({ exchange: ex, routingKey: i % 2 ? 'notifications.sample' : 'metering.sample', body: bodies[i]!, properties: { contentType: 'application/json' } });
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 25));
      }
    })();
    await fault({ analyzer: () => proc!, restart: () => void start(), proxy, dfs: new LocalDfs(join(dir, 'dfs')) });
    await publishing;
    // Settled: nothing left in the queue and no window marked, twice in a row.
    let calm = 0;
    await eventually('queue drained and windows computed', 90_000, async () => {
      const depth = await bus.queueDepth(queue);
      const dirty = Number(((await db(DIRTY_TABLE).count('* as n')) as { n: string }[])[0]!.n);
      calm = depth === 0 && dirty === 0 ? calm + 1 : 0;
      return calm >= 3 ? true : undefined;
    });
    assert.equal(await proc!.stop('SIGTERM'), 0, proc!.output().slice(-2000));
    const rows = await queryUsage(db, { from: new Date(START_US / 1000 - 86_400_000), to: new Date(START_US / 1000 + 86_400_000) });
    assert.equal(await bus.queueDepth(`${queue}.dead`), 0);
    assert.deepEqual(canon(rows), expected);
  }

  it('SIGKILL in the middle of a batch, then a restart: usage equals the fault-free run', () =>
    scenario('kill', async ({ analyzer, restart, dfs }) => {
      // Kill once some batches are durable and more samples are buffered.
      await eventually('a few batches written', 30_000, async () => ((await dfs.list('raw/')).length >= 4 ? true : undefined));
      const p = analyzer();
      p.child.kill('SIGKILL');
      assert.equal(await p.exited, null);
      restart();
      await analyzer().waitFor(/analyzer started/, 30_000);
    }));

  it('broker connection cut and restored: the analyzer reconnects and usage equals the fault-free run', () =>
    scenario('cut', async ({ analyzer, proxy, dfs }) => {
      await eventually('a few batches written', 30_000, async () => ((await dfs.list('raw/')).length >= 4 ? true : undefined));
      proxy.cut();
      await analyzer().waitFor(/bus connection lost/, 30_000);
      await new Promise((r) => setTimeout(r, 1500)); // reconnects are refused meanwhile
      proxy.restore();
      await eventually('reconnected', 30_000, async () => ((analyzer().output().match(/analyzer started/g) ?? []).length >= 2 ? true : undefined));
    }));
});
