/**
 * End to end on real parts: `tally agent --once` polls libvirt's test driver
 * (a generated node file with Nova metadata) and publishes to the machine's
 * RabbitMQ; `tally analyzer` writes the samples to a temp DFS folder and hourly
 * usage to PostgreSQL; `tally api` rates it. The project's charge is checked
 * against a hand computation from the very samples the agent published.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createDatabase, dropDatabase, createLogger, type Delivery } from '@tally/common';
import { writeTestNodeFile, SIM_FLAVORS, type DomainSpec } from '@tally/ceilometer-publisher';
import { decodeBody } from '@tally/analyzer';
import { ADMIN_DB_URL, AMQP_URL, tally, eventually, divHalfEven, fixed, type Proc } from './helpers.js';

const flavor = (name: string) => {
  const f = SIM_FLAVORS.find((x) => x.name === name);
  assert.ok(f, name);
  return f;
};
const USER = '5c1e3b6f0a2d4e8f9b7c6d5e4f3a2b1c';
const PROJECT_A = 'aaaa0000aaaa4000800000000000000a';
const PROJECT_B = 'bbbb0000bbbb4000800000000000000b';
/** The default policy's prices, in units of 0.0001 EUR per hour. */
const PRICE = new Map([['m1.tiny', 100n], ['m1.small', 200n], ['m1.large', 800n]]);

const DOMAINS: DomainSpec[] = [
  { uuid: 'a1a1a1a1-0000-4000-8000-000000000001', name: 'instance-00000101', displayName: 'web-a', flavor: flavor('m1.small'), userId: USER, projectId: PROJECT_A, state: 'running',
    disks: [{ dev: 'vda' }], nics: [{ tap: 'tap01a1a1a1-00', mac: 'fa:16:3e:00:01:01' }] },
  { uuid: 'a2a2a2a2-0000-4000-8000-000000000002', name: 'instance-00000102', displayName: 'db-a', flavor: flavor('m1.large'), userId: USER, projectId: PROJECT_A, state: 'running',
    disks: [{ dev: 'vda' }, { dev: 'vdb' }], nics: [{ tap: 'tap02a2a2a2-00', mac: 'fa:16:3e:00:01:02' }] },
  { uuid: 'a3a3a3a3-0000-4000-8000-000000000003', name: 'instance-00000103', displayName: 'off-a', flavor: flavor('m1.large'), userId: USER, projectId: PROJECT_A, state: 'shutoff',
    disks: [{ dev: 'vda' }], nics: [{ tap: 'tap03a3a3a3-00', mac: 'fa:16:3e:00:01:03' }] },
  { uuid: 'b1b1b1b1-0000-4000-8000-000000000004', name: 'instance-00000201', displayName: 'app-b', flavor: flavor('m1.tiny'), userId: USER, projectId: PROJECT_B, state: 'running',
    disks: [{ dev: 'vda' }], nics: [{ tap: 'tap04b1b1b1-00', mac: 'fa:16:3e:00:02:01' }] },
  { uuid: 'c1c1c1c1-0000-4000-8000-000000000005', name: 'not-nova', displayName: 'manual', flavor: flavor('m1.large'), userId: USER, projectId: PROJECT_B, nova: false, state: 'running',
    disks: [{ dev: 'vda' }], nics: [{ tap: 'vnet9', mac: '52:54:00:00:00:09' }] },
];

