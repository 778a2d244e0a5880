/**
 * Free capacity of a pool from Placement's inventories and usages, pure and exact.
 *
 * Per resource provider and class, Placement allocates up to
 * `capacity = floor((total − reserved) × allocation_ratio)` (the figure its own
 * allocation check uses); `free = max(0, capacity − used)`. A pool sums its
 * providers per class, and its free fraction per class is free / capacity. The
 * series the dynamic mode prices with is the scarcest class's fraction (the
 * minimum), rounded down to 6 decimals: a pool is never shown emptier than it is.
 */
import { Decimal } from 'decimal.js';
import { ValidationError } from '@tally/common';
import { Money } from '../rating.js';

/** The classes read by default (Nova's standard compute classes). */
export const DEFAULT_CLASSES = ['VCPU', 'MEMORY_MB', 'DISK_GB'] as const;

/** One class of one provider's inventory, as Placement returns it. */
export interface InventoryRecord {
  total: number;
  reserved: number;
  allocation_ratio: number;
}

/** What Placement said about one provider. */
export interface ProviderReading {
  uuid: string;
  name: string;
  inventories: Readonly<Record<string, InventoryRecord>>;
  usages: Readonly<Record<string, number>>;
}

/** One class of a pool: sums over its providers (decimal strings). */
export interface ClassCapacity {
  resourceClass: string;
  /** Providers that have this class in their inventory. */
  providers: number;
  total: string;
  reserved: string;
  capacity: string;
  used: string;
  free: string;
  /** free / capacity, exact to 6 decimals (rounded down); "0" when the capacity is 0. */
  freeFraction: string;
}

/** A pool's reading: its classes and the scarcest class's fraction. */
export interface PoolCapacity {
  classes: ClassCapacity[];
  /** The minimum of the classes' free fractions: the value stored in `pool_capacity.free`. */
  free: string;
  /** The class that set `free`. */
  scarcest: string;
}

/**
 * A number from Placement's JSON as an exact decimal. Placement stores allocation
 * ratios as floats and prints them with Python's repr, which is the shortest text of
 * that double, as JS's String(n) is: the two agree, so String(n) is the text sent.
 */
function exact(n: unknown, field: string, integer: boolean): Decimal {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ValidationError(field, `must be a non-negative number, got ${JSON.stringify(n)}`);
  if (integer && !Number.isSafeInteger(n)) throw new ValidationError(field, `must be an integer below 2^53, got ${String(n)}`);
  return new Money(String(n));
}

/** Capacity, use and free amount of one class of one provider. */
export function providerClass(inv: InventoryRecord, used: number | undefined, where: string): { total: Decimal; reserved: Decimal; capacity: Decimal; used: Decimal; free: Decimal } {
  const total = exact(inv.total, `${where}.total`, true);
  const reserved = exact(inv.reserved, `${where}.reserved`, true);
  const ratio = exact(inv.allocation_ratio, `${where}.allocation_ratio`, false);
  const u = exact(used ?? 0, `${where}.used`, true);
  const capacity = Money.max(0, total.minus(reserved)).times(ratio).floor();
  return { total, reserved, capacity, used: u, free: Money.max(0, capacity.minus(u)) };
}

/**
 * The pool's capacity per class from its providers' readings. Throws
 * ValidationError when no provider has any of `classes` (nothing to price by).
 */
export function poolCapacity(readings: readonly ProviderReading[], classes: readonly string[] = DEFAULT_CLASSES): PoolCapacity {
  const out: ClassCapacity[] = [];
  for (const rc of classes) {
    const sum = { n: 0, total: new Money(0), reserved: new Money(0), capacity: new Money(0), used: new Money(0), free: new Money(0) };
    for (const r of readings) {
      const inv = r.inventories[rc];
      if (!inv) continue;
      const c = providerClass(inv, r.usages[rc], `providers[${r.uuid}].${rc}`);
      sum.n++;
      sum.total = sum.total.plus(c.total);
      sum.reserved = sum.reserved.plus(c.reserved);
      sum.capacity = sum.capacity.plus(c.capacity);
      sum.used = sum.used.plus(c.used);
      sum.free = sum.free.plus(c.free);
    }
    if (sum.n === 0) continue;
    const fraction = sum.capacity.isZero() ? new Money(0) : sum.free.div(sum.capacity).toDecimalPlaces(6, Decimal.ROUND_DOWN);
    out.push({
      resourceClass: rc, providers: sum.n, total: sum.total.toFixed(), reserved: sum.reserved.toFixed(), capacity: sum.capacity.toFixed(),
      used: sum.used.toFixed(), free: sum.free.toFixed(), freeFraction: fraction.toFixed(),
    });
  }
  if (out.length === 0) throw new ValidationError('providers', `no provider of the pool has any of ${classes.join(', ')} in its inventory`);
  let scarcest = out[0]!;
  for (const c of out) if (new Money(c.freeFraction).lt(scarcest.freeFraction)) scarcest = c;
  return { classes: out, free: scarcest.freeFraction, scarcest: scarcest.resourceClass };
}
