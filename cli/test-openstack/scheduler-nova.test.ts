/**
 * OpenStack tier: the scheduler's nova driver against Debian's real Nova (fake virt driver),
 * Placement, Glance and Keystone from scripts/openstack/nova.sh. As the `billing` service user
 * (project `service`) it negotiates the microversion, and under a backlog creates servers with
 * the configured flavor, image, metadata and user-data, sees them ACTIVE, stops at max size and
 * raises the alert. The fake driver runs nothing inside a server, so the test plays each VM:
 * it starts the `tally analyzer` the user-data would start, with the configuration the
 * user-data writes. Once the backlog is gone the scheduler drains each analyzer over the bus
 * and deletes its server only after the drain. With the project's instance quota at 0, Nova's
 * refusal becomes an alert and the scheduler keeps running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AmqpBus, createDatabase, dropDatabase, listAlerts, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerQueueSpec } from '@tally/analyzer';
import { addScalingPolicyVersion, listActions, listComponents, listMembers, NovaDriver, PgAdvisoryLock, startScheduler, type Scheduler } from '@tally/scheduler';
import { ALL_MIGRATIONS } from '@tally/cli';
import { ADMIN_DB_URL, AMQP_URL, eventually, tally, type Proc } from '../test/helpers.js';
import { novaEnv, token } from './nova-helpers.js';

const env = novaEnv();
const KS = env['NOVA_KEYSTONE_URL']!;
const NOVA = env['NOVA_URL']!;

interface NovaServer { id: string; name: string; status: string; metadata: Record<string, string>; flavor: { original_name: string }; image: { id: string }; 'OS-EXT-SRV-ATTR:user_data'?: string }

async function nova(tok: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${NOVA}${path}`, { method, headers: { 'x-auth-token': tok, 'openstack-api-version': 'compute 2.93', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** One message of 10 cpu samples. */
function body(i: number): Buffer {
  const samples = Array.from({ length: 10 }, (_, k) => `{"source":"openstack","counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":${9085000000000000 + i * 10 + k},"user_id":"u","project_id":"p","resource_id":"vm-${k}","timestamp":"${new Date(Date.UTC(2026, 10, 20, 6) + (i * 10 + k) * 1000).toISOString().replace('Z', '')}","resource_metadata":{},"message_id":"s-${i}-${k}","monotonic_time":null,"message_signature":""}`);
  const inner = `{"message_id":"n-${i}","publisher_id":"ceilometer.polling","event_type":"telemetry.polling","priority":"SAMPLE","payload":{"samples":[${samples.join(',')}]},"timestamp":"2026-11-20 12:00:00.000000"}`;
  return Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner }));
}

