/**
 * Regression tests of issue 16 (hostile input), billing-api side: one test per
 * defect found against 64081a8, each written against the HTTP API (and the
 * tables) only, so the same file runs against that commit — where every one of
 * them fails — and against this code, where each is refused as the issue asks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { AccessPolicy } from '../src/auth/policy.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const NOW = new Date('2026-11-21T10:30:00Z');
const OCT = { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' };
let t: TestDb;
let api: RunningApi;

before(async () => {
  t = await freshDatabase('hostile');
  await insertUsage(t.db, [
    // good-a: m1.small 1 h in October and in November (0.02 each under the default policy).
    { project: 'good-a', resource: 'vm-a', hour: '2026-10-05T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'good-a', resource: 'vm-a', hour: '2026-11-05T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    // bad-b: a negative gauge stored before the analyzer refused them, in October and November.
    { project: 'bad-b', resource: 'vm-b', hour: '2026-10-05T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'bad-b', resource: 'vm-b', hour: '2026-10-05T00:00:00Z', seconds: '-307200', flavor: 'm1.small', vcpus: 1, meter: 'memory.usage' },
    { project: 'bad-b', resource: 'vm-b', hour: '2026-11-05T00:00:00Z', seconds: '-307200', flavor: 'm1.small', vcpus: 1, meter: 'memory.usage' },
  ]);
  // Money routes need an authenticated admin by default; noauth is not authenticated.
  const policy = new AccessPolicy({ 'billing:runs:create': 'rule:admin', 'billing:accounts:topup': 'rule:admin', 'billing:invoices:write': 'rule:admin' });
  api = await startApi({ db: t.db, log: memoryLogger(), clock: () => NOW, auth: 'noauth', policy }, { host: '127.0.0.1', port: 0 });
  for (const [id, project] of [['acct-a', 'good-a'], ['acct-b', 'bad-b']]) {
    assert.equal((await call('POST', '/v1/accounts', { id, name: id, currency: 'EUR', scheme: 'postpaid', projects: [project] })).status, 201);
  }
});
after(async () => {
  await api?.close();
  await t?.drop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const init: RequestInit = { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(api.url + path, init);
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, headers: res.headers };
}

const field = (r: { body: any }) => r.body?.error?.field;

describe('2: a bad stored usage row never takes down other projects', () => {
  test('GET /v1/projects answers every other project and lists the bad one as unrated', async () => {
    const r = await call('GET', '/v1/projects');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.projects, [{ project_id: 'good-a', total: '0.0200', resources: 1 }]);
    assert.equal(r.body.unrated[0].project_id, 'bad-b');
    assert.equal(r.body.unrated[0].code, 'usage_invalid');
  });
  test("the bad project's own charges and forecast say what is wrong (409), the others answer", async () => {
    const bad = await call('GET', '/v1/projects/bad-b/charges');
    assert.equal(bad.status, 409, JSON.stringify(bad.body));
    assert.equal(bad.body.error.code, 'usage_invalid');
    assert.match(bad.body.error.message, /vm-b.*memory\.usage.*-307200.*negative/);
    assert.equal((await call('GET', '/v1/projects/bad-b/forecast')).status, 409);
    assert.equal((await call('GET', '/v1/projects/good-a/charges')).body.total, '0.0200');
    assert.equal((await call('GET', '/v1/projects/good-a/forecast')).status, 200);
  });
  test('a billing run without a filter invoices the others and reports the bad account', async () => {
    const r = await call('POST', '/v1/billing-runs', OCT);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.invoices_created, 1);
    assert.deepEqual(r.body.failed_accounts.map((f: any) => [f.account_id, f.code]), [['acct-b', 'usage_invalid']]);
    assert.equal(r.body.status, 'failed');
    const inv = await t.db('invoices').where({ account_id: 'acct-a' }).first('total');
    assert.equal(Number(inv.total), 0.02);
    assert.equal(await t.db('invoices').where({ account_id: 'acct-b' }).first('id'), undefined, 'no invoice missing the bad usage');
  });
  test('the bad row is alerted and counted on /metrics', async () => {
    const alerts = await t.db('alerts').where({ kind: 'usage_record_invalid' }).select('key', 'details');
    assert.ok(alerts.some((a: any) => a.details.project_id === 'bad-b' && a.details.records[0].resource_id === 'vm-b'), JSON.stringify(alerts));
    const m = await call('GET', '/metrics');
    assert.match(m.body, /^tally_api_usage_records_invalid_total [1-9]/m);
  });
});

describe('3: a project can never change or bind another project\'s resource', () => {
  test("a mode set in projA for an unseen id never rates projB's usage of it; projB sets its own", async () => {
    await call('POST', '/v1/pools/p1/capacity', { free: '0.5' });
    const policy = 'EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = 0.5\nEVENT = "VM Assignment", COST_PER_HOUR = 1.0000 (EUR)\n';
    assert.equal((await call('POST', '/v1/pricing-policies', { name: 'dyn', source: policy, effective_from: '2026-01-01T00:00:00Z' })).status, 201);
    const a = await call('PUT', '/v1/projects/proj-a/resources/vm-future/billing-mode', { mode: 'dynamic', pool: 'p1' });
    assert.equal(a.status, 200, JSON.stringify(a.body));
    await insertUsage(t.db, [{ project: 'proj-b', resource: 'vm-future', hour: '2026-11-06T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 }]);
    const c = await call('GET', '/v1/projects/proj-b/charges');
    assert.deepEqual(c.body.resources.map((r: any) => [r.resource_id, r.billing_mode, r.amount]), [['vm-future', 'on-demand', '1.000000']]);
    const b = await call('PUT', '/v1/projects/proj-b/resources/vm-future/billing-mode', { mode: 'dynamic', pool: 'p1' });
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal((await call('GET', '/v1/projects/proj-b/charges')).body.total, '0.5000');
  });
  test('two projects setting one new id at once each get their own row', async () => {
    for (let i = 0; i < 6; i++) {
      const rid = `vm-race-${i}`;
      const [x, y] = await Promise.all(['proj-x', 'proj-y'].map((p) => call('PUT', `/v1/projects/${p}/resources/${rid}/billing-mode`, { mode: 'dynamic' })));
      assert.deepEqual([x!.status, y!.status], [200, 200]);
      for (const p of ['proj-x', 'proj-y']) {
        const list = (await call('GET', `/v1/projects/${p}/billing-modes`)).body.resources;
        assert.deepEqual(list.filter((r: any) => r.resource_id === rid).map((r: any) => [r.project_id, r.mode]), [[p, 'dynamic']], `try ${i}, ${p}`);
      }
    }
  });
});

describe('4: prices and amounts are bounded by what storage holds; a failed run says so', () => {
  test('a price of 10^30 is refused naming source', async () => {
    const r = await call('POST', '/v1/pricing-policies', { name: 'huge', source: `EVENT = "VM Assignment", COST_PER_HOUR = 1${'0'.repeat(30)} (EUR)\n` });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(field(r), 'source');
  });
  test('an account whose bill cannot be stored is reported, the others invoiced, the run marked failed', async () => {
    await t.db('account_projects').where({ project_id: 'bad-b' }).delete();
    await call('POST', '/v1/accounts', { id: 'acct-big', name: 'big', currency: 'EUR', scheme: 'postpaid', projects: ['big'] });
    assert.equal((await call('POST', '/v1/pricing-policies', { name: 'dear', source: 'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.huge", COST_PER_HOUR = 100000000000 (EUR)\n', effective_from: '2026-01-01T00:00:00Z' })).status, 201);
    await insertUsage(t.db, [{ project: 'big', resource: 'vm-big', hour: '2026-09-05T00:00:00Z', seconds: '100000000000000000', flavor: 'm1.huge', vcpus: 1 }]);
    await insertUsage(t.db, [{ project: 'good-a', resource: 'vm-a', hour: '2026-09-05T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 }]);
    const r = await call('POST', '/v1/billing-runs', { start: '2026-09-01T00:00:00Z', end: '2026-10-01T00:00:00Z' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.failed_accounts.map((f: any) => [f.account_id, f.code]), [['acct-big', 'amount_out_of_range']]);
    const run = await t.db('billing_runs').where({ id: r.body.run_id }).first('status', 'finished_at');
    assert.equal(run.status, 'failed');
    assert.ok(run.finished_at instanceof Date);
    assert.ok(await t.db('invoices').where({ account_id: 'acct-a', period_start: new Date('2026-09-01T00:00:00Z') }).first('id'));
  });
});

describe('5 and 6: quotes are bounded, off the event loop, and every item field is checked', () => {
  const item = { resource_type: 'm1.small', vcpus: 1 };
  test('100 items over 1000 hours is refused naming items', async () => {
    // project_id is given (it is optional now) so that each of these tests meets only its own defect at 64081a8.
    const r = await call('POST', '/v1/quotes', { project_id: 'proj-q', items: Array.from({ length: 100 }, () => item), duration_seconds: '3600000' });
    assert.equal(r.status, 400);
    assert.equal(field(r), 'items');
  });
  test('the healthcheck answers while the largest allowed quote is priced', async () => {
    const order: string[] = [];
    const q = call('POST', '/v1/quotes', { project_id: 'proj-q', items: [{ ...item, count: 10 }], duration_seconds: '3600000' }).then((r) => { order.push(`quote ${r.status}`); });
    await new Promise((res) => setTimeout(res, 150));
    await call('GET', '/healthcheck').then((r) => { order.push(`health ${r.status}`); });
    await q;
    assert.deepEqual(order, ['health 200', 'quote 200']);
  });
  const bad: [string, unknown, string][] = [
    ['vcpus "abc"', { resource_type: 'm1.small', vcpus: 'abc' }, 'items[0].vcpus'],
    ['resource_type {}', { resource_type: {} }, 'items[0].resource_type'],
    ['vcpus -4', { vcpus: -4 }, 'items[0].vcpus'],
    ['vcpus 2.5', { vcpus: 2.5 }, 'items[0].vcpus'],
    ['vcpus "4"', { vcpus: '4' }, 'items[0].vcpus'],
    ['vcpus 1e308', { vcpus: 1e308 }, 'items[0].vcpus'],
    ['unknown key flavor', { flavor: 'm1.small' }, 'items[0].flavor'],
    ['billing_mode "free"', { billing_mode: 'free' }, 'items[0].billing_mode'],
  ];
  for (const [name, it, f] of bad) {
    test(`quote item ${name} -> 400 naming ${f}`, async () => {
      const r = await call('POST', '/v1/quotes', { project_id: 'proj-q', items: [it], duration_seconds: '3600' });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(field(r), f);
    });
  }
  test("project_id defaults to the caller's; a bad duration is named duration_seconds", async () => {
    const ok = await call('POST', '/v1/quotes', { items: [item], duration_seconds: '3600' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.match(ok.body.totalText, /^\d+\.\d{4}$/);
    assert.equal(field(await call('POST', '/v1/quotes', { project_id: 'proj-q', items: [item], duration_seconds: '0' })), 'duration_seconds');
  });
});

describe('7: a NUL character is a 400 naming the field, everywhere', () => {
  const cases: [string, string, unknown, string][] = [
    ['account name', '/v1/accounts', { name: 'a\u0000b', currency: 'EUR', scheme: 'postpaid', projects: [] }, 'name'],
    ['policy source', '/v1/pricing-policies', { name: 'nul', source: 'EVENT = "VM\u0000Assignment", COST_PER_HOUR = 1 (EUR)\n' }, 'source'],
    ['credit-note reason', '/v1/invoices/inv_x/credit-notes', { amount: '1', reason: 'a\u0000b', idempotency_key: 'k' }, 'reason'],
  ];
  for (const [name, path, body, f] of cases) {
    test(`${name}`, async () => {
      const r = await call('POST', path, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(field(r), f);
    });
  }
  test('a query parameter', async () => {
    const r = await call('GET', '/v1/audit?target_id=%00');
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(field(r), 'target_id');
  });
});

describe('8: parallel account writes are atomic', () => {
  test('parallel creates for one project: one 201, the others 409, every time', async () => {
    // Several rounds: the race is between requests, so one round may happen to run them in turn.
    for (let round = 0; round < 8; round++) {
      const project = `raced-${round}`;
      const rs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => call('POST', '/v1/accounts', { id: `race-${round}-${i}`, name: 'r', currency: 'EUR', scheme: 'postpaid', projects: [project] })));
      assert.deepEqual(rs.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409], `round ${round}`);
      const linked = (await t.db('accounts').whereLike('id', `race-${round}-%`).select('id')).length;
      assert.equal(linked, 1, `round ${round}: only the account that got the project exists`);
    }
  });
  test('parallel patches claiming one project: one 200, the others 409, every time', async () => {
    for (let round = 0; round < 8; round++) {
      const ids = [1, 2, 3, 4].map((i) => `pa-${round}-${i}`);
      for (const id of ids) await call('POST', '/v1/accounts', { id, name: id, currency: 'EUR', scheme: 'postpaid', projects: [] });
      const rs = await Promise.all(ids.map((id) => call('PATCH', `/v1/accounts/${id}`, { projects: [`patched-${round}`] })));
      assert.deepEqual(rs.map((r) => r.status).sort(), [200, 409, 409, 409], `round ${round}`);
    }
  });
});

describe('9, 10: capacity feeds and body timestamps', () => {
  test('two capacity samples at the same time -> 400 naming the second', async () => {
    const r = await call('POST', '/v1/pools/pz/capacity', { samples: [{ at: '2026-11-01T00:00:00Z', free: '0.5' }, { at: '2026-11-01T00:00:00Z', free: '0.6' }] });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(field(r), 'samples[1].at');
  });
  for (const at of ['2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z']) {
    test(`an impossible body date ${at} -> 400 naming effective_from`, async () => {
      const r = await call('POST', '/v1/pricing-policies', { name: `d${at.slice(0, 4)}`, source: 'EVENT = "VM Assignment", COST_PER_HOUR = 1 (EUR)\n', effective_from: at });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(field(r), 'effective_from');
    });
  }
});

describe('12, 13: idempotency, names, unknown fields, Allow, empty policies', () => {
  test('a top-up key reused with another amount -> 409 naming idempotency_key', async () => {
    assert.equal((await call('POST', '/v1/accounts/acct-a/topups', { amount: '10', idempotency_key: 'k-1' })).status, 201);
    assert.equal((await call('POST', '/v1/accounts/acct-a/topups', { amount: '10', idempotency_key: 'k-1' })).headers.get('idempotent-replay'), 'true');
    const r = await call('POST', '/v1/accounts/acct-a/topups', { amount: '99', idempotency_key: 'k-1' });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(field(r), 'idempotency_key');
  });
  test('creating a policy with an existing name -> 409 naming name', async () => {
    const r = await call('POST', '/v1/pricing-policies', { name: 'dyn', source: 'EVENT = "VM Assignment", COST_PER_HOUR = 2 (EUR)\n' });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(field(r), 'name');
  });
  test('finalize refuses unknown fields', async () => {
    const r = await call('POST', '/v1/invoices/inv_x/finalize', { x: 1 });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(field(r), 'x');
  });
  test('405 carries an Allow header', async () => {
    const r = await call('POST', '/v1/projects');
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow') ?? '', /GET/);
    assert.equal(r.body.error.code, 'method_not_allowed');
  });
  test('a policy with no rule is refused naming source', async () => {
    const r = await call('POST', '/v1/pricing-policies', { name: 'empty', source: '# only a comment\n' });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(field(r), 'source');
  });
});
