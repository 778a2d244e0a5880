/**
 * The Placement poller on a real PostgreSQL, its Placement reader injected (the real
 * Placement is read in the OpenStack tier, cli/test-openstack/nova-pools.test.ts):
 * readings are stored per class and as the priced series; a failure keeps the last
 * value, shows its age and raises one alert; once the reading is older than the
 * bound a dynamic line pays on-demand and says so; a good reading resolves the alert.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { listAlerts, memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { rateProjects } from '../src/invoices/rate-account.js';
import { pollOnce, type PollerConfig } from '../src/pools/placement-poller.js';
import { registerPlacementPools } from '../src/pools/placement-store.js';
import { parsePlacementPools } from '../src/pools/placement-spec.js';
import type { ProviderReading } from '../src/pools/placement-capacity.js';
import { ServiceError } from '../src/pools/openstack-session.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

let t: TestDb;
let api: RunningApi;
let now = new Date('2026-11-05T09:58:00Z');
const M = 60_000;

// A reader whose answers the test sets: what Placement would say, or that it is unreachable.
let answer: ProviderReading[] | Error = [];
const reader = {
  providers: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer.map((r) => ({ uuid: r.uuid, name: r.name })))),
  read: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
};
const host = (used: number): ProviderReading => ({
  uuid: 'rp-1', name: 'compute-1', inventories: { VCPU: { total: 10, reserved: 0, allocation_ratio: 1 }, MEMORY_MB: { total: 4096, reserved: 0, allocation_ratio: 1 } }, usages: { VCPU: used, MEMORY_MB: used * 512 },
});
const cfg: PollerConfig = { pools: parsePlacementPools('gold=aggregate:tally-agg-1'), intervalMs: 5 * M, maxAgeMs: 15 * M, classes: ['VCPU', 'MEMORY_MB'] };
const poll = () => pollOnce({ db: t.db, log: memoryLogger(), reader, clock: () => now }, cfg);

async function call(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

before(async () => {
  t = await freshDatabase('placement');
  // vm-1 runs 10:00-12:00 in pool gold, billed dynamically: 0.04 EUR/h x a curve over the pool's free capacity.
  await insertUsage(t.db, [
    { project: 'p1', resource: 'vm-1', hour: '2026-11-05T10:00:00Z', seconds: '3600', flavor: 'm1.medium', vcpus: 2 },
    { project: 'p1', resource: 'vm-1', hour: '2026-11-05T11:00:00Z', seconds: '3600', flavor: 'm1.medium', vcpus: 2 },
  ]);
  api = await startApi({ db: t.db, log: memoryLogger(), clock: () => now, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
  const policy = 'EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 1: 0.5)\nEVENT = "VM Assignment", COST_PER_HOUR = 0.04 (EUR)\n';
  assert.equal((await call('/v1/pricing-policies', 'POST', { name: 'dyn', source: policy, effective_from: '2026-11-01T00:00:00Z' })).status, 201);
  await registerPlacementPools(t.db, cfg.pools, 15 * 60);
  assert.equal((await call('/v1/projects/p1/resources/vm-1/billing-mode', 'PUT', { mode: 'dynamic', pool: 'gold' })).status, 200);
});

after(async () => {
  await api?.close();
  await t?.drop();
});

test('a reading is stored per class, and its scarcest fraction is the priced series', async () => {
  answer = [host(2)];
  assert.deepEqual(await poll(), [{ pool: 'gold', ok: true, free: '0.75', scarcest: 'MEMORY_MB', providers: 1 }]);
  // A second poll in the same interval is left to... nobody: the claim holds for half an interval.
  assert.deepEqual(await poll(), [{ pool: 'gold', skipped: true }]);
  const pools = await call('/v1/pools?start=2026-11-05&end=2026-11-06');
  const gold = pools.body.pools.find((p: any) => p.name === 'gold');
  assert.deepEqual(gold.series.map((s: any) => [s.at, s.free, s.dynamic_factor]), [['2026-11-05T09:58:00.000Z', '0.75', '0.625']]);
  assert.deepEqual(gold.placement.classes.map((c: any) => [c.resource_class, c.capacity, c.used, c.free, c.free_fraction]), [['MEMORY_MB', '4096', '1024', '3072', '0.75'], ['VCPU', '10', '2', '8', '0.8']]);
  assert.deepEqual([gold.placement.spec, gold.placement.age_seconds, gold.placement.stale, gold.placement.providers], ['aggregate:tally-agg-1', 0, false, [{ uuid: 'rp-1', name: 'compute-1' }]]);
  // A Placement-fed pool takes no admin feed.
  const feed = await call('/v1/pools/gold/capacity', 'POST', { free: '0.1' });
  assert.equal(feed.status, 409);
  assert.equal(feed.body.error.code, 'conflict');
});

test('Placement unreachable: the last value is kept with its age, one alert; past the bound the line pays on-demand and says so', async () => {
  answer = new ServiceError('placement', 'unreachable (connect ECONNREFUSED 127.0.0.1:8778)');
  now = new Date(now.getTime() + 5 * M); // 10:03
  const r = await poll();
  assert.equal(r[0] && 'ok' in r[0] && r[0].ok, false);
  now = new Date(now.getTime() + 5 * M); // 10:08
  await poll();
  const alerts = await listAlerts(t.db, { kind: 'placement_unreachable' });
  assert.equal(alerts.length, 1, 'one open alert, however many failures');
  assert.equal(alerts[0]!.occurrences, '2');
  assert.equal(alerts[0]!.severity, 'warning');
  assert.match(alerts[0]!.message, /pool gold: placement: unreachable .*the last reading \(2026-11-05T09:58:00\.000Z, 600 s old\) is kept/);
  const gold = (await call('/v1/pools?start=2026-11-05&end=2026-11-06')).body.pools.find((p: any) => p.name === 'gold');
  assert.deepEqual([gold.latest.free, gold.placement.age_seconds, gold.placement.stale, gold.placement.failures], ['0.75', 600, false, 2]);
  assert.match(gold.placement.last_error, /ECONNREFUSED/);

  // 11:00: nothing read since 09:58. The 10:00 hour is priced from the 09:58 reading (2 min old);
  // the 11:00 hour would need a reading at most 15 min old: on-demand, and the line says why.
  now = new Date('2026-11-05T11:30:00Z');
  await poll();
  assert.equal((await listAlerts(t.db, { kind: 'placement_unreachable' }))[0]!.severity, 'critical');
  assert.equal((await call('/v1/pools?start=2026-11-05&end=2026-11-06')).body.pools.find((p: any) => p.name === 'gold').placement.stale, true);
  const charges = await call('/v1/projects/p1/charges?start=2026-11-05T00:00:00Z&end=2026-11-06T00:00:00Z');
  assert.equal(charges.status, 200, JSON.stringify(charges.body));
  const lines = charges.body.resources.find((x: any) => x.resource_id === 'vm-1');
  // 0.04 x 0.625 + 0.04 x 1
  assert.equal(lines.amount, '0.065000');
  // The invoice path rates alike, and each line explains its factor.
  const rated = await rateProjects(t.db, ['p1'], { start: new Date('2026-11-05T00:00:00Z'), end: new Date('2026-11-06T00:00:00Z') });
  const usage = rated.lines.filter((l) => l.kind === 'usage');
  assert.deepEqual(usage.map((l) => [l.start.toISOString(), l.amount.toFixed(), l.onDemandAmount.toFixed()]), [['2026-11-05T10:00:00.000Z', '0.025', '0.04'], ['2026-11-05T11:00:00.000Z', '0.04', '0.04']]);
  assert.match(usage[0]!.explanation.conversions.join(' | '), /dynamic factor 0\.625 from the curve at pool free capacity 0\.75/);
  assert.match(usage[1]!.explanation.conversions.join(' | '), /pool gold: the last Placement reading \(free 0\.75 at 2026-11-05T09:58:00\.000Z\) is older than 900 s: factor 1 \(on-demand price\)/);
});

test('a good reading resolves the alert and prices again', async () => {
  answer = [host(8)];
  now = new Date('2026-11-05T11:45:00Z');
  assert.equal((await poll())[0]!.pool, 'gold');
  assert.deepEqual(await listAlerts(t.db, { kind: 'placement_unreachable' }), []);
  const gold = (await call('/v1/pools?start=2026-11-05&end=2026-11-06')).body.pools.find((p: any) => p.name === 'gold');
  assert.deepEqual([gold.latest.free, gold.placement.stale, gold.placement.failures, gold.placement.last_error], ['0', false, 0, 'placement: unreachable (connect ECONNREFUSED 127.0.0.1:8778)']);
});
