/**
 * A Keystone session for the Placement poller: a password token scoped to a project
 * or to the system, kept until a minute before it expires and re-issued once when a
 * service answers 401; endpoints from the token's catalog unless overridden.
 */
import { TallyError, UnavailableError } from '@tally/common';

/** How the poller authenticates. `project` empty: a system-scoped token (`{"system": {"all": true}}`). */
export interface SessionSettings {
  keystoneUrl: string;
  user: string;
  password: string;
  userDomain: string;
  project: string;
  projectDomain: string;
  /** Catalog interface: public, internal or admin. */
  interface: string;
  /** Per-request timeout (ms). */
  timeoutMs: number;
}

interface CatalogEntry {
  type?: string;
  endpoints?: { interface?: string; url?: string; region?: string }[];
}

/** A call to an OpenStack service failed in a way worth an alert (unreachable, 5xx, refused). */
export class ServiceError extends TallyError {
  constructor(readonly service: string, message: string, readonly status?: number) {
    super('service_error', `${service}: ${message}`);
  }
}

type Fetch = typeof fetch;

/** One session per poller; safe for concurrent use. */
export class OpenStackSession {
  private current: { token: string; expires: number; catalog: CatalogEntry[] } | undefined;
  private pending: Promise<{ token: string; catalog: CatalogEntry[] }> | undefined;

  constructor(private readonly s: SessionSettings, private readonly clock: () => number = Date.now, private readonly fetchFn: Fetch = fetch) {}

  private async issue(): Promise<{ token: string; catalog: CatalogEntry[] }> {
    const scope = this.s.project === '' ? { system: { all: true } } : { project: { name: this.s.project, domain: { name: this.s.projectDomain } } };
    const body = { auth: { identity: { methods: ['password'], password: { user: { name: this.s.user, domain: { name: this.s.userDomain }, password: this.s.password } } }, scope } };
    let res: Response;
    try {
      res = await this.fetchFn(`${this.s.keystoneUrl.replace(/\/+$/, '')}/auth/tokens`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (e) {
      throw new UnavailableError('keystone', `unreachable: ${(e as Error).message}`, e);
    }
    const text = await res.text();
    if (res.status !== 201) throw new UnavailableError('keystone', `user ${this.s.user} could not authenticate (HTTP ${res.status})`);
    const parsed = JSON.parse(text) as { token?: { expires_at?: string; catalog?: CatalogEntry[] } };
    const token = res.headers.get('x-subject-token');
    const expires = Date.parse(parsed.token?.expires_at ?? '');
    if (!token || Number.isNaN(expires)) throw new UnavailableError('keystone', 'token response without X-Subject-Token or expires_at');
    this.current = { token, expires: expires - 60_000, catalog: parsed.token?.catalog ?? [] };
    return this.current;
  }

  private async session(forceNew: boolean): Promise<{ token: string; catalog: CatalogEntry[] }> {
    if (!forceNew && this.current && this.current.expires > this.clock()) return this.current;
    this.pending ??= this.issue().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The catalog URL of `serviceType` on the configured interface, or `override` when given. */
  async endpoint(serviceType: string, override: string): Promise<string> {
    if (override !== '') return override.replace(/\/+$/, '');
    const { catalog } = await this.session(false);
    const url = catalog.find((c) => c.type === serviceType)?.endpoints?.find((e) => e.interface === this.s.interface)?.url;
    if (!url) throw new ServiceError(serviceType, `no ${this.s.interface} endpoint of type ${serviceType} in the catalog`);
    return url.replace(/\/+$/, '');
  }

  /** GET `url` with the token and `headers`; the parsed JSON body. A 401 re-issues the token once. */
  async getJson<T>(service: string, url: string, headers: Record<string, string> = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { token } = await this.session(attempt > 0);
      let res: Response;
      try {
        res = await this.fetchFn(url, { headers: { 'x-auth-token': token, accept: 'application/json', ...headers }, signal: AbortSignal.timeout(this.s.timeoutMs) });
      } catch (e) {
        throw new ServiceError(service, `unreachable (${(e as Error).message})`);
      }
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        continue;
      }
      const text = await res.text();
      if (res.status !== 200) throw new ServiceError(service, `GET ${new URL(url).pathname}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new ServiceError(service, `GET ${new URL(url).pathname}: not JSON`);
      }
    }
  }
}
