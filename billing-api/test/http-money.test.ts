/**
 * The money and policy routes over HTTP (noauth): what noauth may not do,
 * body validation naming the field, size and media-type limits, pricing
 * policy versions with validate and simulate, quotes and the audit trail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { AccessPolicy, RULE_DEFAULTS } from '../src/auth/policy.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const NOW = new Date('2026-11-21T10:30:00Z');
let t: TestDb;
let strict: RunningApi;
let open: RunningApi;

before(async () => {
  t = await freshDatabase('httpmoney');
  await insertUsage(t.db, [{ project: 'p1', resource: 'vm-1', hour: '2026-10-05T00:00:00Z', seconds: '3600', flavor: 'm1.large', vcpus: 4 }]);
  const log = memoryLogger();
  strict = await startApi({ db: t.db, log, clock: () => NOW, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
  const policy = new AccessPolicy({ 'billing:runs:create': 'rule:admin', 'billing:accounts:topup': 'rule:admin' });
  open = await startApi({ db: t.db, log, clock: () => NOW, auth: 'noauth', policy }, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  await strict?.close();
  await open?.close();
  await t?.drop();
});

async function call(api: RunningApi, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const init: RequestInit = { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(api.url + path, init);
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

const PERIOD = { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' };

describe('noauth limits', () => {
  test('an unauthenticated caller can neither start a billing run nor top up, by default', async () => {
    const run = await call(strict, 'POST', '/v1/billing-runs', PERIOD);
    assert.equal(run.status, 403);
    assert.equal(run.body.error.code, 'forbidden');
    await call(strict, 'POST', '/v1/accounts', { id: 'a1', name: 'A', currency: 'EUR', scheme: 'prepaid', projects: ['p1'] });
    assert.equal((await call(strict, 'POST', '/v1/accounts/a1/topups', { amount: '1', idempotency_key: 'k' })).status, 403);
    assert.equal((await call(open, 'POST', '/v1/accounts/a1/topups', { amount: '1', idempotency_key: 'k' })).status, 201);
  });
});

describe('body validation', () => {
  const cases: [string, string, unknown, number, string][] = [
    ['POST', '/v1/accounts', { name: 'x', currency: 'eur', scheme: 'postpaid', projects: [] }, 400, 'currency'],
    ['POST', '/v1/accounts', { name: 'x', currency: 'EUR', scheme: 'weekly', projects: [] }, 400, 'scheme'],
    ['POST', '/v1/accounts', { name: 'x', currency: 'EUR', scheme: 'postpaid', projects: ['ok', 'bad id'] }, 400, 'projects[1]'],
    ['POST', '/v1/accounts', { name: 'x', currency: 'EUR', scheme: 'postpaid', projects: [], colour: 'red' }, 400, 'colour'],
    ['POST', '/v1/accounts', { currency: 'EUR', scheme: 'postpaid', projects: [] }, 400, 'name'],
    ['POST', '/v1/accounts/a1/topups', { amount: 1.5, idempotency_key: 'k2' }, 400, 'amount'],
    ['POST', '/v1/accounts/a1/topups', { amount: '0', idempotency_key: 'k2' }, 400, 'amount'],
    ['POST', '/v1/accounts/a1/topups', { amount: '-1', idempotency_key: 'k2' }, 400, 'amount'],
    ['POST', '/v1/accounts/a1/topups', { amount: '1' }, 400, 'idempotency_key'],
    ['POST', '/v1/billing-runs', { start: '2026-10-01', end: '2026-11-01T00:00:00Z' }, 400, 'start'],
    ['POST', '/v1/billing-runs', { start: '2026-10-01T00:00:00Z', end: '2027-01-01T00:00:00Z' }, 400, 'end'],
    ['POST', '/v1/billing-runs', '{"start": ', 400, 'body'],
    ['POST', '/v1/billing-runs', '[1,2]', 400, 'body'],
    ['POST', '/v1/pricing-policies', { name: 'p', source: 'EVENT = ' }, 400, 'source'],
    ['POST', '/v1/pricing-policies', { name: 'bad name', source: 'x' }, 400, 'name'],
    ['POST', '/v1/quotes', { items: [], duration_seconds: '3600' }, 400, 'items'],
  ];
  for (const [method, path, body, status, field] of cases) {
    test(`${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)} → ${status} naming ${field}`, async () => {
      const r = await call(open, method, path, body);
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.field, field);
      assert.match(r.body.error.request_id, /^[0-9a-f-]{36}$/);
    });
  }
  test('an oversized body gets 413 and a non-JSON one 415, naming body', async () => {
    const big = await call(open, 'POST', '/v1/pricing-policies/validate', JSON.stringify({ source: 'x'.repeat(300 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error.field, 'body');
    const form = await call(open, 'POST', '/v1/pricing-policies/validate', 'source=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
  });
});

describe('pricing policies', () => {
  const V1 = 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0300 (EUR)\n';
  const V2 = 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0500 (EUR)\n';
  test('validate lists issues with line and column; a valid text has none', async () => {
    const bad = await call(open, 'POST', '/v1/pricing-policies/validate', { source: 'EVENT = "VM Assignment", COST_PER_HOUR = (EUR)\n' });
    assert.equal(bad.status, 200);
    assert.equal(bad.body.valid, false);
    assert.equal(bad.body.issues[0].line, 1);
    const good = await call(open, 'POST', '/v1/pricing-policies/validate', { source: V1 });
    assert.deepEqual(good.body, { valid: true, issues: [] });
  });
  test('simulate rates last month with the draft beside the live policy', async () => {
    const r = await call(open, 'POST', '/v1/pricing-policies/simulate', { source: V1 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.period, { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' });
    assert.equal(r.body.live.projects.p1, '0.08', 'default policy: m1.large 0.08/h');
    assert.equal(r.body.draft.projects.p1, '0.12', 'draft: 4 vCPU x 0.03');
  });
  test('add, modify (a new version), list, delete; quotes use the live version', async () => {
    const a = await call(open, 'POST', '/v1/pricing-policies', { name: 'std', source: V1, effective_from: '2026-01-01T00:00:00Z' });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.version, 1);
    const b = await call(open, 'PUT', '/v1/pricing-policies/std', { source: V2, effective_from: '2026-11-01T00:00:00Z' });
    assert.equal(b.body.version, 2);
    const list = await call(open, 'GET', '/v1/pricing-policies/std');
    assert.deepEqual(list.body.versions.map((v: { version: number }) => v.version), [2, 1]);
    const q = await call(open, 'POST', '/v1/quotes', { project_id: 'p1', items: [{ resource_type: 'x1', vcpus: 2 }], duration_seconds: '3600' });
    assert.equal(q.status, 200, JSON.stringify(q.body));
    assert.equal(q.body.totalText ?? q.body.total, '0.1000');
    assert.equal((await call(open, 'DELETE', '/v1/pricing-policies/std')).status, 204);
    assert.equal((await call(open, 'GET', '/v1/pricing-policies/std')).status, 404);
    assert.equal((await call(open, 'PUT', '/v1/pricing-policies/std', { source: V2 })).status, 404);
  });
  test('every change is in the audit trail with who, before/after and the request id', async () => {
    const r = await call(open, 'GET', '/v1/audit?target_type=policy');
    const actions = r.body.events.map((e: { action: string }) => e.action);
    assert.deepEqual(actions.slice(0, 3), ['policy.delete', 'policy.version.add', 'policy.version.add']);
    assert.equal(r.body.events[0].user_id, 'noauth');
    assert.match(r.body.events[0].request_id, /^[0-9a-f-]{36}$/);
    assert.ok(r.body.events[1].after.source.includes('0.0500'));
  });
});

describe('forecast', () => {
  test('month to date extended linearly to the month end, exactly', async () => {
    await insertUsage(t.db, [{ project: 'fc', resource: 'vm-f', hour: '2026-11-02T00:00:00Z', seconds: '3600', flavor: 'm1.xlarge', vcpus: 8 }]);
    const r = await call(strict, 'GET', '/v1/projects/fc/forecast');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // 0.16 so far; 20 d 10.5 h of 30 d elapsed: 0.16 x 720 / 490.5 = 0.234862... -> 0.2349
    assert.equal(r.body.month_to_date, '0.1600');
    assert.equal(r.body.forecast, '0.2349');
    assert.deepEqual(r.body.period, { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' });
    assert.equal((await call(strict, 'GET', '/v1/projects/fc/forecast?start=x')).body.error.field, 'start');
  });
});

describe('usage group-by', () => {
  test('grouped by flavor, resource and day, each summing to the total', async () => {
    await insertUsage(t.db, [
      { project: 'gb', resource: 'g1', hour: '2026-11-03T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
      { project: 'gb', resource: 'g2', hour: '2026-11-03T01:00:00Z', seconds: '1800', flavor: 'm1.small', vcpus: 1 },
      { project: 'gb', resource: 'g3', hour: '2026-11-04T00:00:00Z', seconds: '3600', flavor: 'm1.large', vcpus: 4 },
    ]);
    const flavor = (await call(strict, 'GET', '/v1/projects/gb/usage?group_by=flavor')).body;
    assert.deepEqual(flavor.groups, [{ key: 'm1.large', amount: '0.0800', hours: '1' }, { key: 'm1.small', amount: '0.0300', hours: '1.5' }]);
    assert.equal(flavor.total, '0.1100');
    const resource = (await call(strict, 'GET', '/v1/projects/gb/usage?group_by=resource')).body;
    assert.deepEqual(resource.groups.map((g: { key: string }) => g.key), ['g1', 'g2', 'g3']);
    const day = (await call(strict, 'GET', '/v1/projects/gb/usage?group_by=day&start=2026-11-03T00:00:00Z&end=2026-11-05T00:00:00Z')).body;
    assert.deepEqual(day.groups, [{ key: '2026-11-03', amount: '0.0300' }, { key: '2026-11-04', amount: '0.0800' }]);
    assert.equal((await call(strict, 'GET', '/v1/projects/gb/usage?group_by=colour')).body.error.field, 'group_by');
  });
});

describe('documents', () => {
  test('GET /v1/openapi.json is OpenAPI 3.1 listing every route with its policy rule, without a token', async () => {
    const r = await call(strict, 'GET', '/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, '3.1.0');
    let n = 0;
    for (const spec of strict.routes) {
      const op = r.body.paths[spec.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[spec.method.toLowerCase()];
      assert.ok(op, `${spec.method} ${spec.path}`);
      assert.equal(op['x-policy-rule'], spec.rule);
      n++;
    }
    assert.ok(n >= 20);
    assert.equal(r.body.components.securitySchemes.keystone.name, 'X-Auth-Token');
    // Request bodies and query parameters are the routes' own validators as JSON Schema, field by field.
    for (const spec of strict.routes.filter((s) => ['POST', 'PUT', 'PATCH'].includes(s.method))) {
      const schema = r.body.paths[spec.path.replace(/:([A-Za-z_]+)/g, '{$1}')][spec.method.toLowerCase()].requestBody?.content['application/json'].schema;
      assert.equal(schema?.type, 'object', `${spec.method} ${spec.path}`);
      assert.equal(schema.additionalProperties, false, `${spec.method} ${spec.path}`);
    }
    const item = r.body.paths['/v1/quotes'].post.requestBody.content['application/json'].schema.properties.items.items;
    assert.deepEqual(item.properties.vcpus, { type: 'integer', minimum: 1, maximum: 1024, examples: [2] });
    assert.equal(r.body.paths['/v1/accounts/{account_id}/topups'].post.requestBody.content['application/json'].schema.properties.amount.pattern, '^\\d{1,18}(\\.\\d{1,6})?$');
    assert.deepEqual(r.body.paths['/v1/audit'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`), ['query:target_type', 'query:target_id', 'query:limit']);
    // The policy sample documents no rule that guards nothing, and every route's rule exists.
    const used = new Set(strict.routes.map((s) => s.rule));
    for (const d of RULE_DEFAULTS.filter((x) => x.operations.length > 0)) assert.ok(used.has(d.name), `${d.name} guards a route`);
    for (const rule of used) assert.ok(RULE_DEFAULTS.some((d) => d.name === rule), rule);
  });
  test('GET /metrics counts requests per route pattern and status', async () => {
    await call(strict, 'GET', '/v1/projects/p1/charges');
    const r = await call(strict, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /tally_api_requests_total\{method="GET",route="\/v1\/projects\/:id\/charges",status="200"\} \d+/);
    assert.match(r.body, /tally_api_request_duration_seconds_bucket\{method="GET",route="\/v1\/projects\/:id\/charges",le="\+Inf"\} \d+/);
  });
});
