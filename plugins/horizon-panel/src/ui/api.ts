/**
 * The browser's client of the billing API. Every failure becomes an ApiError;
 * a response that does not parse is an error too.
 */
import { ApiError, parseProjectCharges, parseProjectList } from './shape.js';
import type { ErrorBody, ProjectCharges, ProjectList } from './types.js';

/**
 * Headers of every call. Horizon's REST views (`rest_utils.ajax`) answer 400
 * without `X-Requested-With`, and Django wants the CSRF cookie echoed on writes;
 * billing-api itself ignores both, so one client serves both base URLs.
 */
export function requestHeaders(cookie: string = typeof document === 'undefined' ? '' : document.cookie): Record<string, string> {
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  const csrf = /(?:^|;\s*)csrftoken=([^;]+)/.exec(cookie)?.[1];
  if (csrf) headers['X-CSRFToken'] = decodeURIComponent(csrf);
  return headers;
}

/** Calls the billing API under `base` (`''` when the UI is served by billing-api itself). */
export class BillingClient {
  constructor(private readonly base: string, private readonly fetchFn: typeof fetch = fetch.bind(globalThis)) {}

  /** Every project with its month-to-date total. */
  async projects(): Promise<ProjectList> {
    return parseProjectList(await this.get('/v1/projects'));
  }

  /** One project's month-to-date charges. */
  async charges(projectId: string): Promise<ProjectCharges> {
    return parseProjectCharges(await this.get(`/v1/projects/${encodeURIComponent(projectId)}/charges`));
  }

  /** Any call; `body` is sent as JSON. Resolves with the parsed JSON body (undefined for 204). */
  async request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    return this.call(method, path, body);
  }

  /** A non-JSON answer (an invoice's CSV) as text; errors still become ApiErrors. */
  async text(path: string): Promise<string> {
    let res: Response;
    try {
      res = await this.fetchFn(this.base + path, { headers: { ...requestHeaders(), Accept: 'text/csv, application/json' }, credentials: 'same-origin' });
    } catch (e) {
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    }
    const body = await res.text();
    if (!res.ok) {
      let err: Partial<ErrorBody['error']> | undefined;
      try { err = (JSON.parse(body) as Partial<ErrorBody>).error; } catch { err = undefined; }
      throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`, err?.request_id ?? res.headers.get('X-Request-Id') ?? undefined, err?.field);
    }
    return body;
  }

  private get(path: string): Promise<unknown> {
    return this.call('GET', path, undefined);
  }

  private async call(method: string, path: string, payload: unknown): Promise<unknown> {
    let res: Response;
    const headers = requestHeaders();
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    try {
      res = await this.fetchFn(this.base + path, {
        method, headers, credentials: 'same-origin', ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
      });
    } catch (e) {
      throw new ApiError(0, 'network', e instanceof Error ? e.message : String(e));
    }
    const requestId = res.headers.get('X-Request-Id') ?? undefined;
    if (res.status === 204) return undefined;
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ApiError(res.status, res.ok ? 'bad_response' : 'http_error', `HTTP ${res.status}: the body is not JSON`, requestId);
    }
    if (!res.ok) {
      const err = (body as Partial<ErrorBody>)?.error;
      throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`, err?.request_id ?? requestId, err?.field);
    }
    return body;
  }
}
