/**
 * Keystone v3 token validation with the service's own token, as
 * keystonemiddleware does: `GET /v3/auth/tokens?nocatalog` with the service
 * token in `X-Auth-Token` and the caller's in `X-Subject-Token`. 404 means the
 * caller's token is invalid, expired or revoked; a 401 means our service token
 * expired, so it is re-issued once. Validations are cached until the token
 * expires or for `cacheTtlMs`, whichever is sooner.
 */
import { createHash } from 'node:crypto';
import { TallyError, UnavailableError } from '@tally/common';
import type { Credentials } from './rules.js';

/** How billing-api authenticates itself to Keystone. */
export interface KeystoneSettings {
  /** e.g. http://127.0.0.1:5000/v3 */
  url: string;
  user: string;
  password: string;
  project: string;
  userDomain: string;
  projectDomain: string;
  /** Longest time a validation is reused (revocations take at most this long to be noticed). */
  cacheTtlMs: number;
  /** Most validations kept (oldest dropped first). */
  cacheSize?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
}

/** The caller's token is missing, invalid, expired or revoked: 401. */
export class UnauthenticatedError extends TallyError {
  constructor(message: string) {
    super('unauthenticated', message);
  }
}

interface TokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string };
    roles?: { name?: string }[];
  };
}

interface Cached {
  creds: Credentials;
  until: number;
}

type Fetch = typeof fetch;

/** Validates user tokens against Keystone. One per process; safe for concurrent use. */
export class KeystoneValidator {
  private serviceToken: { token: string; expires: number } | undefined;
  private serviceTokenPending: Promise<string> | undefined;
  private readonly cache = new Map<string, Cached>();
  private readonly base: string;
  /** Calls made to Keystone (validations and service-token issues), for metrics and tests. */
  readonly stats = { validations: 0, cacheHits: 0, serviceTokens: 0 };

  constructor(private readonly s: KeystoneSettings, private readonly clock: () => number = Date.now, private readonly fetchFn: Fetch = fetch) {
    this.base = s.url.replace(/\/+$/, '');
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchFn(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.s.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new UnavailableError('keystone', 'unreachable', err);
    }
  }

  private async issueServiceToken(): Promise<string> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: this.s.user, domain: { name: this.s.userDomain }, password: this.s.password } } },
        scope: { project: { name: this.s.project, domain: { name: this.s.projectDomain } } },
      },
    };
    const res = await this.call('/auth/tokens?nocatalog', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    this.stats.serviceTokens++;
    if (res.status !== 201) {
      // Our own credentials are wrong: an operator problem, reported as unavailable (never the caller's fault).
      throw new UnavailableError('keystone', `service user ${this.s.user} could not authenticate (HTTP ${res.status})`);
    }
    const token = res.headers.get('x-subject-token');
    const parsed = JSON.parse(text) as TokenBody;
    const expires = Date.parse(parsed.token?.expires_at ?? '');
    if (!token || Number.isNaN(expires)) throw new UnavailableError('keystone', 'token response without X-Subject-Token or expires_at');
    // Renew a minute early so a validation never goes out with a token about to expire.
    this.serviceToken = { token, expires: expires - 60_000 };
    return token;
  }

  private async getServiceToken(forceNew: boolean): Promise<string> {
    if (!forceNew && this.serviceToken && this.serviceToken.expires > this.clock()) return this.serviceToken.token;
    // One issue in flight at a time, however many requests need it.
    this.serviceTokenPending ??= this.issueServiceToken().finally(() => {
      this.serviceTokenPending = undefined;
    });
    return this.serviceTokenPending;
  }

  /** Validate `token`: the caller's credentials, or {@link UnauthenticatedError}. */
  async validate(token: string): Promise<Credentials> {
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) {
      this.stats.cacheHits++;
      return hit.creds;
    }
    if (hit) this.cache.delete(key);
    let res: Response | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const service = await this.getServiceToken(attempt > 0);
      res = await this.call('/auth/tokens?nocatalog', { method: 'GET', headers: { 'x-auth-token': service, 'x-subject-token': token } });
      this.stats.validations++;
      if (res.status !== 401) break;
      await res.body?.cancel();
    }
    if (!res) throw new UnavailableError('keystone', 'no response');
    if (res.status === 404) {
      await res.body?.cancel();
      throw new UnauthenticatedError('the token is invalid, expired or revoked');
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new UnavailableError('keystone', `token validation failed (HTTP ${res.status})`);
    }
    const body = (await res.json()) as TokenBody;
    const t = body.token;
    const expires = Date.parse(t?.expires_at ?? '');
    if (!t?.user?.id || Number.isNaN(expires)) throw new UnavailableError('keystone', 'validation response without user or expires_at');
    if (expires <= this.clock()) throw new UnauthenticatedError('the token has expired');
    const creds: Credentials = {
      user_id: t.user.id,
      user_name: t.user.name ?? t.user.id,
      project_id: t.project?.id ?? null,
      project_name: t.project?.name ?? null,
      roles: (t.roles ?? []).map((r) => r.name ?? '').filter((r) => r !== ''),
      authenticated: 'True',
    };
    this.remember(key, { creds, until: Math.min(expires, this.clock() + this.s.cacheTtlMs) });
    return creds;
  }

  private remember(key: string, entry: Cached): void {
    const max = this.s.cacheSize ?? 50_000;
    if (this.cache.size >= max) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, entry);
  }

  /** Forget every cached validation (e.g. after a policy reload in tests). */
  clearCache(): void {
    this.cache.clear();
  }
}
