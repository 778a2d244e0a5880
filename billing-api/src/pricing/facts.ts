/**
 * What rating reads, and how a usage record or an event becomes a fact set: the
 * documented fact names of keys.ts, filled from the record, the payer account, the
 * resource and its pool. OpenStack meters map to the seed's events here.
 */
import type { Decimal } from 'decimal.js';
import { ValidationError } from '@tally/common';
import { Money, parseDecimal } from '../rating.js';
import type { Facts } from './compile.js';

/**
 * One usage record. `@tally/analyzer`'s `UsageRecord` is assignable to it (this
 * workspace does not depend on the analyzer; the shape is the contract).
 */
export interface UsageInput {
  windowStart: Date;
  windowEnd: Date;
  resourceId: string;
  /** `instance` (running seconds) or another meter. */
  meter: string;
  /** `s` (running seconds), `GB` (a size held over the window) or any other unit (a count). */
  unit: string;
  /** Decimal string, never a JS number. */
  quantity: string;
  projectId: string | null;
  flavorName: string | null;
  vcpus: number | null;
  memoryMb: number | null;
}

/** A one-off event (seed 002's `EVENT = "ONE_OFF SERVICE 1"`). */
export interface OneOffEvent {
  at: Date;
  projectId: string;
  /** The EVENT fact, e.g. "ONE_OFF SERVICE 1". */
  event: string;
  resourceId?: string;
  resourceType?: string;
  /** Decimal string, default "1" (COST_PER_UNIT applies to it). */
  quantity?: string;
}

/** Facts of the payer account (a Keystone project). */
export interface AccountFacts {
  clientType?: string;
  serviceLevel?: string;
  domain?: string;
}

/** Facts of one resource. */
export interface ResourceFacts {
  /** When the resource was created (RESOURCE_AGE counts from here; else from its first rated usage). */
  createdAt?: Date;
  pool?: string;
  region?: string;
  /** Chosen by the tenant per resource (seed 001); default on-demand. */
  billingMode?: 'on-demand' | 'dynamic';
}

/** Free capacity of a pool from `at` on: a decimal string from 0 (full) to 1 (empty). */
export interface CapacitySample {
  at: Date;
  /** null: unknown from `at` on (e.g. the last Placement reading grew older than its bound); `note` says why. */
  free: string | null;
  note?: string;
}

/** Everything ratePeriod reads besides the policy. */
export interface RatingInput {
  usage: readonly UsageInput[];
  events?: readonly OneOffEvent[];
  /** By project id. */
  accounts?: Readonly<Record<string, AccountFacts>>;
  /** By resource id (any project). */
  resources?: Readonly<Record<string, ResourceFacts>>;
  /**
   * By project id, then resource id: what a project chose for a resource binds only that
   * project's usage of it. Takes precedence over `resources` for usage of that project.
   */
  projectResources?: Readonly<Record<string, Readonly<Record<string, ResourceFacts>>>>;
  /** By pool name, any order. */
  pools?: Readonly<Record<string, readonly CapacitySample[]>>;
  /** Projects to evaluate period rules for even without usage (e.g. a monthly fee). */
  projects?: readonly string[];
}

/** OpenStack meters as the seed's events; other meters keep their own name. */
export const METER_EVENTS: Readonly<Record<string, string>> = {
  instance: 'VM Assignment',
  'volume.size': 'Volume Assignment',
  'ip.floating': 'Floating IP Assignment',
};

/** The EVENT of period-level rules (monthly fees, discounts, minimum charges). */
export const PERIOD_EVENT = 'Billing Period';

