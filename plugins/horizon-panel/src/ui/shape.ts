/**
 * Pure data shaping for the page: checking API responses (a malformed body is an
 * error, never a zero bill), the chart's series, and what to tell the user on errors.
 */
import { isDecimalString } from './format.js';
import type { ChargesContext, ProjectCharges, ProjectList } from './types.js';

/** An API call that failed: HTTP error, network failure, or a body we cannot trust. */
export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the API could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function fail(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function money(v: unknown, what: string): string {
  if (!isDecimalString(v)) fail(`${what} is not a decimal string`);
  return v;
}

function checkContext(b: Record<string, unknown>): void {
  const period = obj(b['period'], 'period');
  if (typeof period['start'] !== 'string' || typeof period['end'] !== 'string') fail('period');
  if (typeof b['currency'] !== 'string' || !/^[A-Z]{3}$/.test(b['currency'])) fail('currency');
}

/** Check a `/v1/projects` body; throws ApiError(bad_response) rather than guess. */
export function parseProjectList(body: unknown): ProjectList {
  const b = obj(body, 'body');
  checkContext(b);
  if (!Array.isArray(b['projects'])) fail('projects');
  for (const p of b['projects'] as unknown[]) {
    const o = obj(p, 'project');
    if (typeof o['project_id'] !== 'string') fail('project_id');
    money(o['total'], 'project total');
  }
  return b as unknown as ProjectList;
}

/** Check a `/v1/projects/:id/charges` body; throws ApiError(bad_response) rather than guess. */
export function parseProjectCharges(body: unknown): ProjectCharges {
  const b = obj(body, 'body');
  checkContext(b);
  money(b['total'], 'total');
  if (!Array.isArray(b['resources']) || !Array.isArray(b['daily'])) fail('resources or daily');
  for (const r of b['resources'] as unknown[]) {
    const o = obj(r, 'resource');
    money(o['amount'], 'resource amount');
    money(o['hours'], 'resource hours');
    money(o['unit_price'], 'unit price');
  }
  for (const d of b['daily'] as unknown[]) money(obj(d, 'day')['amount'], 'daily amount');
  if (!Array.isArray(b['unpriced_resources'])) fail('unpriced_resources');
  return b as unknown as ProjectCharges;
}

/** The chart's data. Numbers are for drawing only; labels and tooltips use the strings. */
export interface ChartSeries {
  labels: string[];
  values: number[];
  amounts: string[];
}

/** Daily amounts as a chart series, labelled by day of month (`11-02`). */
export function dailySeries(daily: ProjectCharges['daily']): ChartSeries {
  return {
    labels: daily.map((d) => d.date.slice(5)),
    values: daily.map((d) => Number(d.amount)),
    amounts: daily.map((d) => d.amount),
  };
}

/** Projects sorted for the table: highest total first, then by id. Compares decimal strings exactly. */
export function sortProjects(projects: ProjectList['projects']): ProjectList['projects'] {
  return [...projects].sort((a, b) => compareDecimal(b.total, a.total) || a.project_id.localeCompare(b.project_id));
}

/** Compare two non-negative decimal strings without floats: -1, 0 or 1. */
export function compareDecimal(a: string, b: string): number {
  const [ai = '0', af = ''] = a.split('.');
  const [bi = '0', bf = ''] = b.split('.');
  const an = ai.replace(/^0+(?=\d)/, '');
  const bn = bi.replace(/^0+(?=\d)/, '');
  if (an.length !== bn.length) return an.length < bn.length ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const x = an + af.padEnd(width, '0');
  const y = bn + bf.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

/** What the page says about an error: a title, the detail, and what to do. */
export interface ErrorNotice {
  title: string;
  detail: string;
  advice: string;
}

/** Turn any failure into a notice; the page shows it instead of any amount. */
export function explainError(err: unknown): ErrorNotice {
  const e = err instanceof ApiError ? err : new ApiError(0, 'unknown', err instanceof Error ? err.message : String(err));
  const ref = e.requestId ? ` Quote request id ${e.requestId} when you report it.` : '';
  if (e.status === 0) {
    return { title: 'The billing API cannot be reached', detail: e.message, advice: 'Check that billing-api is running and reachable from this browser, then wait: the page retries by itself.' };
  }
  // Codes of the Horizon proxy (tally_dashboard/api/billing.py): Horizon answered, billing-api did not.
  if (e.code === 'upstream_unreachable' || e.code === 'upstream_timeout') {
    return { title: 'Horizon cannot reach the billing API', detail: e.message, advice: `Tell the operator: billing-api must be running at the address in the service catalog. The page retries by itself.${ref}` };
  }
  if (e.code === 'not_in_catalog') {
    return { title: 'The billing service is not registered in this cloud', detail: e.message, advice: `Tell the operator: register billing-api in Keystone's service catalog.${ref}` };
  }
  if (e.code === 'bad_response') {
    return { title: 'The billing API answered with data the page cannot read', detail: e.message, advice: 'The UI and the API versions may not match: rebuild and restart both, then reload.' };
  }
  if (e.status === 400) {
    return { title: 'The request was rejected', detail: e.message, advice: `Fix ${e.field ? `"${e.field}"` : 'the request'} and try again.${ref}` };
  }
  if (e.status === 401 || e.status === 403) {
    return { title: 'Not allowed', detail: e.message, advice: `Log in again, or ask an administrator for access to this project.${ref}` };
  }
  if (e.status === 503) {
    return { title: 'Billing is temporarily unavailable', detail: e.message, advice: `The page retries by itself; if this lasts, tell the operator.${ref}` };
  }
  return { title: `The billing API failed (HTTP ${e.status})`, detail: e.message, advice: `The page retries by itself; if this lasts, tell the operator.${ref}` };
}

/** A short description of what a charges response covers. */
export function describeContext(c: ChargesContext): string {
  return `policy ${c.policy.name} v${c.policy.version}; totals ${c.rounding.total}`;
}
