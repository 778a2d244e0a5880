/**
 * The auth matrix against the real Keystone: every v1 route × admin / member /
 * reader / no token × the caller's own project / another project, compared
 * with the expected allow/deny table. A denied answer must carry nothing but
 * the error (zero leaks); an allowed one must not be a 5xx. The table must
 * list exactly the routes the app serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeystoneValidator } from '@tally/billing-api';
import { issueToken, keystoneApi, keystoneEnv, serviceSettings, USERS } from './api-helpers.js';

const env = keystoneEnv();
const KS = env['KEYSTONE_URL']!;
const PROJ = { own: env['DEMO_PROJECT_ID']!, other: env['OTHER_PROJECT_ID']! };
type Scope = 'own' | 'other';
type Caller = 'admin' | 'member' | 'reader' | 'none';
const CALLERS: Caller[] = ['admin', 'member', 'reader', 'none'];

const acct = (s: Scope) => `acct-${s}`;
const POLICY = 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0300 (EUR)\n';
const PERIOD = { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' };

/** `Y`/`N` for own then other, per caller: admin, member, reader, none. */
const A = 'YY YY YY NN';
const OWN = 'YY YN YN NN';
const ADMIN = 'YY NN NN NN';
/** Members change their own project (readers may not). */
const MEMBER = 'YY YN NN NN';
const vm = (s: Scope) => (s === 'own' ? 'vm-0' : 'vm-1');
const EXPECTED: Record<string, { expect: string; req: (s: Scope, inv: Record<Scope, string>) => { path: string; body?: unknown } }> = {
  'GET /v1/projects': { expect: A, req: () => ({ path: '/v1/projects' }) },
  'GET /v1/projects/:id/charges': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/charges` }) },
  'GET /v1/projects/:id/usage': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/usage?group_by=flavor` }) },
  'GET /v1/projects/:id/forecast': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/forecast` }) },
  'GET /v1/pricing-policies': { expect: A, req: () => ({ path: '/v1/pricing-policies' }) },
  'GET /v1/pricing-policies/:name': { expect: A, req: () => ({ path: '/v1/pricing-policies/std' }) },
  'POST /v1/pricing-policies': { expect: ADMIN, req: (s) => ({ path: '/v1/pricing-policies', body: { name: `m-${s}-${Math.random().toString(36).slice(2, 8)}`, source: POLICY } }) },
  'PUT /v1/pricing-policies/:name': { expect: ADMIN, req: () => ({ path: '/v1/pricing-policies/std', body: { source: POLICY } }) },
  'DELETE /v1/pricing-policies/:name': { expect: ADMIN, req: () => ({ path: '/v1/pricing-policies/gone' }) },
  'POST /v1/pricing-policies/validate': { expect: ADMIN, req: () => ({ path: '/v1/pricing-policies/validate', body: { source: POLICY } }) },
  'POST /v1/pricing-policies/simulate': { expect: ADMIN, req: () => ({ path: '/v1/pricing-policies/simulate', body: { source: POLICY } }) },
  'POST /v1/quotes': { expect: A, req: () => ({ path: '/v1/quotes', body: { items: [{ resourceType: 'm1.small', vcpus: 1 }], duration_seconds: '3600' } }) },
  'GET /v1/accounts': { expect: ADMIN, req: () => ({ path: '/v1/accounts' }) },
  'POST /v1/accounts': { expect: ADMIN, req: (s) => ({ path: '/v1/accounts', body: { name: 'n', currency: 'EUR', scheme: 'postpaid', projects: [`x-${s}-${Math.random().toString(36).slice(2, 8)}`] } }) },
  'GET /v1/accounts/:account_id': { expect: OWN, req: (s) => ({ path: `/v1/accounts/${acct(s)}` }) },
  'PATCH /v1/accounts/:account_id': { expect: ADMIN, req: (s) => ({ path: `/v1/accounts/${acct(s)}`, body: { name: `renamed ${s}` } }) },
  'POST /v1/accounts/:account_id/topups': { expect: ADMIN, req: (s) => ({ path: `/v1/accounts/${acct(s)}/topups`, body: { amount: '1', idempotency_key: `k-${s}` } }) },
  'GET /v1/accounts/:account_id/ledger': { expect: OWN, req: (s) => ({ path: `/v1/accounts/${acct(s)}/ledger` }) },
  'GET /v1/accounts/:account_id/invoices': { expect: OWN, req: (s) => ({ path: `/v1/accounts/${acct(s)}/invoices` }) },
  'GET /v1/invoices/:invoice_id': { expect: OWN, req: (s, inv) => ({ path: `/v1/invoices/${inv[s]}` }) },
  'GET /v1/invoices/:invoice_id/csv': { expect: OWN, req: (s, inv) => ({ path: `/v1/invoices/${inv[s]}/csv` }) },
  'GET /v1/projects/:id/account': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/account` }) },
  'GET /v1/projects/:id/invoices': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/invoices` }) },
  'GET /v1/projects/:id/invoices/:invoice_id': { expect: OWN, req: (s, inv) => ({ path: `/v1/projects/${PROJ[s]}/invoices/${inv[s]}` }) },
  'GET /v1/projects/:id/invoices/:invoice_id/csv': { expect: OWN, req: (s, inv) => ({ path: `/v1/projects/${PROJ[s]}/invoices/${inv[s]}/csv` }) },
  'POST /v1/invoices/:invoice_id/finalize': { expect: ADMIN, req: (s, inv) => ({ path: `/v1/invoices/${inv[s]}/finalize` }) },
  'POST /v1/invoices/:invoice_id/void': { expect: ADMIN, req: (s, inv) => ({ path: `/v1/invoices/${inv[s]}-none/void` }) },
  'POST /v1/invoices/:invoice_id/credit-notes': { expect: ADMIN, req: (s, inv) => ({ path: `/v1/invoices/${inv[s]}/credit-notes`, body: { amount: '0.01', reason: 'r', idempotency_key: `cn-${s}` } }) },
  'POST /v1/billing-runs': { expect: ADMIN, req: () => ({ path: '/v1/billing-runs', body: PERIOD }) },
  'GET /v1/audit': { expect: ADMIN, req: () => ({ path: '/v1/audit' }) },
  'GET /v1/projects/:id/billing-modes': { expect: OWN, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/billing-modes` }) },
  'PUT /v1/projects/:id/resources/:resource_id/billing-mode': { expect: MEMBER, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/resources/${vm(s)}/billing-mode`, body: { mode: 'dynamic' } }) },
  'POST /v1/projects/:id/billing-modes': { expect: MEMBER, req: (s) => ({ path: `/v1/projects/${PROJ[s]}/billing-modes`, body: { resources: [{ resource_id: vm(s), mode: 'on-demand' }] } }) },
  'GET /v1/pools': { expect: A, req: () => ({ path: '/v1/pools' }) },
  'POST /v1/pools/:name/capacity': { expect: ADMIN, req: () => ({ path: '/v1/pools/gpu/capacity', body: { free: '0.5' } }) },
  'GET /v1/components': { expect: ADMIN, req: () => ({ path: '/v1/components' }) },
  'GET /v1/alerts': { expect: ADMIN, req: () => ({ path: '/v1/alerts' }) },
  'POST /v1/alerts/:alert_id/acknowledge': { expect: ADMIN, req: () => ({ path: '/v1/alerts/1/acknowledge' }) },
  'GET /v1/scheduler/clusters': { expect: ADMIN, req: () => ({ path: '/v1/scheduler/clusters' }) },
  'GET /v1/scheduler/decisions': { expect: ADMIN, req: () => ({ path: '/v1/scheduler/decisions' }) },
  'GET /v1/scheduler/actions': { expect: ADMIN, req: () => ({ path: '/v1/scheduler/actions' }) },
  'GET /v1/scaling-policies': { expect: ADMIN, req: () => ({ path: '/v1/scaling-policies' }) },
  'GET /v1/scaling-policies/:cluster': { expect: ADMIN, req: () => ({ path: '/v1/scaling-policies/analyzer' }) },
  'PUT /v1/scaling-policies/:cluster': { expect: ADMIN, req: () => ({ path: '/v1/scaling-policies/analyzer', body: { source: 'max_size: 2' } }) },
  'DELETE /v1/scaling-policies/:cluster': { expect: ADMIN, req: () => ({ path: '/v1/scaling-policies/gone' }) },
  'POST /v1/scaling-policies/validate': { expect: ADMIN, req: () => ({ path: '/v1/scaling-policies/validate', body: { source: 'max_size: 2' } }) },
};

test('every route × caller × project matches the expected table, and denials leak nothing', { timeout: 120_000 }, async (t) => {
  const v = new KeystoneValidator(serviceSettings(env, 60_000));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  const tokens: Record<Caller, string | undefined> = {
    admin: (await issueToken(KS, USERS.admin)).token,
    member: (await issueToken(KS, USERS.member)).token,
    reader: (await issueToken(KS, USERS.reader)).token,
    none: undefined,
  };
  // Fixtures through the API itself, as the admin.
  const send = async (method: string, path: string, caller: Caller, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (tokens[caller]) headers['x-auth-token'] = tokens[caller]!;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(s.api.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  for (const sc of ['own', 'other'] as const) {
    const r = await send('POST', '/v1/accounts', 'admin', { id: acct(sc), name: sc, currency: 'EUR', scheme: 'postpaid', projects: [PROJ[sc]] });
    assert.equal(r.status, 201, r.text);
  }
  for (const name of ['std', 'gone']) assert.equal((await send('POST', '/v1/pricing-policies', 'admin', { name, source: POLICY, effective_from: '2027-01-01T00:00:00Z' })).status, 201);
  await s.db('usage_records').insert([PROJ.own, PROJ.other].map((p, i) => ({
    window_start: new Date('2026-10-10T00:00:00Z'), window_end: new Date('2026-10-10T01:00:00Z'), resource_id: `vm-${i}`, meter: 'instance', unit: 's',
    quantity: '3600', project_id: p, user_id: 'u', flavor_name: 'm1.small', vcpus: 1, memory_mb: 2048, display_name: 'vm', samples: 6,
  })));
  assert.equal((await send('POST', '/v1/billing-runs', 'admin', PERIOD)).status, 201);
  const inv = {} as Record<Scope, string>;
  for (const sc of ['own', 'other'] as const) {
    inv[sc] = ((await s.db('invoices').where({ account_id: acct(sc) }).first('id')) as { id: string }).id;
  }

  const served = s.api.routes.map((r) => `${r.method} ${r.path}`).sort();
  assert.deepEqual(served, Object.keys(EXPECTED).sort(), 'the table lists exactly the served routes');
  const mismatches: string[] = [];
  for (const spec of s.api.routes) {
    const key = `${spec.method} ${spec.path}`;
    const row = EXPECTED[key]!;
    const groups = row.expect.split(' ');
    for (const [ci, caller] of CALLERS.entries()) {
      for (const [si, sc] of (['own', 'other'] as const).entries()) {
        const want = groups[ci]![si] === 'Y';
        const { path, body } = row.req(sc, inv);
        const r = await send(spec.method, path, caller, spec.method === 'GET' || spec.method === 'DELETE' ? undefined : (body ?? {}));
        const allowed = r.status !== 401 && r.status !== 403;
        if (allowed !== want) mismatches.push(`${key} ${caller} ${sc}: got ${r.status}, expected ${want ? 'allowed' : 'denied'}`);
        if (!allowed) {
          const parsed = JSON.parse(r.text) as Record<string, unknown>;
          if (Object.keys(parsed).join() !== 'error' || r.type.includes('csv')) mismatches.push(`${key} ${caller} ${sc}: a denial carried more than the error: ${r.text.slice(0, 200)}`);
          if (caller === 'none' && r.status !== 401) mismatches.push(`${key} none ${sc}: expected 401, got ${r.status}`);
        }
        if (r.status >= 500) mismatches.push(`${key} ${caller} ${sc}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  }
  assert.deepEqual(mismatches, []);
  // No spelling of a v1 path skips authentication.
  for (const p of ['/V1/projects', '//v1/projects', '/v1//projects', `/v1/projects/${PROJ.own}/charges/`, '/v1/nothing-here']) {
    const r = await send('GET', p, 'none');
    assert.equal(r.status, 401, p);
  }
});