const HOURS = Array.from({ length: 24 }, (_, h) => new Money(h));
const SMALL = new Map<number, Decimal>();
/** A Decimal of a small whole number (vCPUs, MB), shared: Decimals are immutable. */
function int(n: number): Decimal {
  let d = SMALL.get(n);
  if (!d) {
    d = new Money(n);
    if (SMALL.size < 4096) SMALL.set(n, d);
  }
  return d;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A quantity kept as numerator / divisor, so a price is applied as price x n / d with one division. */
export interface Basis {
  n: Decimal;
  d: Decimal;
}

/** Quantities a record offers to price against; null where unknown (e.g. CPU-hours without vCPUs). */
export interface Bases {
  seconds: Basis;
  hours: Basis;
  cpuHours: Basis | null;
  gbHours: Basis | null;
  units: Basis;
}

/** The value of a basis. */
export const basisValue = (b: Basis): Decimal => b.n.div(b.d);

/** The bases of one usage record. */
export function basesOf(u: UsageInput, quantity: Decimal): Bases {
  const one = new Money(1);
  const windowSeconds = new Money(u.windowEnd.getTime() - u.windowStart.getTime()).div(1000);
  const seconds = u.unit === 's' ? quantity : windowSeconds;
  const h = new Money(3600);
  const cpuHours = u.vcpus !== null && Number.isInteger(u.vcpus) && u.vcpus > 0 ? { n: seconds.times(u.vcpus), d: h } : null;
  let gbHours: Basis | null = null;
  if (u.unit === 'GB') gbHours = { n: quantity.times(windowSeconds), d: h };
  else if (u.unit === 's' && u.memoryMb !== null && Number.isInteger(u.memoryMb) && u.memoryMb > 0) gbHours = { n: seconds.times(u.memoryMb), d: h.times(1024) };
  return { seconds: { n: seconds, d: one }, hours: { n: seconds, d: h }, cpuHours, gbHours, units: { n: quantity, d: one } };
}

const validated = new WeakMap<readonly CapacitySample[], { t: number; free: Decimal | null; note: string | undefined }[]>();

/** Pool free capacity in force at a time: the latest sample at or before it (samples are validated once per array). */
export function freeAt(samples: readonly CapacitySample[] | undefined, at: Date, pool: string): Decimal | undefined {
  return capacityAt(samples, at, pool)?.free ?? undefined;
}

/** The sample in force at a time (free null: unknown then, with its note), or undefined before the first. */
export function capacityAt(samples: readonly CapacitySample[] | undefined, at: Date, pool: string): { free: Decimal | null; note: string | undefined } | undefined {
  if (!samples) return undefined;
  let sorted = validated.get(samples);
  if (!sorted) {
    sorted = samples.map((s, i) => {
      if (s.free === null) return { t: s.at.getTime(), free: null, note: s.note };
      const v = parseDecimal(`pools.${pool}[${i}].free`, s.free);
      if (v.gt(1)) throw new ValidationError(`pools.${pool}[${i}].free`, 'must be between 0 and 1');
      return { t: s.at.getTime(), free: v, note: s.note };
    }).sort((a, b) => a.t - b.t);
    validated.set(samples, sorted);
  }
  // Binary search for the last sample at or before `at`.
  let lo = 0;
  let hi = sorted.length;
  const t = at.getTime();
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : sorted[lo - 1]!;
}

/** The facts of a resource as seen from a project (see {@link RatingInput.projectResources}). */
export function resourceOf(input: RatingInput, projectId: string | null, resourceId: string): ResourceFacts | undefined {
  const own = projectId === null ? undefined : input.projectResources?.[projectId];
  if (own !== undefined && Object.hasOwn(own, resourceId)) return own[resourceId];
  // Own properties only: a resource id such as `__proto__` must not read the prototype.
  return input.resources !== undefined && Object.hasOwn(input.resources, resourceId) ? input.resources[resourceId] : undefined;
}

/** Facts common to usage records and events: account, time of day, resource. */
export function baseFacts(input: RatingInput, projectId: string | null, resourceId: string | undefined, at: Date): Facts {
  const f: Facts = Object.create(null) as Facts;
  if (projectId !== null) {
    f['PROJECT'] = projectId;
    const a = input.accounts?.[projectId];
    if (a?.clientType !== undefined) f['CLIENT_TYPE'] = a.clientType;
    if (a?.serviceLevel !== undefined) f['SERVICE_LEVEL'] = a.serviceLevel;
    if (a?.domain !== undefined) f['DOMAIN'] = a.domain;
  }
  f['HOUR_OF_DAY'] = HOURS[at.getUTCHours()]!;
  f['DAY_OF_WEEK'] = DAYS[at.getUTCDay()]!;
  if (resourceId !== undefined) {
    f['RESOURCE_ID'] = resourceId;
    const r = resourceOf(input, projectId, resourceId);
    f['BILLING_MODE'] = r?.billingMode ?? 'on-demand';
    if (r?.region !== undefined) f['REGION'] = r.region;
    if (r?.pool !== undefined) {
      f['POOL'] = r.pool;
      const c = capacityAt(input.pools?.[r.pool], at, r.pool);
      if (c?.free) f['POOL_FREE'] = c.free;
      // Not a vocabulary key: carried to the dynamic line's explanation (why on-demand applies).
      else if (c?.note !== undefined) f['POOL_FREE_UNKNOWN'] = c.note;
    }
  }
  return f;
}

/** The fact set of one usage record. `firstSeen` is the resource's earliest window start in the input. */
export function usageFacts(input: RatingInput, u: UsageInput, quantity: Decimal, firstSeen: Date): Facts {
  const f = baseFacts(input, u.projectId, u.resourceId, u.windowStart);
  f['EVENT'] = METER_EVENTS[u.meter] ?? u.meter;
  f['METER'] = u.meter;
  if (u.flavorName !== null) f['RESOURCE_TYPE'] = u.flavorName;
  f['QUANTITY'] = quantity;
  if (u.vcpus !== null) f['VCPUS'] = int(u.vcpus);
  if (u.memoryMb !== null) f['MEMORY_MB'] = int(u.memoryMb);
  const created = resourceOf(input, u.projectId, u.resourceId)?.createdAt ?? firstSeen;
  f['RESOURCE_AGE'] = new Money(u.windowEnd.getTime() - created.getTime()).div(1000);
  return f;
}

/** Facts as display strings, for explanations. */
export function showFacts(f: Facts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined) out[k] = typeof v === 'string' ? v : v.toFixed();
  return out;
}
