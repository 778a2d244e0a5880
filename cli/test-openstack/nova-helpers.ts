/**
 * Helpers for tests against the real Nova that scripts/openstack/nova.sh started
 * (its nova.env, in TALLY_OS_NOVA_ENV): Keystone tokens (project- or
 * system-scoped) and a small Nova client that boots, acts on and deletes real
 * servers and waits for their states.
 */
import { readFileSync } from 'node:fs';

/** nova.env as a map; throws when the tier was not started by run.sh. */
export function novaEnv(): Record<string, string> {
  const file = process.env['TALLY_OS_NOVA_ENV'];
  if (!file) throw new Error('run through `npm run test:openstack`, which starts the real Nova (TALLY_OS_NOVA_ENV)');
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `NOVA_PROVIDERS` (`host=uuid,host=uuid`) as a map host -> resource provider uuid. */
export function providers(env: Record<string, string>): Map<string, string> {
  return new Map((env['NOVA_PROVIDERS'] ?? '').split(',').filter(Boolean).map((p) => p.split('=') as [string, string]));
}

/** Who a token is for: a user and a project, or the system scope. */
export type Scope = { user: string; password: string; project: string } | { user: string; password: string; system: true };

/** Issue a token; returns it and the user/project ids from Keystone's body. */
export async function token(keystoneUrl: string, who: Scope): Promise<{ token: string; userId: string; projectId: string | null }> {
  const scope = 'system' in who ? { system: { all: true } } : { project: { name: who.project, domain: { name: 'Default' } } };
  const res = await fetch(`${keystoneUrl}/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: who.user, domain: { name: 'Default' }, password: who.password } } }, scope } }),
  });
  if (res.status !== 201) throw new Error(`token for ${who.user}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: { user: { id: string }; project?: { id: string } } };
  return { token: res.headers.get('x-subject-token')!, userId: body.token.user.id, projectId: body.token.project?.id ?? null };
}

export interface Server {
  id: string;
  status: string;
  flavor: { original_name: string; vcpus: number; ram: number; disk: number };
  'OS-EXT-AZ:availability_zone'?: string;
  'OS-EXT-SRV-ATTR:host'?: string;
}

/** A Nova client for one token, at microversion 2.93 (the newest Zed serves). */
export class Nova {
  constructor(readonly url: string, private readonly tok: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'x-auth-token': this.tok, 'openstack-api-version': 'compute 2.93', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  /** Boot a server without networks; resolves with its id once Nova accepted it (202). */
  async boot(name: string, imageId: string, flavorId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.call('POST', '/servers', { server: { name, imageRef: imageId, flavorRef: flavorId, networks: 'none', ...extra } });
    if (r.status !== 202) throw new Error(`boot ${name}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    return (r.json as { server: { id: string } }).server.id;
  }

  /** The server, or null once it is gone (404). */
  async show(id: string): Promise<Server | null> {
    const r = await this.call('GET', `/servers/${id}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`show ${id}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    return (r.json as { server: Server }).server;
  }

  /** POST /servers/{id}/action with `body` (e.g. `{"os-stop": null}`); expects 202 or 204. */
  async action(id: string, body: Record<string, unknown>): Promise<void> {
    const r = await this.call('POST', `/servers/${id}/action`, body);
    if (r.status !== 202 && r.status !== 204) throw new Error(`${Object.keys(body).join()} on ${id}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  }

  async delete(id: string): Promise<void> {
    const r = await this.call('DELETE', `/servers/${id}`);
    if (r.status !== 204) throw new Error(`delete ${id}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  }

  /** Wait until the server has `status` (or is gone, for `GONE`); fails at once on ERROR. */
  async waitFor(id: string, status: string, ms = 120_000): Promise<Server | null> {
    const end = Date.now() + ms;
    let last: Server | null = null;
    while (Date.now() < end) {
      last = await this.show(id);
      if (last === null && status === 'GONE') return null;
      if (last?.status === status) return last;
      if (last?.status === 'ERROR') throw new Error(`server ${id} went to ERROR: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`server ${id} not ${status} after ${ms} ms (last: ${last?.status ?? 'gone'})`);
  }
}

/** GET a Placement path with a token at `microversion`; the parsed body (throws unless 200). */
export async function placementGet<T>(placementUrl: string, tok: string, path: string, microversion = '1.39'): Promise<T> {
  const res = await fetch(`${placementUrl}${path}`, { headers: { 'x-auth-token': tok, 'openstack-api-version': `placement ${microversion}` } });
  if (res.status !== 200) throw new Error(`placement ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
