/**
 * Pure rating: usage quantities in, money out. No IO, no clock, no JS numbers for
 * money or quantities — every value is a decimal.js `Decimal` or its string form.
 *
 * Rounding rule (also reported by the API in `rounding`):
 * - a rated line (one resource, one flavor, one UTC day) is
 *   `seconds × unit price per hour / 3600`, rounded half-even to {@link LINE_DECIMALS} decimals;
 * - sums of lines (per resource, per day, per project) are exact sums of the rounded lines;
 * - a total shown as the amount owed is that exact sum rounded half-even to {@link TOTAL_DECIMALS} decimals.
 * Rounding each line once, before summing, makes the per-resource and per-day
 * breakdowns add up exactly to the same unrounded total.
 */
import { Decimal } from 'decimal.js';
import { ValidationError } from '@tally/common';
import type { PriceBasis } from './wire.js';

/** Our own Decimal: 40 significant digits, so no intermediate value is ever rounded by precision. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
export type Money = Decimal;

/** Decimals kept on each rated line. */
export const LINE_DECIMALS = 6;
/** Decimals of a total (the amount owed). */
export const TOTAL_DECIMALS = 4;
/** The rounding rule in words, for API consumers. */
export const ROUNDING = {
  line: `half-even to ${LINE_DECIMALS} decimals (seconds x price per hour / 3600)`,
  total: `exact sum of lines, half-even to ${TOTAL_DECIMALS} decimals`,
} as const;

/** The default pricing document: a price per hour for each flavor, and one per vCPU-hour for the rest. */
export interface FlavorPricingDocument {
  kind: 'flavor-hourly';
  /** Flavor name -> price per hour, as a decimal string. */
  flavors: Record<string, string>;
  /** Price per vCPU-hour for flavors not listed, as a decimal string. */
  fallbackPerVcpuHour: string;
}

/** A pricing policy as rating needs it (the DB row adds ids and timestamps). */
export interface PricingPolicy {
  name: string;
  version: number;
  /** ISO 4217 code, e.g. EUR. */
  currency: string;
  document: FlavorPricingDocument;
}

/** Usage of one resource under one flavor, summed over some span (one day for a line). */
export interface UsageQuantity {
  resourceId: string;
  flavorName: string | null;
  vcpus: number | null;
  /** Running seconds, as a decimal string (PostgreSQL numeric). */
  seconds: string;
}

export type { PriceBasis } from './wire.js';

/** The price per hour that applies to a resource. */
export interface UnitPrice {
  perHour: Money;
  basis: PriceBasis;
}

/** One rated line. */
export interface RatedLine {
  resourceId: string;
  flavorName: string | null;
  hours: Money;
  unitPrice: UnitPrice;
  /** Rounded to LINE_DECIMALS. */
  amount: Money;
}

const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** Parse a non-negative decimal string strictly (no exponent, no sign, no blanks). */
export function parseDecimal(field: string, text: unknown): Money {
  if (typeof text !== 'string' || !DECIMAL_RE.test(text)) {
    throw new ValidationError(field, `must be a non-negative decimal string, got ${JSON.stringify(text)}`);
  }
  return new Money(text);
}

/** Validate an untrusted pricing document (from the DB or, later, an API body). */
export function parsePricingDocument(raw: unknown): FlavorPricingDocument {
  if (typeof raw !== 'object' || raw === null) throw new ValidationError('document', 'must be an object');
  const doc = raw as Record<string, unknown>;
  if (doc['kind'] !== 'flavor-hourly') throw new ValidationError('document.kind', `unsupported kind ${JSON.stringify(doc['kind'])}`);
  const flavorsRaw = doc['flavors'];
  if (typeof flavorsRaw !== 'object' || flavorsRaw === null || Array.isArray(flavorsRaw)) {
    throw new ValidationError('document.flavors', 'must be an object of flavor name to price');
  }
  const flavors: Record<string, string> = {};
  for (const [name, price] of Object.entries(flavorsRaw)) {
    parseDecimal(`document.flavors.${name}`, price);
    flavors[name] = price as string;
  }
  parseDecimal('document.fallbackPerVcpuHour', doc['fallbackPerVcpuHour']);
  return { kind: 'flavor-hourly', flavors, fallbackPerVcpuHour: doc['fallbackPerVcpuHour'] as string };
}

/** The default policy seeded by the migration (EUR per hour). */
export const DEFAULT_POLICY: PricingPolicy = {
  name: 'default',
  version: 1,
  currency: 'EUR',
  document: {
    kind: 'flavor-hourly',
    flavors: {
      'm1.tiny': '0.0100',
      'm1.small': '0.0200',
      'm1.medium': '0.0400',
      'm1.large': '0.0800',
      'm1.xlarge': '0.1600',
    },
    fallbackPerVcpuHour: '0.0200',
  },
};

/** The price per hour for a flavor: its listed price, else vCPUs × the fallback. */
export function unitPrice(doc: FlavorPricingDocument, flavorName: string | null, vcpus: number | null): UnitPrice {
  const listed = flavorName === null ? undefined : Object.hasOwn(doc.flavors, flavorName) ? doc.flavors[flavorName] : undefined;
  if (listed !== undefined) return { perHour: new Money(listed), basis: 'flavor' };
  if (vcpus !== null && Number.isInteger(vcpus) && vcpus > 0) {
    return { perHour: new Money(doc.fallbackPerVcpuHour).times(vcpus), basis: 'vcpu' };
  }
  return { perHour: new Money(0), basis: 'unpriced' };
}

/** Rate one usage quantity: seconds × price per hour / 3600, rounded half-even to LINE_DECIMALS. */
export function rateLine(policy: PricingPolicy, usage: UsageQuantity): RatedLine {
  const seconds = parseDecimal('seconds', usage.seconds);
  const price = unitPrice(policy.document, usage.flavorName, usage.vcpus);
  // Multiply before dividing: the only inexact step is the final division, rounded once.
  const amount = seconds.times(price.perHour).div(3600).toDecimalPlaces(LINE_DECIMALS, Decimal.ROUND_HALF_EVEN);
  return { resourceId: usage.resourceId, flavorName: usage.flavorName, hours: seconds.div(3600), unitPrice: price, amount };
}

/** Exact sum of amounts. */
export function sum(values: Iterable<Money>): Money {
  let acc = new Money(0);
  for (const v of values) acc = acc.plus(v);
  return acc;
}

/** A total as the API shows it: half-even to TOTAL_DECIMALS, fixed notation. */
export function formatTotal(value: Money): string {
  return value.toFixed(TOTAL_DECIMALS, Decimal.ROUND_HALF_EVEN);
}

/** A line amount as the API shows it: LINE_DECIMALS, fixed notation (already rounded, so exact). */
export function formatLine(value: Money): string {
  return value.toFixed(LINE_DECIMALS, Decimal.ROUND_HALF_EVEN);
}

/** Hours for display: half-even to 6 decimals (hours are informative; amounts use exact seconds). */
export function formatHours(value: Money): string {
  return value.toFixed(6, Decimal.ROUND_HALF_EVEN);
}

/** A unit price for display, with at least 4 decimals. */
export function formatPrice(value: Money): string {
  return value.decimalPlaces() > 4 ? value.toFixed() : value.toFixed(4);
}