test('the nova driver: servers created with flavor, image, metadata and user-data, max respected, drained before deletion, a quota refusal alerted', { timeout: 480_000 }, async (t) => {
  const sfx = randomBytes(4).toString('hex');
  const dbName = `tally_os_sched_${sfx}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const db: Knex = openDatabase(dbUrl, 4);
  const dir = mkdtempSync(join(tmpdir(), 'tally-os-sched-'));
  const exchange = `ceilometer_os_sched_${sfx}`;
  const queue = `tally.analyzer.os.${sfx}`;
  const cluster = `nova-${sfx}`;
  const bus = await AmqpBus.connect(AMQP_URL, memoryLogger());
  const admin = await token(KS, { user: 'billing', password: 'billing-pass', project: 'service' });
  const log = memoryLogger();
  const procs: Proc[] = [];
  const st: { scheduler?: Scheduler; quotaBefore?: number } = {};
  const driver = new NovaDriver({
    novaAuthUrl: KS, novaUsername: 'billing', novaPassword: 'billing-pass', novaProjectName: 'service', novaUserDomainName: 'Default', novaProjectDomainName: 'Default',
    novaRegionName: 'RegionOne', novaInterface: 'public', novaFlavor: 'm1.tiny', novaImage: env['NOVA_IMAGE_ID']!, novaNetwork: '', novaKeyName: '',
    novaServerPrefix: 'tally-os-', novaBootTimeout: 120_000, novaAnalyzerDatabaseUrl: '', novaAnalyzerAmqpUrl: '', novaAnalyzerDfsUrl: '',
    novaNodeUrl: 'https://nodejs.org/dist/v20.19.5/node-v20.19.5-linux-x64.tar.xz', novaTallyGitUrl: '', novaUserDataFile: '',
  }, { log, analyzer: { databaseUrl: dbUrl, amqpUrl: AMQP_URL, dfsUrl: `file://${dir}/dfs`, controlExchange: exchange, exchangeDurable: false, heartbeatInterval: '1000ms' } });
  t.after(async () => {
    await st.scheduler?.stop();
    for (const p of procs) await p.stop('SIGTERM');
    for (const s of (await nova(admin.token, 'GET', `/servers/detail?name=${encodeURIComponent(`^tally-os-${cluster}-`)}`)).json?.servers ?? []) await nova(admin.token, 'DELETE', `/servers/${s.id}`);
    if (st.quotaBefore !== undefined) await nova(admin.token, 'PUT', `/os-quota-sets/${admin.projectId}`, { quota_set: { instances: st.quotaBefore } });
    for (const q of [queue, `${queue}.dead`, `tally.registry.os.${sfx}`, `tally.registry.os.${sfx}.dead`, 'tally.analyzer.control.dead']) await bus.deleteQueue(q).catch(() => undefined);
    for (const x of [exchange, `${queue}.dead`]) await bus.deleteExchange(x).catch(() => undefined);
    await bus.close();
    await db.destroy();
    await dropDatabase(ADMIN_DB_URL, dbName);
    rmSync(dir, { recursive: true, force: true });
  });
  const started = Date.now();
  await migrate(db, ALL_MIGRATIONS);
  await addScalingPolicyVersion(db, { cluster, createdBy: 'test', source: `
min_size: 0
max_size: 2
scale_out:
  cooldown: 0s
  when_any: ["last queue_depth_per_replica > 50 over 1s"]
scale_in:
  cooldown: 0s
  stabilization: 0s
  when_all: ["max queue_depth < 1 over 8s"]
` });
  assert.equal(await driver.negotiate(), '2.93', 'Zed serves up to 2.93; the driver goes that far');

  await bus.declareQueue(analyzerQueueSpec({ analyzerQueue: queue, controlExchange: exchange, exchangeDurable: false }));
  const ex = { name: exchange, type: 'topic' as const, durable: false, autoDelete: false };
  const publish = async (from: number, n: number) => { for (let i = from; i < from + n; i++) await bus.publish({ exchange: ex, routingKey: 'notifications.sample', body: body(i) }); };
  await publish(0, 300);
  const scheduler = await startScheduler({ db, bus, driver, lock: new PgAdvisoryLock(dbUrl, log), log, actor: 'scheduler:os-test' }, {
    schedulerDriver: 'nova', schedulerClusters: cluster, schedulerInterval: 700, lostAfter: 60_000, seriesRetention: 3_600_000, drainTimeout: 90_000,
    registerTimeout: 3000, createTimeout: 180_000, heartbeatQueue: `tally.registry.os.${sfx}`, alertWebhookUrl: '', alertWebhookTimeout: 1000, analyzerQueue: queue,
  });
  st.scheduler = scheduler;

  // Pressure: two servers, ACTIVE, and no third (max 2) but the alert.
  const members = async () => (await listMembers(db, cluster)).filter((m) => m.state === 'running');
  await eventually('two ACTIVE members', 240_000, async () => ((await members()).length === 2 ? true : undefined));
  const createdMs = Date.now() - started;
  const servers = (await nova(admin.token, 'GET', `/servers/detail?name=${encodeURIComponent(`^tally-os-${cluster}-`)}`)).json.servers as NovaServer[];
  assert.deepEqual(servers.map((s) => s.name).sort(), [`tally-os-${cluster}-1`, `tally-os-${cluster}-2`]);
  const configs = new Map<string, Record<string, unknown>>();
  for (const s of servers) {
    const full = (await nova(admin.token, 'GET', `/servers/${s.id}`)).json.server as NovaServer;
    const member = s.name.replace('tally-os-', '');
    assert.equal(full.status, 'ACTIVE');
    assert.equal(full.flavor.original_name, 'm1.tiny');
    assert.equal(full.image.id, env['NOVA_IMAGE_ID']);
    assert.deepEqual({ ...full.metadata, 'tally-action': 'x' }, { 'tally-role': 'analyzer', 'tally-cluster': cluster, 'tally-member': member, 'tally-action': 'x' });
    const userData = Buffer.from(full['OS-EXT-SRV-ATTR:user_data'] ?? '', 'base64').toString('utf8');
    assert.match(userData, /^#cloud-config\n/);
    assert.match(userData, /\[systemctl, enable, --now, tally-analyzer\.service\]/);
    const doc = parseYaml(userData) as { write_files: { path: string; content: string }[] };
    const cfg = parseYaml(doc.write_files.find((f) => f.path === '/etc/tally/tally.yaml')!.content) as Record<string, unknown>;
    assert.deepEqual(cfg, { 'database-url': dbUrl, 'amqp-url': AMQP_URL, 'dfs-url': `file://${dir}/dfs`, 'analyzer-queue': queue, 'analyzer-id': member,
      'component-cluster': cluster, 'control-exchange': exchange, 'exchange-durable': false, 'heartbeat-interval': '1000ms' });
    configs.set(member, cfg);
  }
  await eventually('the at-max alert', 30_000, async () => ((await listAlerts(db, { kind: 'cluster_at_max' })).some((a) => a.key === `cluster-at-max:${cluster}`) ? true : undefined));
  await eventually('unregistered members alerted', 30_000, async () => ((await listAlerts(db, { kind: 'member_not_registered' })).length === 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await nova(admin.token, 'GET', `/servers/detail?name=${encodeURIComponent(`^tally-os-${cluster}-`)}`)).json.servers.length, 2, 'max size respected under pressure');

  // Play the two VMs: start what their user-data starts, with the configuration it writes.
  await Promise.all([...configs].map(async ([member, cfg]) => {
    const file = join(dir, `${member}.yaml`);
    writeFileSync(file, Object.entries(cfg).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n') + '\n');
    const p = tally(['analyzer', '--config', file, '--ingest-flush-interval', '200ms', '--log-level', 'info']);
    procs.push(p);
    await p.waitFor(/analyzer started/, 30_000);
  }));
  await eventually('both registered', 30_000, async () => ((await listComponents(db, { cluster, state: 'running' })).length === 2 ? true : undefined));
  await eventually('the unregistered alerts resolved', 30_000, async () => ((await listAlerts(db, { kind: 'member_not_registered' })).length === 0 ? true : undefined));

  // The backlog is consumed; the scheduler drains each analyzer, then deletes its server.
  const scaleInStarted = Date.now();
  await eventually('every server deleted after its drain', 240_000, async () => ((await listMembers(db, cluster)).length === 0 ? true : undefined));
  const scaleInMs = Date.now() - scaleInStarted;
  for (const p of procs) assert.equal(await p.exited, 0, p.output().slice(-2000));
  for (const p of procs) assert.match(p.output(), /drained on the scheduler's request; exiting/);
  const steps = (await listActions(db, { cluster })).reverse();
  for (const m of configs.keys()) {
    const mine = steps.filter((a) => a.member === m).map((a) => `${a.kind}/${a.step}`);
    assert.deepEqual(mine, ['create/started', 'create/succeeded', 'drain/started', 'drain/succeeded', 'delete/started', 'delete/succeeded'], m);
    assert.equal((await listComponents(db, { cluster })).find((c) => c.id === m)?.state, 'stopped');
  }
  // Newest first: member 2 was drained before member 1.
  assert.deepEqual(steps.filter((a) => a.kind === 'drain' && a.step === 'started').map((a) => a.member), [`${cluster}-2`, `${cluster}-1`]);
  for (const s of servers) assert.equal((await nova(admin.token, 'GET', `/servers/${s.id}`)).status, 404, `${s.name} is gone`);

  // Quota 0: Nova refuses; an alert, no crash, and the next rounds still run.
  const q = await nova(admin.token, 'GET', `/os-quota-sets/${admin.projectId}`);
  assert.equal(q.status, 200, JSON.stringify(q.json));
  st.quotaBefore = q.json.quota_set.instances as number;
  const set = await nova(admin.token, 'PUT', `/os-quota-sets/${admin.projectId}`, { quota_set: { instances: 0 } });
  assert.equal(set.status, 200, JSON.stringify(set.json));
  await publish(1000, 200);
  await eventually('the quota alert', 60_000, async () => (await listAlerts(db, { kind: 'driver_quota' })).find((a) => a.key === `driver-quota:${cluster}`));
  const quota = (await listAlerts(db, { kind: 'driver_quota' })).find((a) => a.key === `driver-quota:${cluster}`)!;
  assert.equal(quota.severity, 'critical');
  assert.match(quota.message, /HTTP 403: Quota exceeded for instances/);
  const rounds = scheduler.stats.rounds;
  await eventually('rounds go on', 10_000, async () => (scheduler.stats.rounds > rounds + 2 ? true : undefined));
  assert.equal((await listMembers(db, cluster)).length, 0, 'the refused member is recorded failed, not running');
  assert.ok((await listMembers(db, cluster, true)).some((m) => m.state === 'failed'));
  process.stdout.write(`# nova tier timings: two servers ACTIVE ${createdMs} ms after the start; both drained and deleted in ${scaleInMs} ms\n`);
});
