/** How `GET /v1/pools` shows a Placement-fed pool: its spec, the age of its last reading, and the reading per class. */
import type { Knex } from '@tally/common';
import { Money } from '../rating.js';
import type { PoolPlacementView } from '../wire.js';
import { latestClasses } from './placement-store.js';

/** The pool's Placement view at `now`, or undefined for an admin-fed pool. */
export async function placementView(db: Knex, pool: string, now: Date): Promise<PoolPlacementView | undefined> {
  const row = (await db('pool_placement').where({ pool }).first()) as
    | { spec: string; max_age_s: number; providers: { uuid: string; name: string }[]; last_ok_at: Date | null; last_error: string | null; last_error_at: Date | null; failures: number }
    | undefined;
  if (!row) return undefined;
  const age = row.last_ok_at === null ? null : Math.max(0, Math.floor((now.getTime() - row.last_ok_at.getTime()) / 1000));
  const classes = await latestClasses(db, pool, now);
  const norm = (s: string) => new Money(s).toFixed();
  return {
    spec: row.spec,
    providers: row.providers,
    last_ok_at: row.last_ok_at?.toISOString() ?? null,
    age_seconds: age,
    max_age_seconds: row.max_age_s,
    // The bound of placement-bound.ts: a reading prices instants less than max_age after it.
    stale: age === null || age >= row.max_age_s,
    last_error: row.last_error,
    last_error_at: row.last_error_at?.toISOString() ?? null,
    failures: row.failures,
    classes: classes.map((c) => ({ resource_class: c.resource_class, providers: c.providers, capacity: norm(c.capacity), used: norm(c.used), free: norm(c.free), free_fraction: norm(c.free_fraction) })),
  };
}
