/**
 * A Keystone v3 session for a service user, the way keystoneauth does it: password
 * auth scoped to a project, the token (`X-Subject-Token`) renewed a minute before its
 * `expires_at`, endpoints found in the token's catalog by service type, interface and
 * region. Calls go through {@link KeystoneSession.request}, which re-authenticates once
 * when a service answers 401. No npm Keystone client is maintained (see the README), and
 * this needs only `fetch`.
 */
import { UnavailableError, TallyError } from './errors.js';

/** How the service user authenticates. */
export interface KeystoneAuth {
  /** e.g. http://127.0.0.1:5000/v3 */
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  /** Region of the endpoints; empty: the first one found. */
  regionName?: string;
  /** `public`, `internal` or `admin`. */
  interface?: string;
  timeoutMs?: number;
}

interface CatalogEntry { type: string; endpoints: { interface: string; region?: string; region_id?: string; url: string }[] }

/** A service the catalog does not list (or not for the interface and region). */
export class EndpointNotFoundError extends TallyError {
  constructor(type: string, iface: string, region: string) {
    super('endpoint_not_found', `no ${iface} endpoint of service type ${type}${region ? ` in region ${region}` : ''} in the Keystone catalog`);
  }
}

type Fetch = typeof fetch;

/** One service user's session; safe for concurrent use. */
export class KeystoneSession {
  private token: { id: string; expires: number; catalog: CatalogEntry[]; projectId: string } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly auth: KeystoneAuth, private readonly clock: () => number = Date.now, private readonly fetchFn: Fetch = fetch) {}

  private async authenticate(): Promise<string> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: this.auth.username, domain: { name: this.auth.userDomainName }, password: this.auth.password } } },
        scope: { project: { name: this.auth.projectName, domain: { name: this.auth.projectDomainName } } },
      },
    };
    let res: Response;
    try {
      res = await this.fetchFn(`${this.auth.authUrl.replace(/\/+$/, '')}/auth/tokens`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.auth.timeoutMs ?? 15_000),
      });
    } catch (err) {
      throw new UnavailableError('keystone', 'unreachable', err);
    }
    const text = await res.text();
    if (res.status !== 201) throw new UnavailableError('keystone', `user ${this.auth.username} could not authenticate (HTTP ${res.status})`);
    const id = res.headers.get('x-subject-token');
    const parsed = JSON.parse(text) as { token?: { expires_at?: string; catalog?: CatalogEntry[]; project?: { id?: string } } };
    const expires = Date.parse(parsed.token?.expires_at ?? '');
    if (!id || Number.isNaN(expires)) throw new UnavailableError('keystone', 'token response without X-Subject-Token or expires_at');
    this.token = { id, expires: expires - 60_000, catalog: parsed.token?.catalog ?? [], projectId: parsed.token?.project?.id ?? '' };
    return id;
  }

  /** A valid token (issued or renewed when needed; one issue in flight at a time). */
  async getToken(forceNew = false): Promise<string> {
    if (!forceNew && this.token && this.token.expires > this.clock()) return this.token.id;
    this.pending ??= this.authenticate().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The project the token is scoped to. */
  async projectId(): Promise<string> {
    await this.getToken();
    return this.token?.projectId ?? '';
  }

  /** The endpoint URL of a service type, from the catalog (no trailing slash). */
  async endpoint(type: string): Promise<string> {
    await this.getToken();
    const iface = this.auth.interface ?? 'public';
    const region = this.auth.regionName ?? '';
    const entry = this.token?.catalog.find((c) => c.type === type);
    const ep = entry?.endpoints.find((e) => e.interface === iface && (region === '' || e.region === region || e.region_id === region));
    if (!ep) throw new EndpointNotFoundError(type, iface, region);
    return ep.url.replace(/\/+$/, '');
  }

  /**
   * A call to a service: `path` is relative to its catalog endpoint, or an absolute URL.
   * The token is added; a 401 re-authenticates once. Network failures are UnavailableError.
   */
  async request(serviceType: string, path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
    const url = /^https?:\/\//.test(path) ? path : `${await this.endpoint(serviceType)}${path}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.getToken(attempt > 0);
      const headers = new Headers(init.headers);
      headers.set('x-auth-token', token);
      let res: Response;
      try {
        res = await this.fetchFn(url, { ...init, headers, signal: AbortSignal.timeout(init.timeoutMs ?? this.auth.timeoutMs ?? 30_000) });
      } catch (err) {
        throw new UnavailableError(serviceType, `unreachable at ${new URL(url).host}`, err);
      }
      if (res.status !== 401 || attempt > 0) return res;
      await res.body?.cancel();
    }
  }
}
