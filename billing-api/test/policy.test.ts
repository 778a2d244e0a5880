import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, TallyError } from '@tally/common';
import { billingMigrations, loadPolicyAt, NoPolicyError } from '../src/policy.js';
import { projectCharges } from '../src/charges.js';
import { addPolicyVersion } from '../src/policies/store.js';
import { DEFAULT_POLICY } from '../src/rating.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

let t: TestDb;
before(async () => {
  t = await freshDatabase('policy');
});
after(async () => t?.drop());

test('the migration seeds the default policy, effective since the epoch; rerunning applies nothing', async () => {
  assert.deepEqual(await migrate(t.db, billingMigrations), []);
  const p = await loadPolicyAt(t.db, new Date('2026-11-21T00:00:00Z'));
  assert.equal(p.name, 'default');
  assert.equal(p.version, 1);
  assert.equal(p.currency, 'EUR');
  assert.deepEqual(p.document, DEFAULT_POLICY.document);
  assert.equal(p.effectiveFrom.getTime(), 0);
});

test('the policy in effect is the latest one not after the moment asked', async () => {
  const doc = { ...DEFAULT_POLICY.document, flavors: { ...DEFAULT_POLICY.document.flavors, 'm1.small': '0.0400' } };
  await t.db('pricing_policies').insert({ name: 'default', version: 2, currency: 'EUR', document: JSON.stringify(doc), effective_from: new Date('2026-11-15T00:00:00Z') });
  assert.equal((await loadPolicyAt(t.db, new Date('2026-11-14T23:59:59Z'))).version, 1);
  assert.equal((await loadPolicyAt(t.db, new Date('2026-11-15T00:00:00Z'))).version, 2);

});

test('month to date is rated by the stored DSL versions, each usage window by the version in force then', async () => {
  // The legacy price-list table above is no longer read by rating: policy_versions is (as for invoices).
  const actor = { creds: { user_id: 'u', user_name: 'u', project_id: null, project_name: null, roles: ['admin'], authenticated: 'True' as const }, requestId: 'r' };
  await addPolicyVersion(t.db, actor, { name: 'std', source: 'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.small", COST_PER_HOUR = 0.0400 (EUR)\n', effectiveFrom: new Date('2026-11-15T00:00:00Z') });
  // 1 h of m1.small costs 0.02 under the built-in default and 0.04 under std v1.
  await insertUsage(t.db, [
    { project: 'p', resource: 'r', hour: '2026-11-02T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'p', resource: 'r', hour: '2026-11-16T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
  ]);
  const before15 = await projectCharges({ db: t.db, clock: () => new Date('2026-11-10T00:00:00Z') }, { projectId: 'p' });
  assert.equal(before15.total, '0.0200');
  assert.deepEqual(before15.policy, { name: 'default', version: 0 });
  const after15 = await projectCharges({ db: t.db, clock: () => new Date('2026-11-20T00:00:00Z') }, { projectId: 'p' });
  assert.equal(after15.total, '0.0600');
  assert.deepEqual(after15.policy, { name: 'std', version: 1 });
});

test('no policy in effect, and a corrupt stored policy, are errors (never a zero price)', async () => {
  await assert.rejects(loadPolicyAt(t.db, new Date(-1000)), NoPolicyError);
  await t.db('pricing_policies').insert({ name: 'broken', version: 1, currency: 'EUR', document: JSON.stringify({ kind: 'flavor-hourly', flavors: {}, fallbackPerVcpuHour: 0.02 }), effective_from: new Date('2026-12-01T00:00:00Z') });
  await assert.rejects(loadPolicyAt(t.db, new Date('2026-12-02T00:00:00Z')), (e: unknown) => e instanceof TallyError && e.code === 'policy_invalid');
});

test('the migration goes down and up again', async () => {
  const [m] = billingMigrations;
  assert.ok(m);
  await m.down(t.db);
  assert.equal(await t.db.schema.hasTable('pricing_policies'), false);
  await m.up(t.db);
  assert.equal((await loadPolicyAt(t.db, new Date())).version, 1);
});
