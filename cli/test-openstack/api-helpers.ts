/**
 * Helpers for the billing API's OpenStack-tier tests: the Keystone that
 * scripts/openstack/keystone.sh started (its keystone.env), issuing and
 * revoking real tokens, and a billing API on a fresh database.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, migrate, openDatabase, createLogger, type Knex } from '@tally/common';
import { analyzerMigrations } from '@tally/analyzer';
import { schedulerMigrations } from '@tally/scheduler';
import { billingMigrations, startApi, KeystoneValidator, AccessPolicy, type RunningApi, type KeystoneSettings } from '@tally/billing-api';
import { ADMIN_DB_URL } from '../test/helpers.js';

/** keystone.env as a map; throws when the tier was not started by run.sh. */
export function keystoneEnv(): Record<string, string> {
  const file = process.env['TALLY_OS_KEYSTONE_ENV'];
  if (!file) throw new Error('run through `npm run test:openstack`, which starts the real Keystone (TALLY_OS_KEYSTONE_ENV)');
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The test users: name, password, project (all in domain Default). */
export const USERS = {
  admin: { user: 'admin', password: 'admin-pass', project: 'admin' },
  member: { user: 'demo-member', password: 'demo-pass', project: 'demo' },
  reader: { user: 'demo-reader', password: 'reader-pass', project: 'demo' },
  otherMember: { user: 'other-member', password: 'other-pass', project: 'other' },
  billing: { user: 'billing', password: 'billing-pass', project: 'service' },
} as const;

/** Issue a project-scoped token; returns the token and Keystone's token body. */
export async function issueToken(url: string, who: { user: string; password: string; project: string }):
  Promise<{ token: string; body: { token: { expires_at: string; catalog?: { type: string; endpoints: { interface: string; url: string }[] }[] } } }> {
  const res = await fetch(`${url}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: {
      identity: { methods: ['password'], password: { user: { name: who.user, domain: { name: 'Default' }, password: who.password } } },
      scope: { project: { name: who.project, domain: { name: 'Default' } } },
    } }),
  });
  if (res.status !== 201) throw new Error(`token for ${who.user}: HTTP ${res.status} ${await res.text()}`);
  return { token: res.headers.get('x-subject-token')!, body: await res.json() as never };
}

/** Revoke `token` (the user revokes their own token). */
export async function revokeToken(url: string, token: string): Promise<void> {
  const res = await fetch(`${url}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': token, 'x-subject-token': token } });
  if (res.status !== 204) throw new Error(`revoke: HTTP ${res.status}`);
}

/** Validator settings for the billing service user. */
export function serviceSettings(env: Record<string, string>, cacheTtlMs: number): KeystoneSettings {
  return { url: env['KEYSTONE_URL']!, user: 'billing', password: 'billing-pass', project: 'service', userDomain: 'Default', projectDomain: 'Default', cacheTtlMs };
}

/** A billing API with Keystone auth on a fresh database (every migration applied). */
export async function keystoneApi(validator: KeystoneValidator, keystoneUrl: string, policy = new AccessPolicy()):
  Promise<{ api: RunningApi; db: Knex; close(): Promise<void> }> {
  const name = `tally_os_api_${process.pid}_${randomBytes(4).toString('hex')}`;
  const db = openDatabase(await createDatabase(ADMIN_DB_URL, name), 4);
  await migrate(db, [...analyzerMigrations, ...schedulerMigrations, ...billingMigrations]);
  const log = createLogger('api-os-test', { level: 'error' });
  const api = await startApi({ db, log, auth: 'keystone', keystone: validator, keystoneUrl, policy }, { host: '127.0.0.1', port: 0 });
  return {
    api,
    db,
    async close() {
      await api.close();
      await db.destroy();
      await dropDatabase(ADMIN_DB_URL, name);
    },
  };
}

/** GET `path` with an optional token: status and parsed JSON body. */
export async function get(base: string, path: string, token?: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: token === undefined ? {} : { 'x-auth-token': token } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body, headers: res.headers };
}
