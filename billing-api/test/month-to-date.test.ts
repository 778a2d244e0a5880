/**
 * Month to date is rated like invoices: a policy published through the API changes
 * the figures a tenant sees (charges, usage, forecast, the project list), and they
 * equal what the invoice path (`rateProjects`) computes for the same period.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { rateProjects } from '../src/invoices/rate-account.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const NOW = new Date('2026-11-21T10:30:00Z');
let t: TestDb;
let api: RunningApi;

before(async () => {
  t = await freshDatabase('mtd');
  await insertUsage(t.db, [
    { project: 'proj-b', resource: 'vm-4', hour: '2026-11-05T00:00:00Z', seconds: '3600', flavor: 'm1.xlarge', vcpus: 8 },
    { project: 'proj-b', resource: 'vm-5', hour: '2026-11-05T00:00:00Z', seconds: '1800', flavor: 'm1.medium', vcpus: 2 },
  ]);
  api = await startApi({ db: t.db, log: memoryLogger(), clock: () => NOW, auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await api?.close();
  await t?.drop();
});

async function call(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

test('a published policy changes month to date, usage, forecast and the list, as invoices would rate it', async () => {
  const before = await call('/v1/projects/proj-b/charges');
  assert.equal(before.body.total, '0.1800');
  assert.deepEqual(before.body.policy, { name: 'default', version: 0 });

  // 3 EUR per vCPU-hour and a 10 EUR monthly fee, from November 1st.
  const source = 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 3 (EUR)\nEVENT = "Billing Period", RECURRING_COST_PER_MONTH = 10 (EUR)\n';
  const pub = await call('/v1/pricing-policies', 'POST', { name: 'std', source, effective_from: '2026-11-01T00:00:00Z' });
  assert.equal(pub.status, 201, JSON.stringify(pub.body));

  const c = await call('/v1/projects/proj-b/charges');
  assert.equal(c.status, 200);
  assert.deepEqual(c.body.policy, { name: 'std', version: 1 });
  // vm-4: 8 vCPU x 1 h x 3 = 24; vm-5: 2 vCPU x 0.5 h x 3 = 3.
  assert.deepEqual(c.body.resources.map((r: any) => [r.resource_id, r.unit_price, r.price_basis, r.amount]), [
    ['vm-4', '24.0000', 'vcpu', '24.000000'],
    ['vm-5', '6.0000', 'vcpu', '3.000000'],
  ]);
  // The fee is prorated over Nov 1 00:00 .. Nov 21 10:30 (20.4375 of 30 days).
  assert.equal(c.body.adjustments.length, 1);
  assert.equal(c.body.adjustments[0].kind, 'recurring');
  assert.equal(c.body.adjustments[0].amount, '6.812500');
  assert.equal(c.body.total, '33.8125');

  const period = { start: new Date('2026-11-01T00:00:00Z'), end: NOW };
  const invoiced = await rateProjects(t.db, ['proj-b'], period);
  assert.equal(invoiced.totalText, c.body.total, 'month to date equals the invoice path');

  const usage = await call('/v1/projects/proj-b/usage?group_by=flavor');
  assert.deepEqual(usage.body.policy, { name: 'std', version: 1 });
  assert.equal(usage.body.total, '33.8125');
  const forecast = await call('/v1/projects/proj-b/forecast');
  assert.equal(forecast.body.month_to_date, '33.8125');
  const list = await call('/v1/projects');
  assert.deepEqual(list.body.projects, [{ project_id: 'proj-b', total: '33.8125', resources: 2 }]);

  // An explicit period before the policy's effective date still uses the default.
  const oct = await call('/v1/projects/proj-b/charges?start=2026-10-01&end=2026-11-01');
  assert.deepEqual(oct.body.policy, { name: 'default', version: 0 });
});
