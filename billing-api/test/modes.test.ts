/**
 * Billing modes per resource and pools over HTTP (against a real PostgreSQL): set one
 * mode, apply a YAML or JSON template, feed a pool's capacity, and see the dynamic
 * price in month to date and on the invoice path alike. Bad input names the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { rateProjects } from '../src/invoices/rate-account.js';
import { AccessPolicy } from '../src/auth/policy.js';
import type { Credentials } from '../src/auth/rules.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const NOW = new Date('2026-11-21T10:30:00Z');
let t: TestDb;
let api: RunningApi;

before(async () => {
  t = await freshDatabase('modes');
  await insertUsage(t.db, [
    // m1.xlarge 0.16/h, m1.medium 0.04/h (the default policy)
    { project: 'proj-b', resource: 'vm-4', hour: '2026-11-05T00:00:00Z', seconds: '3600', flavor: 'm1.xlarge', vcpus: 8 },
    { project: 'proj-b', resource: 'vm-4', hour: '2026-11-05T13:00:00Z', seconds: '3600', flavor: 'm1.xlarge', vcpus: 8 },
    { project: 'proj-b', resource: 'vm-5', hour: '2026-11-05T00:00:00Z', seconds: '1800', flavor: 'm1.medium', vcpus: 2 },
    { project: 'proj-c', resource: 'vm-9', hour: '2026-11-05T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
  ]);
  api = await startApi({ db: t.db, log: memoryLogger(), clock: () => NOW, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await api?.close();
  await t?.drop();
});

async function call(path: string, method = 'GET', body?: unknown, type = 'application/json'): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method };
  if (body !== undefined) init.headers = { 'content-type': type };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(api.url + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('billing modes and pools', () => {
  test('a resource is on-demand until set; setting it is audited', async () => {
    const list = await call('/v1/projects/proj-b/billing-modes');
    assert.deepEqual(list.body.resources.map((r: any) => [r.resource_id, r.display_name, r.mode, r.pool]), [['vm-4', 'vm-4', 'on-demand', null], ['vm-5', 'vm-5', 'on-demand', null]]);
    const put = await call('/v1/projects/proj-b/resources/vm-5/billing-mode', 'PUT', { mode: 'dynamic' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.mode, 'dynamic');
    assert.equal(put.body.updated_by, 'noauth');
    const audit = await call('/v1/audit?target_type=resource&target_id=vm-5');
    assert.equal(audit.body.events[0].action, 'billing_mode.set');
    assert.equal(audit.body.events[0].before, null);
    assert.equal(audit.body.events[0].after.mode, 'dynamic');
    // Dynamic without a DYNAMIC_FACTOR rule: the on-demand price.
    const c = await call('/v1/projects/proj-b/charges');
    assert.deepEqual(c.body.resources.map((r: any) => [r.resource_id, r.billing_mode, r.amount]), [['vm-4', 'on-demand', '0.320000'], ['vm-5', 'dynamic', '0.020000']]);
  });

  test('pools: the admin feed, the series with its dynamic factor, a template, and the dynamic price everywhere', async () => {
    const feed = await call('/v1/pools/gpu/capacity', 'POST', { samples: [{ at: '2026-11-05T00:00:00Z', free: '0.8' }, { at: '2026-11-05T12:00:00Z', free: '0.2' }] });
    assert.equal(feed.status, 201, JSON.stringify(feed.body));
    assert.deepEqual(feed.body, { pool: 'gpu', samples: 2 });
    const one = await call('/v1/pools/gpu/capacity', 'POST', { free: '0.5' });
    assert.equal(one.status, 201);
    // Free capacity 0 -> factor 1 (on-demand), 1 -> 0.5, linear in between.
    const policy = 'EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 1: 0.5)\n' +
      'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.xlarge", COST_PER_HOUR = 0.1600 (EUR)\nEVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0200 (EUR)\n';
    assert.equal((await call('/v1/pricing-policies', 'POST', { name: 'dyn', source: policy, effective_from: '2026-11-01T00:00:00Z' })).status, 201);

    // The sample fed without a time is at now: the end of the default (month-to-date) period, so ask up to tomorrow.
    const pools = await call('/v1/pools?start=2026-11-01&end=2026-11-22');
    assert.equal(pools.status, 200);
    const gpu = pools.body.pools.find((p: any) => p.name === 'gpu');
    assert.deepEqual(gpu.series.map((s: any) => [s.at, s.free, s.dynamic_factor]), [
      ['2026-11-05T00:00:00.000Z', '0.8', '0.6'],
      ['2026-11-05T12:00:00.000Z', '0.2', '0.9'],
      [NOW.toISOString(), '0.5', '0.75'],
    ]);
    assert.equal(gpu.latest.free, '0.5');

    const yaml = 'resources:\n  - resource_id: vm-4\n    mode: dynamic\n    pool: gpu\n  - resource_id: vm-5\n    mode: on-demand\n';
    const tpl = await call('/v1/projects/proj-b/billing-modes', 'POST', yaml, 'application/yaml');
    assert.equal(tpl.status, 200, JSON.stringify(tpl.body));
    assert.deepEqual(tpl.body.resources.map((r: any) => [r.resource_id, r.mode, r.pool]), [['vm-4', 'dynamic', 'gpu'], ['vm-5', 'on-demand', null]]);
    assert.equal((await call('/v1/pools')).body.pools[0].resources, 1);

    // vm-4: 0.16 at 00:00 (free 0.8, factor 0.6) -> 0.096; 0.16 at 13:00 (free 0.2, factor 0.9) -> 0.144.
    const c = await call('/v1/projects/proj-b/charges');
    assert.deepEqual(c.body.resources.map((r: any) => [r.resource_id, r.billing_mode, r.unit_price, r.amount]), [
      ['vm-4', 'dynamic', '0.1600', '0.240000'],
      ['vm-5', 'on-demand', '0.0400', '0.020000'],
    ]);
    assert.equal(c.body.total, '0.2600');
    const invoiced = await rateProjects(t.db, ['proj-b'], { start: new Date('2026-11-01T00:00:00Z'), end: NOW });
    assert.equal(invoiced.totalText, '0.2600', 'invoices rate the same dynamic price');
  });

  test('a JSON template is all or nothing', async () => {
    const bad = await call('/v1/projects/proj-b/billing-modes', 'POST', { resources: [{ resource_id: 'vm-5', mode: 'dynamic' }, { resource_id: 'vm-4', mode: 'dynamic', pool: 'nope' }] });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'resources[1].pool');
    const list = await call('/v1/projects/proj-b/billing-modes');
    assert.equal(list.body.resources.find((r: any) => r.resource_id === 'vm-5').mode, 'on-demand', 'the first change was rolled back');
  });

  test("a mode set for another project's resource id binds only the setting project; each project keeps its own", async () => {
    // vm-9 has usage in proj-c only: proj-b's choice is a pending claim inside proj-b.
    const r = await call('/v1/projects/proj-b/resources/vm-9/billing-mode', 'PUT', { mode: 'dynamic' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.project_id, 'proj-b');
    assert.equal(r.body.pending, true);
    const c = await call('/v1/projects/proj-c/charges');
    assert.deepEqual(c.body.resources.map((x: any) => [x.resource_id, x.billing_mode]), [['vm-9', 'on-demand']]);
    assert.deepEqual((await call('/v1/projects/proj-c/billing-modes')).body.resources.map((x: any) => [x.resource_id, x.mode, x.pending]), [['vm-9', 'on-demand', false]]);
    // proj-c sets its own mode on its own resource: independent of proj-b's row.
    const own = await call('/v1/projects/proj-c/resources/vm-9/billing-mode', 'PUT', { mode: 'on-demand' });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.pending, false);
    assert.equal((await call('/v1/projects/proj-b/billing-modes')).body.resources.find((x: any) => x.resource_id === 'vm-9').mode, 'dynamic');
  });

  const bad: { name: string; path: string; method: string; body: unknown; type?: string; field: string; status?: number }[] = [
    { name: 'unknown mode', path: '/v1/projects/proj-b/resources/vm-4/billing-mode', method: 'PUT', body: { mode: 'spot' }, field: 'mode' },
    { name: 'unknown field', path: '/v1/projects/proj-b/resources/vm-4/billing-mode', method: 'PUT', body: { mode: 'dynamic', colour: 'red' }, field: 'colour' },
    { name: 'unknown pool', path: '/v1/projects/proj-b/resources/vm-4/billing-mode', method: 'PUT', body: { mode: 'dynamic', pool: 'none' }, field: 'pool' },
    { name: 'bad resource id', path: '/v1/projects/proj-b/resources/a%20b/billing-mode', method: 'PUT', body: { mode: 'dynamic' }, field: 'resource_id' },
    { name: 'template without resources', path: '/v1/projects/proj-b/billing-modes', method: 'POST', body: { resources: [] }, field: 'resources' },
    { name: 'template bad mode', path: '/v1/projects/proj-b/billing-modes', method: 'POST', body: { resources: [{ resource_id: 'vm-4', mode: 'x' }] }, field: 'resources[0].mode' },
    { name: 'template twice', path: '/v1/projects/proj-b/billing-modes', method: 'POST', body: { resources: [{ resource_id: 'vm-4', mode: 'dynamic' }, { resource_id: 'vm-4', mode: 'dynamic' }] }, field: 'resources[1].resource_id' },
    { name: 'template bad YAML', path: '/v1/projects/proj-b/billing-modes', method: 'POST', body: 'resources: [', type: 'application/yaml', field: 'body' },
    { name: 'free above 1', path: '/v1/pools/gpu/capacity', method: 'POST', body: { free: '1.5' }, field: 'free' },
    { name: 'free as a number', path: '/v1/pools/gpu/capacity', method: 'POST', body: { free: 0.5 }, field: 'free' },
    { name: 'sample without a time', path: '/v1/pools/gpu/capacity', method: 'POST', body: { samples: [{ free: '0.5' }] }, field: 'samples[0].at' },
    { name: 'bad pool name', path: '/v1/pools/a%20b/capacity', method: 'POST', body: { free: '0.5' }, field: 'name' },
  ];
  for (const c of bad) {
    test(`bad input: ${c.name} -> 400 naming ${c.field}`, async () => {
      const r = await call(c.path, c.method, c.body, c.type);
      assert.equal(r.status, c.status ?? 400, JSON.stringify(r.body));
      assert.equal(r.body.error.field, c.field);
    });
  }

  test('the routes are in the OpenAPI document with their policy rules', async () => {
    const doc = (await call('/v1/openapi.json')).body;
    assert.equal(doc.paths['/v1/projects/{id}/resources/{resource_id}/billing-mode'].put['x-policy-rule'], 'billing:modes:write');
    assert.ok(doc.paths['/v1/projects/{id}/resources/{resource_id}/billing-mode'].put.responses['200']);
    assert.equal(doc.paths['/v1/projects/{id}/billing-modes'].post['x-policy-rule'], 'billing:modes:write');
    assert.equal(doc.paths['/v1/pools/{name}/capacity'].post['x-policy-rule'], 'billing:pools:write');
    assert.equal(doc.paths['/v1/pools'].get['x-policy-rule'], 'billing:pools:list');
  });
});

test('policy: a member changes modes in their own project, a reader may not, an admin everywhere', () => {
  const p = new AccessPolicy();
  const who = (role: string, project: string): Credentials => ({ user_id: 'u', user_name: 'u', project_id: project, project_name: project, roles: [role], authenticated: 'True' });
  const own = { project_id: 'p1' };
  assert.equal(p.allows('billing:modes:write', who('member', 'p1'), own), true);
  assert.equal(p.allows('billing:modes:write', who('reader', 'p1'), own), false);
  assert.equal(p.allows('billing:modes:write', who('member', 'p2'), own), false);
  assert.equal(p.allows('billing:modes:write', who('admin', 'p2'), own), true);
  assert.equal(p.allows('billing:modes:get', who('reader', 'p1'), own), true);
  assert.equal(p.allows('billing:pools:write', who('member', 'p1')), false);
  assert.equal(p.allows('billing:pools:write', who('admin', 'p1')), true);
});
