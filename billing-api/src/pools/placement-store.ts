/**
 * Pools fed by Placement, in PostgreSQL: which pools are (`pool_placement`: spec,
 * age bound, last success and error), each reading per resource class
 * (`pool_capacity_classes`), and the scarcest class's fraction in `pool_capacity`,
 * the series the dynamic mode already prices with.
 */
import type { Knex, Migration } from '@tally/common';
import type { CapacitySample } from '../pricing/index.js';
import { boundSeries } from './placement-bound.js';
import type { PoolCapacity } from './placement-capacity.js';
import type { PlacementPool } from './placement-spec.js';

/** The tables of Placement-fed pools (after the modes tables, which they reference). */
export const placementMigrations: Migration[] = [
  {
    name: '20261204030000_pool_placement',
    async up(knex) {
      await knex.raw(`
CREATE TABLE pool_placement (
  pool text PRIMARY KEY REFERENCES pools(name),
  spec text NOT NULL,
  max_age_s integer NOT NULL CHECK (max_age_s > 0),
  providers jsonb NOT NULL DEFAULT '[]'::jsonb,
  last_ok_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  failures integer NOT NULL DEFAULT 0,
  polled_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pool_capacity_classes (
  pool text NOT NULL,
  at timestamptz NOT NULL,
  resource_class text NOT NULL,
  providers integer NOT NULL,
  total numeric NOT NULL,
  reserved numeric NOT NULL,
  capacity numeric NOT NULL,
  used numeric NOT NULL,
  free numeric NOT NULL,
  free_fraction numeric(7,6) NOT NULL CHECK (free_fraction >= 0 AND free_fraction <= 1),
  PRIMARY KEY (pool, at, resource_class),
  FOREIGN KEY (pool, at) REFERENCES pool_capacity(pool, at) ON DELETE CASCADE
);`);
    },
    async down(knex) {
      await knex.raw('DROP TABLE pool_capacity_classes, pool_placement');
    },
  },
];

/** What `pool_placement` says about one pool. */
export interface PlacementStatusRow {
  pool: string;
  spec: string;
  max_age_s: number;
  providers: { uuid: string; name: string }[];
  last_ok_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  failures: number;
}

/**
 * Make `pools` the Placement-fed pools: create missing pools, store their specs
 * and bound; pools no longer listed go back to the admin feed. Call with the
 * poller's whole configuration (an empty one changes nothing).
 */
export async function registerPlacementPools(db: Knex, pools: readonly PlacementPool[], maxAgeS: number): Promise<void> {
  if (pools.length === 0) return;
  await db.transaction(async (trx) => {
    await trx('pools').insert(pools.map((p) => ({ name: p.name }))).onConflict('name').ignore();
    await trx('pool_placement').insert(pools.map((p) => ({ pool: p.name, spec: p.spec, max_age_s: maxAgeS })))
      .onConflict('pool').merge({ spec: trx.raw('excluded.spec'), max_age_s: trx.raw('excluded.max_age_s'), updated_at: trx.fn.now() });
    await trx('pool_placement').whereNotIn('pool', pools.map((p) => p.name)).delete();
  });
}

/**
 * Claim this interval's reading of `pool`: true for exactly one of several
 * replicas polling at once (the claim holds for half an interval).
 */
export async function claimPoll(db: Knex, pool: string, now: Date, intervalMs: number): Promise<boolean> {
  const n = await db('pool_placement').where({ pool })
    .where((q) => void q.whereNull('polled_at').orWhere('polled_at', '<=', new Date(now.getTime() - intervalMs / 2)))
    .update({ polled_at: now });
  return n === 1;
}

/** Store a reading taken at `at`: the scarcest fraction in `pool_capacity`, every class beside it, the success in `pool_placement`. */
export async function recordReading(db: Knex, pool: string, at: Date, reading: PoolCapacity, providers: readonly { uuid: string; name: string }[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('pool_capacity').insert({ pool, at, free: reading.free }).onConflict(['pool', 'at']).merge(['free']);
    await trx('pool_capacity_classes').where({ pool, at }).delete();
    await trx('pool_capacity_classes').insert(reading.classes.map((c) => ({
      pool, at, resource_class: c.resourceClass, providers: c.providers, total: c.total, reserved: c.reserved, capacity: c.capacity, used: c.used, free: c.free, free_fraction: c.freeFraction,
    })));
    await trx('pool_placement').where({ pool }).update({ last_ok_at: at, failures: 0, providers: JSON.stringify(providers), updated_at: trx.fn.now() });
  });
}

/** Record a failed reading; returns the pool's status after it. */
export async function recordFailure(db: Knex, pool: string, at: Date, message: string): Promise<PlacementStatusRow | undefined> {
  const [row] = (await db('pool_placement').where({ pool })
    .update({ last_error: message.slice(0, 2000), last_error_at: at, failures: db.raw('failures + 1'), updated_at: db.fn.now() })
    .returning(['pool', 'spec', 'max_age_s', 'providers', 'last_ok_at', 'last_error', 'last_error_at', 'failures'])) as PlacementStatusRow[];
  return row;
}

/** One class of a stored reading (decimal strings). */
export interface ClassRow {
  at: Date;
  resource_class: string;
  providers: number;
  capacity: string;
  used: string;
  free: string;
  free_fraction: string;
}

/** The classes of a pool's latest reading at or before `at`. */
export async function latestClasses(db: Knex, pool: string, at: Date): Promise<ClassRow[]> {
  const last = db('pool_capacity_classes').where({ pool }).where('at', '<=', at).max('at');
  return (await db('pool_capacity_classes').where({ pool }).where('at', last).orderBy('resource_class')
    .select('at', 'resource_class', 'providers', db.raw('capacity::text AS capacity'), db.raw('used::text AS used'), db.raw('free::text AS free'), db.raw('free_fraction::text AS free_fraction'))) as ClassRow[];
}

/**
 * The capacity series rating reads, with Placement's age bound applied: each
 * Placement-fed pool's series gets an unknown sample where a reading grew older
 * than its pool's `max_age_s` (see {@link boundSeries}). Admin-fed pools are unchanged.
 */
export async function applyPlacementBounds(db: Knex | Knex.Transaction, pools: Record<string, CapacitySample[]>): Promise<Record<string, CapacitySample[]>> {
  const names = Object.keys(pools);
  if (names.length === 0) return pools;
  const bounds = (await db('pool_placement').whereIn('pool', names).select('pool', 'max_age_s')) as { pool: string; max_age_s: number }[];
  for (const b of bounds) pools[b.pool] = boundSeries(b.pool, pools[b.pool] ?? [], b.max_age_s * 1000);
  return pools;
}

/** Whether `pool` is fed by Placement (its admin feed is then refused). */
export async function isPlacementPool(db: Knex | Knex.Transaction, pool: string): Promise<boolean> {
  return (await db('pool_placement').where({ pool }).first('pool')) !== undefined;
}
