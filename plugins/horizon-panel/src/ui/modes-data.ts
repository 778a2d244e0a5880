/**
 * Billing modes and pools as billing-api answers them (`/v1/projects/:id/billing-modes`,
 * `/v1/pools`), checked before use (a malformed body is an error, never a guess), and
 * the pools chart's series.
 */
import { isDecimalString } from './format.js';
import { ApiError } from './shape.js';
import type { BillingMode, PoolSample, PoolView, ResourceModeView } from './types.js';

/** The modes a tenant may choose. */
export const MODES: readonly BillingMode[] = ['on-demand', 'dynamic'];

/** What each mode means, for the page. */
export const MODE_HELP: Record<BillingMode, string> = {
  'on-demand': 'on-demand: the list price',
  dynamic: "dynamic: the list price × a factor (at most 1) that falls while the resource's pool has free capacity",
};

function fail(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not a list`);
  return v;
}

/** Check one resource's mode. */
export function parseResourceMode(v: unknown): ResourceModeView {
  const o = obj(v, 'resource');
  if (typeof o['resource_id'] !== 'string') fail('resource_id');
  if (!MODES.includes(o['mode'] as BillingMode)) fail('mode');
  if (o['pool'] !== null && typeof o['pool'] !== 'string') fail('pool');
  return o as unknown as ResourceModeView;
}

/** Check `GET /v1/projects/:id/billing-modes`. */
export function parseModes(body: unknown): ResourceModeView[] {
  return list(obj(body, 'body')['resources'], 'resources').map(parseResourceMode);
}

function sample(v: unknown): PoolSample {
  const o = obj(v, 'sample');
  if (typeof o['at'] !== 'string' || Number.isNaN(Date.parse(o['at']))) fail('sample at');
  if (!isDecimalString(o['free'])) fail('sample free');
  if (!isDecimalString(o['dynamic_factor'])) fail('sample dynamic_factor');
  return o as unknown as PoolSample;
}

/** Check `GET /v1/pools`. */
export function parsePools(body: unknown): PoolView[] {
  return list(obj(body, 'body')['pools'], 'pools').map((p) => {
    const o = obj(p, 'pool');
    if (typeof o['name'] !== 'string') fail('pool name');
    if (typeof o['resources'] !== 'number') fail('pool resources');
    list(o['series'], 'series').forEach(sample);
    if (o['latest'] !== null) sample(o['latest']);
    if (o['placement'] !== undefined) {
      const pl = obj(o['placement'], 'pool placement');
      if (typeof pl['spec'] !== 'string' || typeof pl['stale'] !== 'boolean' || typeof pl['max_age_seconds'] !== 'number' || typeof pl['failures'] !== 'number') fail('pool placement');
      if (pl['age_seconds'] !== null && typeof pl['age_seconds'] !== 'number') fail('pool placement age_seconds');
      if (pl['last_error'] !== null && typeof pl['last_error'] !== 'string') fail('pool placement last_error');
    }
    return o as unknown as PoolView;
  });
}

/** A pool's series for the chart: labels, and free capacity and factor in percent (exact strings kept for tooltips). */
export interface PoolChartSeries {
  labels: string[];
  free: number[];
  factor: number[];
  freeText: string[];
  factorText: string[];
}

/** `2026-11-05T12:00:00.000Z` -> `11-05 12:00` (UTC). */
export function shortTime(iso: string): string {
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** The chart series of one pool. Percentages are for drawing only; the strings are the API's. */
export function poolSeries(pool: PoolView): PoolChartSeries {
  const pct = (s: string) => Number(s) * 100;
  return {
    labels: pool.series.map((s) => shortTime(s.at)),
    free: pool.series.map((s) => pct(s.free)),
    factor: pool.series.map((s) => pct(s.dynamic_factor)),
    freeText: pool.series.map((s) => s.free),
    factorText: pool.series.map((s) => s.dynamic_factor),
  };
}

/** The body of `PUT .../billing-mode`: the pool only when one is chosen. */
export function modeRequest(mode: BillingMode, pool: string): { mode: BillingMode; pool?: string } {
  return pool === '' ? { mode } : { mode, pool };
}

/** Where a pool's capacity comes from, and how fresh it is, in words for the pools table. */
export function poolSource(pool: PoolView): string {
  const p = pool.placement;
  if (!p) return 'admin feed';
  if (p.age_seconds === null) return `Placement (${p.spec}): no reading yet${p.last_error ? `: ${p.last_error}` : ''}`;
  const age = p.age_seconds < 120 ? `${p.age_seconds} s` : `${Math.floor(p.age_seconds / 60)} min`;
  if (p.stale) return `Placement (${p.spec}): last read ${age} ago, older than ${p.max_age_seconds} s: dynamic lines pay the on-demand price${p.last_error ? ` (${p.last_error})` : ''}`;
  return `Placement (${p.spec}): read ${age} ago${p.failures > 0 ? `, ${p.failures} failed since` : ''}`;
}
