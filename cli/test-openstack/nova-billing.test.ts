/**
 * OpenStack tier, Nova and Placement as sources of truth (issue 14), with the real
 * Nova, Placement and Keystone of scripts/openstack/nova.sh:
 * - `tally analyzer` reads Nova's notifications from the real bus (its own queue) and
 *   records exactly the events of the servers this test boots, stops, resizes and
 *   deletes; with heartbeats from `tally agent` (libvirt's test driver, domains named
 *   after the real servers) running time ends exactly at the power_off and the delete,
 *   and the resize splits the hour between the two flavors;
 * - `tally api` reads the pool's free capacity from Placement as servers come and go,
 *   and a dynamic line's factor is the curve at the free capacity in force at its start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { AmqpBus, createDatabase, createLogger, dropDatabase, memoryLogger, migrate, openDatabase, type Delivery } from '@tally/common';
import { writeTestNodeFile, SIM_FLAVORS } from '@tally/ceilometer-publisher';
import { analyzerMigrations, decodeNotification } from '@tally/analyzer';
import { billingMigrations, OpenStackSession, PlacementReader, parsePlacementPools, pollOnce, registerPlacementPools } from '@tally/billing-api';
import { ADMIN_DB_URL, eventually, freePort, tally, type Proc } from '../test/helpers.js';
import { Nova, novaEnv, providers, token } from './nova-helpers.js';

const ms = (us: number) => Math.floor(us / 1000);
const secs = (msCount: number) => new Decimal(msCount).div(1000).toFixed();

test('Nova events, heartbeats and Placement readings give exact lifetimes, split flavors and a dynamic factor that follows the pool', { timeout: 600_000 }, async (t) => {
  const env = novaEnv();
  const ks = env['NOVA_KEYSTONE_URL']!;
  const amqp = env['NOVA_AMQP_URL']!;
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'tally-os-nova-'));
  const dbName = `tally_os_nova_${id}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const db = openDatabase(dbUrl, 4);
  await migrate(db, [...analyzerMigrations, ...billingMigrations]);
  const bus = await AmqpBus.connect(amqp, createLogger('ostest', { level: 'error' }));
  const queue = `tally.os.${id}`;
  const procs: Proc[] = [];
  const member = await token(ks, { user: 'other-member', password: 'other-pass', project: 'other' });
  const nova = new Nova(env['NOVA_URL']!, member.token);
  const servers: string[] = [];
  t.after(async () => {
    for (const s of servers) if (await nova.show(s).catch(() => null)) await nova.delete(s).catch(() => undefined);
    for (const p of procs.reverse()) await p.stop();
    for (const q of [`${queue}.capture`, queue, `${queue}.dead`, `${queue}.nova`, `${queue}.nova.dead`]) await bus.deleteQueue(q).catch(() => undefined);
    await bus.close();
    await db.destroy();
    await dropDatabase(ADMIN_DB_URL, dbName);
    rmSync(dir, { recursive: true, force: true });
  });

  // What Nova puts on the bus, seen through the test's own queue.
  const nx = { name: 'nova', type: 'topic' as const, durable: false, autoDelete: false };
  const seen: Delivery[] = [];
  await bus.consume({ name: `${queue}.capture`, durable: false, bindings: [{ exchange: nx, routingKey: 'versioned_notifications.info' }, { exchange: nx, routingKey: 'notifications.info' }] }, { prefetch: 100 }, (d) => {
    seen.push(d);
    return Promise.resolve('ack');
  });

  const analyzer = tally(['analyzer', '--amqp-url', amqp, '--analyzer-queue', queue, '--dfs-url', `file://${dir}/dfs`, '--nova-notifications', 'both',
    '--gap-threshold', '60s', '--ingest-flush-interval', '200ms', '--window-interval', '500ms'], { TALLY_DATABASE_URL: dbUrl });
  procs.push(analyzer);
  await analyzer.waitFor(/analyzer started/, 60_000);
  const apiPort = await freePort();
  const agg = env['NOVA_AGGREGATE_UUID']!;
  const api = tally(['api', '--port', String(apiPort), '--keystone-url', ks, '--placement-pools', `agg=aggregate:${agg};all=providers:${env['NOVA_COMPUTE_HOSTS']}`,
    '--placement-scope', 'system', '--placement-keystone-user', env['PLACEMENT_READER_USER']!, '--placement-keystone-password', env['PLACEMENT_READER_PASSWORD']!,
    '--placement-interval', '1s', '--placement-max-age', '20s'], { TALLY_DATABASE_URL: dbUrl });
  procs.push(api);
  await api.waitFor(/billing API on/, 60_000);
  const base = `http://127.0.0.1:${apiPort}`;
  const call = async (path: string, method = 'GET', body?: unknown): Promise<any> => {
    const res = await fetch(base + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const pool = async (name: string) => (await call(`/v1/pools?start=${new Date(Date.now() - 3_600_000).toISOString()}&end=${new Date(Date.now() + 60_000).toISOString()}`)).pools.find((p: any) => p.name === name);
  const freeNow = async (name: string) => (await pool(name))?.latest?.free as string | undefined;
  // Nothing runs on the aggregate's host yet (other tests delete what they boot).
  await eventually('an empty aggregate read from Placement', 60_000, async () => ((await freeNow('agg')) === '1' ? true : undefined));

  // Two servers on the aggregate's host (its availability zone): m1.tiny and m1.medium.
  const az = { availability_zone: env['NOVA_AZ'] };
  const a = await nova.boot(`tally-os-a-${id}`, env['NOVA_IMAGE_ID']!, env['NOVA_FLAVOR_TINY']!, az);
  servers.push(a);
  const b = await nova.boot(`tally-os-b-${id}`, env['NOVA_IMAGE_ID']!, env['NOVA_FLAVOR_MEDIUM']!, az);
  servers.push(b);
  await nova.waitFor(a, 'ACTIVE');
  assert.equal((await nova.waitFor(b, 'ACTIVE'))!['OS-EXT-AZ:availability_zone'], env['NOVA_AZ']);

  // Heartbeats for both, as the compute host's agent would send them.
  const flavor = (n: string) => SIM_FLAVORS.find((f) => f.name === n)!;
  const uri = writeTestNodeFile(join(dir, 'node.xml'), [
    { uuid: a, name: 'instance-0000a', displayName: 'a', flavor: flavor('m1.tiny'), userId: member.userId, projectId: member.projectId!, state: 'running', disks: [{ dev: 'vda' }], nics: [] },
    { uuid: b, name: 'instance-0000b', displayName: 'b', flavor: flavor('m1.medium'), userId: member.userId, projectId: member.projectId!, state: 'running', disks: [{ dev: 'vda' }], nics: [] },
  ]);
  const agent = tally(['agent', '--amqp-url', amqp, '--libvirt-uri', uri, '--polling-interval', '2s', '--agent-host', `os-${id}`, '--journal-dir', join(dir, 'journal')]);
  procs.push(agent);

  // MEMORY_MB is the scarcest class: (11520 - 512 - 4096) / 11520 = 0.6.
  await eventually('the pool read with both servers', 60_000, async () => ((await freeNow('agg')) === '0.6' ? true : undefined));
  const policy = ['EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 1: 0.5)',
    'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.tiny", COST_PER_HOUR = 0.0100 (EUR)', 'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.small", COST_PER_HOUR = 0.0200 (EUR)',
    'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.medium", COST_PER_HOUR = 0.0400 (EUR)', ''].join('\n');
  await call('/v1/pricing-policies', 'POST', { name: 'dyn', source: policy, effective_from: '2026-01-01T00:00:00Z' });
  await call(`/v1/projects/${member.projectId}/resources/${a}/billing-mode`, 'PUT', { mode: 'dynamic', pool: 'agg' });

  await new Promise((r) => setTimeout(r, 5000));
  await nova.action(b, { 'os-stop': null });
  await nova.waitFor(b, 'SHUTOFF');
  await nova.action(a, { resize: { flavorRef: env['NOVA_FLAVOR_SMALL'] } });
  await nova.waitFor(a, 'VERIFY_RESIZE');
  await nova.action(a, { confirmResize: null });
  await nova.waitFor(a, 'ACTIVE');
  await new Promise((r) => setTimeout(r, 3000));
  // A second resize, to m1.medium, reverted: back to m1.small.
  await nova.action(a, { resize: { flavorRef: env['NOVA_FLAVOR_MEDIUM'] } });
  await nova.waitFor(a, 'VERIFY_RESIZE');
  await nova.action(a, { revertResize: null });
  assert.equal((await nova.waitFor(a, 'ACTIVE'))!.flavor.original_name, 'm1.small');
  await new Promise((r) => setTimeout(r, 3000));
  await nova.delete(a);
  await nova.delete(b);
  await nova.waitFor(a, 'GONE');
  await nova.waitFor(b, 'GONE');
  await eventually('the pool empty again', 60_000, async () => ((await freeNow('agg')) === '1' ? true : undefined));
  await new Promise((r) => setTimeout(r, 3000));
  await agent.stop();

  // 1. The analyzer recorded exactly the events Nova sent for these servers, in both formats, bodies as received.
  const ours = (d: Delivery) => {
    const n = decodeNotification(d.body);
    return n.kind === 'event' && (n.event.instanceId === a || n.event.instanceId === b) ? n.event : undefined;
  };
  const sent = new Map(seen.flatMap((d) => {
    const e = ours(d);
    return e ? [[e.messageId, { e, body: d.body.toString() }] as const] : [];
  }));
  const actions = (vm: string, format: string) => [...sent.values()].filter((x) => x.e.instanceId === vm && x.e.format === format).sort((p, q) => p.e.atUs - q.e.atUs).map((x) => x.e.action);
  assert.deepEqual(actions(a, 'versioned'), ['create', 'resize_finish', 'resize_confirm', 'resize_finish', 'resize_revert', 'delete']);
  assert.deepEqual(actions(a, 'legacy'), ['create', 'resize_finish', 'resize_confirm', 'resize_finish', 'resize_revert', 'delete']);
  assert.deepEqual(actions(b, 'versioned'), ['create', 'power_off', 'delete']);
  assert.deepEqual(actions(b, 'legacy'), ['create', 'power_off', 'delete']);
  const stored = await eventually('the analyzer stored every event', 60_000, async () => {
    const rows = (await db('analyzer_nova_events').whereIn('resource_id', [a, b]).select('message_id', 'body')) as { message_id: string; body: string }[];
    return rows.length === sent.size ? rows : undefined;
  });
  for (const r of stored) assert.equal(r.body, sent.get(r.message_id)?.body, `body of ${r.message_id} as received`);

  // 2. Running time, exactly: from create.end to the delete (a) or the power_off (b), the resize splitting a's flavors.
  const times = (vm: string, action: string) => [...sent.values()].filter((x) => x.e.instanceId === vm && x.e.format === 'versioned' && x.e.action === action).map((x) => ms(x.e.atUs)).sort((p, q) => p - q);
  const at = (vm: string, action: string) => times(vm, action)[0]!;
  const [ca, ra, fa, va, da] = [at(a, 'create'), at(a, 'resize_finish'), times(a, 'resize_finish')[1]!, at(a, 'resize_revert'), at(a, 'delete')];
  const [cb, pb] = [at(b, 'create'), at(b, 'power_off')];
  const usage = async () => (await db('usage_records').whereIn('resource_id', [a, b]).where('meter', 'instance').orderBy('window_start')
    .select('resource_id', 'flavor_name', 'window_start', 'window_end', db.raw('quantity::text AS q'))) as { resource_id: string; flavor_name: string; window_start: Date; window_end: Date; q: string }[];
  const byFlavor = (rows: Awaited<ReturnType<typeof usage>>, vm: string) => {
    const m = new Map<string, Decimal>();
    for (const r of rows.filter((x) => x.resource_id === vm)) m.set(r.flavor_name, (m.get(r.flavor_name) ?? new Decimal(0)).plus(r.q));
    return Object.fromEntries([...m].map(([k, v]) => [k, v.toFixed()]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
  };
  // m1.tiny until the first resize_finish; m1.small until the second, m1.medium until its revert, m1.small again until the delete.
  const want = { [a]: { 'm1.medium': secs(va - fa), 'm1.small': secs(fa - ra + (da - va)), 'm1.tiny': secs(ra - ca) }, [b]: { 'm1.medium': secs(pb - cb) } };
  const rows = await eventually('usage converged to the exact lifetimes', 90_000, async () => {
    const r = await usage();
    return JSON.stringify({ [a]: byFlavor(r, a), [b]: byFlavor(r, b) }) === JSON.stringify(want) ? r : undefined;
  }).catch(async (e: Error) => {
    throw new Error(`${e.message}; want ${JSON.stringify(want)}, got ${JSON.stringify(await usage())}`);
  });
  // a's rows part at the resize instant.
  assert.ok(rows.some((r) => r.resource_id === a && r.window_end.getTime() === ra) && rows.some((r) => r.resource_id === a && r.window_start.getTime() === ra), 'a row ends and one starts at resize_finish');
  // The project's span: from the first create to the last delete (b stays billed while shut off).
  const span = await eventually('the project span', 60_000, async () => {
    const r = (await db('usage_records').where({ meter: 'project.span', resource_id: member.projectId }).select(db.raw('coalesce(sum(quantity), 0)::text AS s'))) as { s: string }[];
    const us = (vm: string, action: string) => [...sent.values()].find((x) => x.e.instanceId === vm && x.e.format === 'versioned' && x.e.action === action)!.e.atUs;
    const expect = new Decimal(Math.max(us(a, 'delete'), us(b, 'delete')) - Math.min(us(a, 'create'), us(b, 'create'))).div(1e6);
    return new Decimal(r[0]!.s).eq(expect) ? expect : undefined;
  });
  assert.ok(span.gt(0));

  // 3. The pool followed the servers, and a's dynamic lines pay the curve at the free capacity in force at their start.
  const series = ((await pool('agg')).series as { at: string; free: string; dynamic_factor: string }[]).map((s) => ({ at: Date.parse(s.at), free: s.free, factor: s.dynamic_factor }));
  const frees = series.map((s) => s.free);
  assert.ok(frees.includes('1') && frees.includes('0.6'), `free capacity went from 1 to 0.6: ${[...new Set(frees)].join(' ')}`);
  assert.equal(frees[frees.length - 1], '1');
  const all = await pool('all');
  assert.equal(all.placement.providers.length, 2);
  const charges = await call(`/v1/projects/${member.projectId}/charges?start=${new Date(ca - 3_600_000).toISOString()}&end=${new Date(Date.now() + 60_000).toISOString()}`);
  assert.equal(charges.resources.find((r: any) => r.resource_id === a).billing_mode, 'dynamic');
  // In force at a line's start: the latest reading at or before it, if at most 20 s old.
  const factorAt = (start: number): Decimal => {
    const s = [...series].reverse().find((x) => x.at <= start);
    return s && start - s.at < 20_000 ? new Decimal(1).minus(new Decimal(s.free).times('0.5')) : new Decimal(1);
  };
  const price: Record<string, string> = { 'm1.tiny': '0.01', 'm1.small': '0.02', 'm1.medium': '0.04' };
  const expected = rows.filter((r) => r.resource_id === a).reduce((sum, r) => sum.plus(new Decimal(r.q).times(price[r.flavor_name]!).div(3600).times(factorAt(r.window_start.getTime())).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN)), new Decimal(0));
  assert.equal(charges.resources.filter((r: any) => r.resource_id === a).reduce((s: Decimal, r: any) => s.plus(r.amount), new Decimal(0)).toFixed(), expected.toFixed());
  const small = factorAt(ra);
  assert.ok(small.lt(1), `the line from the resize pays less than on-demand (factor ${small.toFixed()})`);

  // 4. Availability zones and aggregate names resolve through Nova with a project-scoped admin; a system-scoped reader may not ask Nova.
  const session = (user: string, password: string, project: string) => new OpenStackSession({ keystoneUrl: ks, user, password, userDomain: 'Default', project, projectDomain: 'Default', interface: 'public', timeoutMs: 10_000 });
  const host1 = providers(env).get(env['NOVA_COMPUTE_HOSTS']!.split(',')[0]!)!;
  const admin = new PlacementReader(session('billing', 'billing-pass', 'service'), { placementUrl: '', computeUrl: '' });
  for (const spec of [`z=az:${env['NOVA_AZ']}`, `n=aggregate:${env['NOVA_AGGREGATE_NAME']}`]) {
    assert.deepEqual((await admin.providers(parsePlacementPools(spec)[0]!)).map((p) => p.uuid), [host1], spec);
  }
  const readerOnly = new PlacementReader(session(env['PLACEMENT_READER_USER']!, env['PLACEMENT_READER_PASSWORD']!, ''), { placementUrl: '', computeUrl: '' });
  await assert.rejects(readerOnly.providers(parsePlacementPools(`z=az:${env['NOVA_AZ']}`)[0]!), /compute: GET \/v2\.1\/os-availability-zone\/detail: HTTP 403/);
  // (Registering z alone hands agg and all back to the admin feed: the test is done with them.)
  const z = parsePlacementPools(`z=az:${env['NOVA_AZ']}`);
  await registerPlacementPools(db, z, 20);
  assert.deepEqual(await pollOnce({ db, log: memoryLogger(), reader: admin }, { pools: z, intervalMs: 1000, maxAgeMs: 20_000, classes: ['VCPU', 'MEMORY_MB', 'DISK_GB'] }),
    [{ pool: 'z', ok: true, free: '1', scarcest: 'VCPU', providers: 1 }]);
});
