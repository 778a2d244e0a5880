import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BillingClient } from './api.js';
import { ApiError, dailySeries, explainError, parseProjectCharges, parseProjectList, sortProjects } from './shape.js';

const ctx = {
  period: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-21T10:30:00.000Z' },
  currency: 'EUR',
  policy: { name: 'default', version: 1 },
  rounding: { line: 'half-even to 6 decimals', total: 'half-even to 4 decimals' },
};
const charges = {
  ...ctx,
  project_id: 'p',
  total: '0.0828',
  resources: [{ resource_id: 'vm-1', display_name: 'web', flavor: 'm1.small', vcpus: 1, hours: '1.000000', unit_price: '0.0200', price_basis: 'flavor', amount: '0.020000' }],
  daily: [{ date: '2026-11-01', amount: '0.029997' }, { date: '2026-11-02', amount: '0.000000' }],
  unpriced_resources: [],
};

test('parseProjectCharges accepts a well-formed body', () => {
  assert.equal(parseProjectCharges(charges).total, '0.0828');
});

const malformed: [string, unknown][] = [
  ['total as a number', { ...charges, total: 0.0828 }],
  ['total missing', { ...charges, total: undefined }],
  ['resource amount null', { ...charges, resources: [{ ...charges.resources[0], amount: null }] }],
  ['daily not a list', { ...charges, daily: {} }],
  ['no currency', { ...charges, currency: '' }],
  ['not an object', 'hello'],
];
for (const [name, body] of malformed) {
  test(`a malformed charges body is an error, never a zero bill: ${name}`, () => {
    assert.throws(() => parseProjectCharges(body), (e: unknown) => e instanceof ApiError && e.code === 'bad_response');
  });
}

test('parseProjectList checks every total', () => {
  assert.equal(parseProjectList({ ...ctx, projects: [{ project_id: 'a', total: '1.0000', resources: 1 }] }).projects.length, 1);
  assert.throws(() => parseProjectList({ ...ctx, projects: [{ project_id: 'a', total: null, resources: 1 }] }), ApiError);
});

test('dailySeries: labels by day, floats for drawing, strings kept for tooltips', () => {
  assert.deepEqual(dailySeries(charges.daily), { labels: ['11-01', '11-02'], values: [0.029997, 0], amounts: ['0.029997', '0.000000'] });
});

test('sortProjects: highest total first, exact comparison, ties by id', () => {
  const sorted = sortProjects([
    { project_id: 'b', total: '9.9999', resources: 1 },
    { project_id: 'a', total: '10.0000', resources: 1 },
    { project_id: 'c', total: '9.9999', resources: 1 },
  ]);
  assert.deepEqual(sorted.map((p) => p.project_id), ['a', 'b', 'c']);
});

test('explainError says what happened and what to do', () => {
  assert.match(explainError(new ApiError(0, 'network', 'Failed to fetch')).advice, /billing-api is running/);
  const bad = explainError(new ApiError(400, 'validation_failed', 'start: bad', 'req-1', 'start'));
  assert.match(bad.advice, /"start"/);
  assert.match(bad.advice, /req-1/);
  assert.match(explainError(new ApiError(500, 'internal_error', 'internal error', 'req-2')).title, /HTTP 500/);
  assert.match(explainError(new ApiError(200, 'bad_response', 'x')).advice, /versions/);
  assert.match(explainError(new TypeError('boom')).detail, /boom/);
});

function fakeFetch(status: number, body: string, headers: Record<string, string> = {}): typeof fetch {
  return (async () => new Response(body, { status, headers: { 'Content-Type': 'application/json', ...headers } })) as typeof fetch;
}

test('BillingClient turns the API error shape into an ApiError', async () => {
  const body = JSON.stringify({ error: { code: 'validation_failed', message: 'start: bad', field: 'start', request_id: 'r-9' } });
  const client = new BillingClient('', fakeFetch(400, body));
  await assert.rejects(client.charges('p'), (e: unknown) => e instanceof ApiError && e.status === 400 && e.field === 'start' && e.requestId === 'r-9');
});

test('BillingClient: network failure, non-JSON error page, and success', async () => {
  const down = new BillingClient('', (async () => { throw new TypeError('fetch failed'); }) as typeof fetch);
  await assert.rejects(down.projects(), (e: unknown) => e instanceof ApiError && e.status === 0);
  const proxy = new BillingClient('', fakeFetch(502, '<html>Bad Gateway</html>', { 'X-Request-Id': 'r-1' }));
  await assert.rejects(proxy.projects(), (e: unknown) => e instanceof ApiError && e.status === 502 && e.requestId === 'r-1');
  let asked = '';
  const ok = new BillingClient('/api', (async (url: string) => { asked = url; return new Response(JSON.stringify(charges)); }) as unknown as typeof fetch);
  assert.equal((await ok.charges('a/b')).total, '0.0828');
  assert.equal(asked, '/api/v1/projects/a%2Fb/charges');
});

test('explainError: the Horizon proxy\'s own errors say whom to tell', () => {
  const down = explainError(new ApiError(502, 'upstream_unreachable', 'billing-api cannot be reached at http://127.0.0.1:1/v1/projects', 'horizon-1'));
  assert.match(down.title, /Horizon cannot reach the billing API/);
  assert.match(down.advice, /operator.*horizon-1/s);
  assert.match(explainError(new ApiError(503, 'not_in_catalog', 'x')).title, /not registered/);
});
