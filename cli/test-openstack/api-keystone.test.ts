/**
 * OpenStack tier: billing-api against Debian's real Keystone (started by
 * scripts/openstack/keystone.sh): token checks, caching, revocation, expiry,
 * the service token's renewal, and the `billing` entry in the catalog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeystoneValidator } from '@tally/billing-api';
import { get, issueToken, keystoneApi, keystoneEnv, revokeToken, serviceSettings, USERS } from './api-helpers.js';

const env = keystoneEnv();
const KS = env['KEYSTONE_URL']!;
const DEMO = env['DEMO_PROJECT_ID']!;
const OTHER = env['OTHER_PROJECT_ID']!;

test('no token, a garbage token and a well-formed foreign token get 401 with WWW-Authenticate; /healthcheck needs none', async (t) => {
  const v = new KeystoneValidator(serviceSettings(env, 60_000));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  for (const token of [undefined, 'garbage', 'gAAAAAB' + 'x'.repeat(180)]) {
    const r = await get(s.api.url, `/v1/projects/${DEMO}/charges`, token);
    assert.equal(r.status, 401, String(token));
    assert.equal((r.body as { error: { code: string } }).error.code, 'unauthenticated');
    assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${KS}"`);
  }
  assert.equal((await get(s.api.url, '/healthcheck')).status, 200);
});

test('real tokens: member and reader see their project, not the other; admin sees both; the list is scoped', async (t) => {
  const v = new KeystoneValidator(serviceSettings(env, 60_000));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  const member = (await issueToken(KS, USERS.member)).token;
  const reader = (await issueToken(KS, USERS.reader)).token;
  const admin = (await issueToken(KS, USERS.admin)).token;
  assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, member)).status, 200);
  assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, reader)).status, 200);
  const denied = await get(s.api.url, `/v1/projects/${OTHER}/charges`, member);
  assert.equal(denied.status, 403);
  assert.equal((denied.body as { error: { code: string } }).error.code, 'forbidden');
  assert.equal((await get(s.api.url, `/v1/projects/${OTHER}/charges`, reader)).status, 403);
  assert.equal((await get(s.api.url, `/v1/projects/${OTHER}/charges`, admin)).status, 200);
  const list = await get(s.api.url, '/v1/projects', member);
  assert.deepEqual((list.body as { projects: { project_id: string }[] }).projects.map((p) => p.project_id), [DEMO]);
});

test('validations are cached: repeated calls with one token reach Keystone once', async (t) => {
  const v = new KeystoneValidator(serviceSettings(env, 60_000));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  const member = (await issueToken(KS, USERS.member)).token;
  for (let i = 0; i < 5; i++) assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, member)).status, 200);
  assert.equal(v.stats.validations, 1);
  assert.equal(v.stats.cacheHits, 4);
  assert.equal(v.stats.serviceTokens, 1);
});

test('a revoked token is refused once the cache TTL has passed (at once with TTL 0)', async (t) => {
  let offset = 0;
  const cached = new KeystoneValidator(serviceSettings(env, 30_000), () => Date.now() + offset);
  const uncached = new KeystoneValidator(serviceSettings(env, 0));
  const a = await keystoneApi(cached, KS);
  const b = await keystoneApi(uncached, KS);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const token = (await issueToken(KS, USERS.member)).token;
  assert.equal((await get(a.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 200);
  assert.equal((await get(b.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 200);
  await revokeToken(KS, token);
  assert.equal((await get(b.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 401, 'uncached: refused at once');
  assert.equal((await get(a.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 200, 'cached: still accepted within the TTL');
  offset = 31_000;
  assert.equal((await get(a.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 401, 'cached: refused after the TTL');
});

test('an expired token is refused although its validation was cached with a long TTL', { timeout: 90_000 }, async (t) => {
  const shortUrl = env['KEYSTONE_SHORT_URL'];
  assert.ok(shortUrl, 'keystone.sh must run with KEYSTONE_SHORT_PORT (run.sh sets it)');
  const v = new KeystoneValidator(serviceSettings(env, 3_600_000));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  const { token, body } = await issueToken(shortUrl, USERS.member);
  const expires = Date.parse(body.token.expires_at);
  assert.ok(expires - Date.now() < 60_000, `a short-lived token (expires ${body.token.expires_at})`);
  assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, token)).status, 200);
  await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now()) + 1500));
  const r = await get(s.api.url, `/v1/projects/${DEMO}/charges`, token);
  assert.equal(r.status, 401);
  assert.equal(v.stats.validations, 2, 'the cache entry ended at the expiry, so Keystone was asked again');
});

test('the service token is renewed when Keystone refuses it', async (t) => {
  const v = new KeystoneValidator(serviceSettings(env, 0));
  const s = await keystoneApi(v, KS);
  t.after(() => s.close());
  const member = (await issueToken(KS, USERS.member)).token;
  assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, member)).status, 200);
  // Revoke the service token behind the validator's back: its next call gets 401 and must re-issue.
  const service = (v as unknown as { serviceToken: { token: string } }).serviceToken.token;
  await revokeToken(KS, service);
  assert.equal((await get(s.api.url, `/v1/projects/${DEMO}/charges`, member)).status, 200);
  assert.equal(v.stats.serviceTokens, 2);
});

test('the catalog lists the billing service (type billing) at the billing URL', async () => {
  const { body } = await issueToken(KS, USERS.member);
  const billing = body.token.catalog?.filter((s) => s.type === 'billing') ?? [];
  assert.equal(billing.length, 1);
  assert.deepEqual(billing[0]!.endpoints.map((e) => e.interface).sort(), ['admin', 'internal', 'public']);
  for (const e of billing[0]!.endpoints) assert.equal(e.url, env['BILLING_URL']);
});
