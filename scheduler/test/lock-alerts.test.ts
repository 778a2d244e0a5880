// One scheduler acts at a time (the PostgreSQL advisory lock: a second replica stands by and
// takes over when the first goes); alerts open once per key, go to the webhook once, and
// resolve; a member the driver knows but the table does not is adopted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, InProcessBus, listAlerts, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, LocalDfs } from '@tally/analyzer';
import { Alerter, InProcessLauncher, listActions, listMembers, LocalDriver, PgAdvisoryLock, schedulerMigrations, startScheduler } from '../src/index.js';

const ADMIN = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SUFFIX = `${process.pid}_${randomBytes(4).toString('hex')}`;

describe('lock, alerts, adoption (PostgreSQL)', () => {
  let db: Knex;
  let url: string;
  const name = `tally_sched_lock_${SUFFIX}`;
  before(async () => {
    url = await createDatabase(ADMIN, name);
    db = openDatabase(url, 4);
    await migrate(db, [...analyzerMigrations, ...schedulerMigrations]);
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, name);
  });

  it('a second replica stands by while the first holds the lock, and takes over when it goes', async () => {
    const lockName = `tally-scheduler-test-${SUFFIX}`;
    const a = new PgAdvisoryLock(url, memoryLogger(), lockName);
    const b = new PgAdvisoryLock(url, memoryLogger(), lockName);
    try {
      assert.equal(await a.tryAcquire(), true);
      assert.equal(await a.tryAcquire(), true, 'held: asking again is harmless');
      assert.equal(await b.tryAcquire(), false);
      assert.equal(b.held(), false);
      await a.release(); // the holder's connection goes
      assert.equal(await b.tryAcquire(), true);
      assert.equal(await a.tryAcquire(), false);
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('an alert opens once per key, is POSTed to the webhook once, counts its occurrences, and resolves', async () => {
    const posts: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const alerter = new Alerter({ db, log: memoryLogger() }, { alertWebhookUrl: `http://127.0.0.1:${port}/hook`, alertWebhookTimeout: 2000 });
      const input = { key: `cluster-at-max:c-${SUFFIX}`, kind: 'cluster_at_max' as const, severity: 'warning' as const, message: 'at max', details: { cluster: 'c' } };
      await alerter.raise(input);
      await alerter.raise(input);
      const open = (await listAlerts(db, { kind: 'cluster_at_max' })).filter((x) => x.key === input.key);
      assert.deepEqual(open.map((x) => [x.occurrences, x.source]), [['2', 'scheduler']]);
      assert.equal(posts.length, 1);
      assert.deepEqual({ ...(posts[0] as Record<string, unknown>), at: 'x' }, { id: open[0]!.id, ...input, source: 'scheduler', at: 'x' });
      await alerter.resolveOthers('cluster_at_max', 'cluster-at-max:', new Set());
      assert.equal((await listAlerts(db, { kind: 'cluster_at_max' })).filter((x) => x.key === input.key).length, 0);
      // An unreachable webhook loses nothing: the alert is still kept.
      const down = new Alerter({ db, log: memoryLogger() }, { alertWebhookUrl: 'http://127.0.0.1:9/hook', alertWebhookTimeout: 500 });
      await down.raise({ ...input, key: `${input.key}-2` });
      assert.equal((await listAlerts(db, { kind: 'cluster_at_max' })).filter((x) => x.key === `${input.key}-2`).length, 1);
    } finally {
      server.close();
    }
  });

  it('a member the driver started but no record has (a crash between create and record) is adopted', async () => {
    const bus = new InProcessBus();
    const dir = await mkdtemp(join(tmpdir(), 'tally-adopt-'));
    const log = memoryLogger();
    const cluster = `adopt-${SUFFIX}`;
    const driver = new LocalDriver(new InProcessLauncher({
      bus, dfs: new LocalDfs(join(dir, 'dfs')), db, log, heartbeatIntervalMs: 3_600_000, version: 'test',
      analyzer: { ingestBatchSize: 100, ingestFlushInterval: 20, gapThreshold: 630_000, windowInterval: 3_600_000, controlExchange: `ceilometer_adopt_${SUFFIX}`, exchangeDurable: false },
    }), log);
    const s = await startScheduler({ db, bus, driver, lock: { tryAcquire: () => Promise.resolve(true), held: () => true, release: () => Promise.resolve() }, log, actor: 'test' }, {
      schedulerDriver: 'local', schedulerClusters: cluster, schedulerInterval: 3_600_000, lostAfter: 60_000, seriesRetention: 3_600_000, drainTimeout: 60_000, registerTimeout: 60_000,
      createTimeout: 60_000, heartbeatQueue: 'tally.registry.heartbeats', alertWebhookUrl: '', alertWebhookTimeout: 1000, analyzerQueue: `tally.analyzer.adopt.${SUFFIX}`,
    });
    try {
      await driver.create({ cluster, name: `${cluster}-7`, actionId: 'lost-record', queue: `tally.analyzer.adopt.${SUFFIX}` });
      const [r] = await s.tick();
      assert.deepEqual((await listMembers(db, cluster)).map((m) => [m.name, m.state]), [[`${cluster}-7`, 'running']]);
      assert.deepEqual((await listActions(db, { cluster })).map((a) => [a.kind, a.member, a.step]), [['adopt', `${cluster}-7`, 'succeeded']]);
      // Adopted, it counts: the default policy's min size 1 is met, nothing else is created.
      assert.equal(r!.decision.action, 'hold');
    } finally {
      await s.stop();
      await driver.close();
      await bus.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
