import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger, openDatabase } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const NOW = new Date('2026-11-21T10:30:00Z');
let t: TestDb;
let api: RunningApi;
const log = memoryLogger();

before(async () => {
  t = await freshDatabase('api');
  await insertUsage(t.db, [
    // proj-a, vm-1 m1.small (0.02/h): 11-01 3600 s + 1799.5 s = 5399.5 s -> 0.029997; 11-02 3600 s -> 0.02; 11-21 1800 s -> 0.01
    { project: 'proj-a', resource: 'vm-1', hour: '2026-11-01T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1, name: 'web-old' },
    { project: 'proj-a', resource: 'vm-1', hour: '2026-11-01T01:00:00Z', seconds: '1799.5', flavor: 'm1.small', vcpus: 1, name: 'web-old' },
    { project: 'proj-a', resource: 'vm-1', hour: '2026-11-02T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1, name: 'web-1' },
    { project: 'proj-a', resource: 'vm-1', hour: '2026-11-21T10:00:00Z', seconds: '1800', flavor: 'm1.small', vcpus: 1, name: 'web-1' },
    // vm-2: unknown flavor, 4 vCPU x 0.02 = 0.08/h, 900 s -> 0.02
    { project: 'proj-a', resource: 'vm-2', hour: '2026-11-02T05:00:00Z', seconds: '900', flavor: 'c4.custom', vcpus: 4, name: 'batch' },
    // vm-3 m1.tiny (0.01/h): 1000 s -> 0.0027777... -> 0.002778
    { project: 'proj-a', resource: 'vm-3', hour: '2026-11-03T00:00:00Z', seconds: '1000', flavor: 'm1.tiny', vcpus: 1 },
    // last month (m1.large 0.08/h, 1 h) and another meter: neither is in November's instance bill
    { project: 'proj-a', resource: 'vm-1', hour: '2026-10-31T23:00:00Z', seconds: '3600', flavor: 'm1.large', vcpus: 4 },
    { project: 'proj-a', resource: 'vm-1', hour: '2026-11-01T00:00:00Z', seconds: '123456789', flavor: 'm1.small', vcpus: 1, meter: 'cpu' },
    // proj-b: m1.xlarge 1 h -> 0.16; m1.medium 0.5 h -> 0.02
    { project: 'proj-b', resource: 'vm-4', hour: '2026-11-05T00:00:00Z', seconds: '3600', flavor: 'm1.xlarge', vcpus: 8 },
    { project: 'proj-b', resource: 'vm-5', hour: '2026-11-05T00:00:00Z', seconds: '1800', flavor: 'm1.medium', vcpus: 2 },
  ]);
  api = await startApi({ db: t.db, log, clock: () => NOW, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await api?.close();
  await t?.drop();
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(api.url + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('billing-api over HTTP', () => {
  test('noauth logs a loud banner', () => {
    assert.ok(log.lines.some((l) => l.level === 'warn' && /auth-strategy=noauth/.test(l.msg)));
  });

  test('GET /healthcheck checks the database', async () => {
    const r = await get('/healthcheck');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok', checks: { database: 'ok' } });
  });

  test('GET /v1/projects: month-to-date totals of every project', async () => {
    const r = await get('/v1/projects');
    assert.equal(r.status, 200);
    assert.equal(r.body.currency, 'EUR');
    assert.deepEqual(r.body.period, { start: '2026-11-01T00:00:00.000Z', end: NOW.toISOString() });
    // The built-in default DSL policy (no stored version yet) is `default v0`.
    assert.deepEqual(r.body.policy, { name: 'default', version: 0 });
    assert.ok(r.body.rounding.total.includes('half-even'));
    // 0.059997 + 0.02 + 0.002778 = 0.082775 -> 0.0828 ; 0.16 + 0.02 = 0.18
    assert.deepEqual(r.body.projects, [
      { project_id: 'proj-a', total: '0.0828', resources: 3 },
      { project_id: 'proj-b', total: '0.1800', resources: 2 },
    ]);
  });

  test('GET /v1/projects/:id/charges: total, by resource, daily series', async () => {
    const r = await get('/v1/projects/proj-a/charges');
    assert.equal(r.status, 200);
    assert.equal(r.body.project_id, 'proj-a');
    assert.equal(r.body.total, '0.0828');
    assert.deepEqual(r.body.resources, [
      { resource_id: 'vm-1', display_name: 'web-1', flavor: 'm1.small', vcpus: 1, hours: '2.999861', unit_price: '0.0200', price_basis: 'flavor', billing_mode: 'on-demand', amount: '0.059997' },
      { resource_id: 'vm-2', display_name: 'batch', flavor: 'c4.custom', vcpus: 4, hours: '0.250000', unit_price: '0.0800', price_basis: 'vcpu', billing_mode: 'on-demand', amount: '0.020000' },
      { resource_id: 'vm-3', display_name: 'vm-3', flavor: 'm1.tiny', vcpus: 1, hours: '0.277778', unit_price: '0.0100', price_basis: 'flavor', billing_mode: 'on-demand', amount: '0.002778' },
    ]);
    assert.equal(r.body.daily.length, 21);
    assert.deepEqual(r.body.daily.slice(0, 4), [
      { date: '2026-11-01', amount: '0.029997' },
      { date: '2026-11-02', amount: '0.040000' },
      { date: '2026-11-03', amount: '0.002778' },
      { date: '2026-11-04', amount: '0.000000' },
    ]);
    assert.deepEqual(r.body.daily[20], { date: '2026-11-21', amount: '0.010000' });
    assert.deepEqual(r.body.unpriced_resources, []);
  });

  test('an explicit period: last month only', async () => {
    const r = await get('/v1/projects/proj-a/charges?start=2026-10-01&end=2026-11-01');
    assert.equal(r.status, 200);
    assert.equal(r.body.total, '0.0800');
    assert.equal(r.body.daily.length, 31);
    assert.deepEqual(r.body.resources.map((x: { flavor: string; amount: string }) => [x.flavor, x.amount]), [['m1.large', '0.080000']]);
  });

  test('a project without usage has a real zero bill (200, not an error)', async () => {
    const r = await get('/v1/projects/proj-none/charges');
    assert.equal(r.status, 200);
    assert.equal(r.body.total, '0.0000');
    assert.deepEqual(r.body.resources, []);
  });

  const errors: { name: string; path: string; method?: string; status: number; code: string; field?: string }[] = [
    { name: 'bad start', path: '/v1/projects/proj-a/charges?start=yesterday', status: 400, code: 'validation_failed', field: 'start' },
    { name: 'bad end on the list', path: '/v1/projects?end=2026-02-30', status: 400, code: 'validation_failed', field: 'end' },
    { name: 'end before start', path: '/v1/projects/proj-a/charges?start=2026-11-05&end=2026-11-01', status: 400, code: 'validation_failed', field: 'end' },
    { name: 'unknown parameter', path: '/v1/projects?stat=2026-11-01', status: 400, code: 'validation_failed', field: 'stat' },
    { name: 'repeated parameter', path: '/v1/projects?start=2026-11-01&start=2026-11-02', status: 400, code: 'validation_failed', field: 'start' },
    { name: 'bad project id', path: '/v1/projects/a%20b/charges', status: 400, code: 'validation_failed', field: 'project_id' },
    { name: 'unknown route', path: '/v1/nothing', status: 404, code: 'not_found' },
    { name: 'root without a UI', path: '/', status: 404, code: 'not_found' },
    { name: 'wrong method', path: '/v1/projects', method: 'POST', status: 405, code: 'method_not_allowed' },
  ];
  for (const c of errors) {
    test(`error shape: ${c.name} -> ${c.status}`, async () => {
      const r = await get(c.path, { method: c.method ?? 'GET' });
      assert.equal(r.status, c.status);
      assert.equal(r.body.error.code, c.code);
      assert.equal(r.body.error.field, c.field);
      assert.equal(typeof r.body.error.message, 'string');
      assert.equal(r.body.error.request_id, r.headers.get('x-request-id'));
      assert.match(r.body.error.request_id, /^[0-9a-f-]{36}$/);
    });
  }

  test('a plain incoming request id is echoed; an unsafe one is replaced', async () => {
    const ok = await get('/v1/nothing', { headers: { 'X-Request-Id': 'req-123' } });
    assert.equal(ok.headers.get('x-request-id'), 'req-123');
    assert.equal(ok.body.error.request_id, 'req-123');
    const bad = await get('/v1/nothing', { headers: { 'X-Request-Id': 'a b"<script>' } });
    assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('failures of dependencies', () => {
  test('database down: healthcheck 503, API 500 with a generic body', async () => {
    const dead = openDatabase('postgres://postgres@127.0.0.1:1/none', 1);
    const quiet = memoryLogger();
    const down = await startApi({ db: dead, log: quiet, clock: () => NOW, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
    try {
      const h = await fetch(down.url + '/healthcheck');
      assert.equal(h.status, 503);
      const hb = (await h.json()) as { error: { code: string; message: string } };
      assert.equal(hb.error.code, 'unavailable');
      assert.match(hb.error.message, /database/);
      const p = await fetch(down.url + '/v1/projects');
      assert.equal(p.status, 500);
      const text = await p.text();
      assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1|postgres/);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'internal_error');
      assert.ok(quiet.lines.some((l) => l.level === 'error' && l.msg === 'request failed'));
    } finally {
      await down.close();
      await dead.destroy();
    }
  });
});