test('libvirt test driver -> agent -> RabbitMQ -> analyzer -> DFS + PostgreSQL -> API charge', { timeout: 180_000 }, async (t) => {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'tally-e2e-'));
  const dbName = `tally_e2e_${id}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const exchange = `tally.e2e.${id}`;
  const queue = `tally.e2e.${id}.analyzer`;
  const procs: Proc[] = [];
  const bus = await AmqpBus.connect(AMQP_URL, createLogger('e2e', { level: 'error' }));
  t.after(async () => {
    for (const p of procs) await p.stop();
    for (const q of [queue, `${queue}.dead`, `tally.e2e.${id}.capture`]) await bus.deleteQueue(q).catch(() => undefined);
    for (const x of [exchange, `${queue}.dead`]) await bus.deleteExchange(x).catch(() => undefined);
    await bus.close();
    await dropDatabase(ADMIN_DB_URL, dbName);
    rmSync(dir, { recursive: true, force: true });
  });

  // Capture what the agent publishes, on a queue of the test's own (as a real
  // ceilometer-agent-notification would have its own).
  const captured: Delivery[] = [];
  const ex = { name: exchange, type: 'topic' as const, durable: false, autoDelete: false };
  await bus.consume({ name: `tally.e2e.${id}.capture`, durable: false, bindings: [{ exchange: ex, routingKey: 'notifications.sample' }] }, { prefetch: 100 }, (d) => {
    captured.push(d);
    return Promise.resolve('ack');
  });

  const uri = writeTestNodeFile(join(dir, 'node.xml'), DOMAINS);
  const common = ['--amqp-url', AMQP_URL, '--control-exchange', exchange];
  const env = { TALLY_DATABASE_URL: dbUrl };

  const analyzer = tally(['analyzer', ...common, '--analyzer-queue', queue, '--dfs-url', `file://${dir}/dfs`, '--gap-threshold', '120s',
    '--ingest-flush-interval', '200ms', '--window-interval', '200ms'], env);
  procs.push(analyzer);
  await analyzer.waitFor(/analyzer started/, 30_000);

  // Two polling cycles a few seconds apart: each run exits 0 once every message is confirmed.
  for (let i = 0; i < 2; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 3000));
    const agent = tally(['agent', '--once', ...common, '--libvirt-uri', uri, '--agent-host', 'compute-e2e', '--telemetry-secret', 's3cr3t', '--journal-dir', join(dir, 'journal')]);
    assert.equal(await agent.exited, 0, agent.output());
    assert.match(agent.output(), /"instances":4/);
    assert.match(agent.output(), /"skippedDomains":1/);
  }

  // Hand computation from the published cpu samples: running seconds per instance
  // = t2 - t1 (below the 120 s gap threshold), priced per flavor-hour.
  await eventually('both cycles captured', 10_000, () => Promise.resolve(captured.filter((d) => d.body.includes('"cpu')).length >= 2 ? true : undefined));
  const cpuTimes = new Map<string, { us: number[]; project: string; flavor: string }>();
  for (const d of captured) {
    for (const { sample } of decodeBody(d.body).samples) {
      if (sample.counter_name !== 'cpu') continue;
      const e = cpuTimes.get(sample.resource_id) ?? { us: [], project: sample.project_id, flavor: String((sample.resource_metadata['flavor'] as Record<string, unknown>)['name']) };
      e.us.push(sample.timestampUs);
      cpuTimes.set(sample.resource_id, e);
    }
  }
  assert.deepEqual([...cpuTimes.keys()].sort(), ['a1a1a1a1-0000-4000-8000-000000000001', 'a2a2a2a2-0000-4000-8000-000000000002', 'b1b1b1b1-0000-4000-8000-000000000004'],
    'running Nova instances only: the shut-off one and the non-Nova domain give no samples');
  const expected = new Map<string, bigint>(); // project -> sum of line amounts in 10^-6 EUR
  const hours = new Map<string, string>();
  const amounts = new Map<string, string>();
  for (const [rid, e] of cpuTimes) {
    assert.equal(e.us.length, 2);
    const [t1, t2] = e.us.sort((a, b) => a - b) as [number, number];
    assert.equal(new Date(t1 / 1000).toISOString().slice(0, 10), new Date(t2 / 1000).toISOString().slice(0, 10), 'both cycles on one UTC day (rerun near midnight)');
    const us = BigInt(t2 - t1);
    // amount[1e-6 EUR] = us/1e6 s * price[1e-4 EUR/h] * 1e-4 / 3600 * 1e6 = us * price / (3600 * 1e4)
    const line = divHalfEven(us * (PRICE.get(e.flavor) as bigint), 3600n * 10_000n);
    expected.set(e.project, (expected.get(e.project) ?? 0n) + line);
    hours.set(rid, fixed(divHalfEven(us, 3600n), 6));
    amounts.set(rid, fixed(line, 6));
  }
  const total = (p: string) => fixed(divHalfEven(expected.get(p) as bigint, 100n), 4);

  const api = tally(['api', '--port', '0'], env);
  procs.push(api);
  const url = (await api.waitFor(/billing API on (http:\/\/\S+?)\/?\s/, 30_000))[1] as string;

  const charges = await eventually('project A charged as computed by hand', 30_000, async () => {
    const r = await fetch(`${url}/v1/projects/${PROJECT_A}/charges`);
    const body = (await r.json()) as { total: string; resources: { resource_id: string; hours: string; flavor: string; amount: string }[] };
    return body.total === total(PROJECT_A) ? body : undefined;
  });
  assert.equal(charges.total, total(PROJECT_A));
  assert.notEqual(charges.total, '0.0000');
  for (const r of charges.resources) {
    assert.equal(r.hours, hours.get(r.resource_id), `hours of ${r.resource_id}`);
    assert.equal(r.amount, amounts.get(r.resource_id), `amount of ${r.resource_id}`);
  }
  assert.deepEqual(charges.resources.map((r) => r.flavor).sort(), ['m1.large', 'm1.small']);

  const list = (await (await fetch(`${url}/v1/projects`)).json()) as { projects: { project_id: string; total: string }[] };
  assert.deepEqual(
    list.projects.map((p) => [p.project_id, p.total]).sort(),
    [[PROJECT_A, total(PROJECT_A)], [PROJECT_B, total(PROJECT_B)]],
  );

  // The raw samples are in the DFS, laid out by hour.
  const dt = readdirSync(join(dir, 'dfs', 'raw'));
  assert.ok(dt.length >= 1 && dt.every((d) => /^dt=\d{4}-\d{2}-\d{2}$/.test(d)), dt.join(','));

  // Stopping is clean.
  assert.equal(await api.stop('SIGTERM'), 0);
  assert.equal(await analyzer.stop('SIGINT'), 0);
});
