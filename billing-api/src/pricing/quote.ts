/**
 * Quotes (seed 002): what a described set of resources would cost over a duration,
 * priced line by line by the same engine as bills, valid for a short time.
 */
import { randomUUID } from 'node:crypto';
import type { Decimal } from 'decimal.js';
import { ValidationError } from '@tally/common';
import { Money, parseDecimal } from '../rating.js';
import type { AccountFacts, CapacitySample, OneOffEvent, ResourceFacts, UsageInput } from './facts.js';
import { ratePeriod, type PolicySource, type PricedLine, type TokenRate } from './rate.js';

/** One thing to quote: `count` resources of a flavor (or another meter), or a one-off event. */
export interface QuoteItem {
  /** Flavor name (RESOURCE_TYPE). */
  resourceType?: string;
  vcpus?: number;
  memoryMb?: number;
  /** How many identical resources (default 1). */
  count?: number;
  billingMode?: 'on-demand' | 'dynamic';
  pool?: string;
  region?: string;
  /** Default `instance` (priced by running seconds). */
  meter?: string;
  /** For meters other than `instance`: the unit and the quantity per hour, e.g. `GB` and `"100"`. */
  unit?: string;
  quantity?: string;
  /** Age of the resource at the start, seconds (default 0: a new resource). */
  ageSeconds?: string;
  /** A one-off event instead of a resource, e.g. "ONE_OFF SERVICE 1". */
  event?: string;
}

/** What to quote. */
export interface QuoteRequest {
  projectId: string;
  items: readonly QuoteItem[];
  /** Duration in seconds, a decimal string with at most 3 decimals. */
  durationSeconds: string;
  /** When usage would start (default: now). */
  start?: Date;
  account?: AccountFacts;
  pools?: Readonly<Record<string, readonly CapacitySample[]>>;
}

/** A priced quote. */
export interface Quote {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  currency: string;
  start: Date;
  end: Date;
  lines: PricedLine[];
  total: Decimal;
  totalText: string;
}

/** Default validity of a quote: 15 minutes. */
export const QUOTE_VALID_SECONDS = 900;
const MAX_QUOTE_SECONDS = 366 * 86400;

/** Price a quote; `now` is injected (pure apart from the default random id). */
export function quote(source: PolicySource, req: QuoteRequest, opts: { now: Date; id?: string; validForSeconds?: number; rates?: readonly TokenRate[] }): Quote {
  const duration = parseDecimal('durationSeconds', req.durationSeconds);
  if (duration.isZero() || duration.gt(MAX_QUOTE_SECONDS) || duration.decimalPlaces() > 3) {
    throw new ValidationError('durationSeconds', `must be above 0, at most ${MAX_QUOTE_SECONDS} and have at most 3 decimals`);
  }
  const start = req.start ?? opts.now;
  const end = new Date(start.getTime() + duration.times(1000).toNumber());
  const usage: UsageInput[] = [];
  const events: OneOffEvent[] = [];
  const resources: Record<string, ResourceFacts> = {};
  req.items.forEach((item, i) => {
    const count = item.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new ValidationError(`items[${i}].count`, 'must be a whole number from 1 to 10000');
    for (let n = 0; n < count; n++) {
      if (item.event !== undefined) {
        events.push({ at: start, projectId: req.projectId, event: item.event, ...(item.resourceType === undefined ? {} : { resourceType: item.resourceType }) });
        continue;
      }
      const id = `quote-${i}-${n}`;
      const age = parseDecimal(`items[${i}].ageSeconds`, item.ageSeconds ?? '0');
      resources[id] = {
        createdAt: new Date(start.getTime() - age.times(1000).toNumber()), billingMode: item.billingMode ?? 'on-demand',
        ...(item.pool === undefined ? {} : { pool: item.pool }), ...(item.region === undefined ? {} : { region: item.region }),
      };
      const meter = item.meter ?? 'instance';
      const unit = meter === 'instance' ? 's' : (item.unit ?? 'unit');
      if (meter !== 'instance') parseDecimal(`items[${i}].quantity`, item.quantity);
      // Hourly windows, so day/night rules and capacity changes price each hour as a bill would.
      for (let t = new Money(0); t.lt(duration); t = t.plus(3600)) {
        const len = Money.min(3600, duration.minus(t));
        const ws = new Date(start.getTime() + t.times(1000).toNumber());
        usage.push({
          windowStart: ws, windowEnd: new Date(ws.getTime() + len.times(1000).toNumber()), resourceId: id, meter, unit,
          quantity: meter === 'instance' ? len.toFixed() : item.quantity!, projectId: req.projectId,
          flavorName: item.resourceType ?? null, vcpus: item.vcpus ?? null, memoryMb: item.memoryMb ?? null,
        });
      }
    }
  });
  const accounts = req.account ? { [req.projectId]: req.account } : {};
  const r = ratePeriod(source, { usage, events, resources, accounts, projects: [req.projectId], ...(req.pools ? { pools: req.pools } : {}) }, { start, end: end > start ? end : new Date(start.getTime() + 1) }, opts.rates ?? []);
  const valid = opts.validForSeconds ?? QUOTE_VALID_SECONDS;
  return { id: opts.id ?? randomUUID(), createdAt: opts.now, expiresAt: new Date(opts.now.getTime() + valid * 1000), currency: r.currency, start, end, lines: r.lines, total: r.total, totalText: r.totalText };
}
