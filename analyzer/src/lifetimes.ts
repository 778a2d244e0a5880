/**
 * Lifetimes in PostgreSQL: each window job folds the heartbeats it read into
 * `analyzer_lifetimes` (least first, greatest last: idempotent and order-free) and
 * marks dirty every window whose span the change reaches, so the span rows of
 * hours with no samples at all (every VM stopped, not deleted) follow.
 */
import type { Knex } from '@tally/common';
import { hoursCovering } from './layout.js';
import { foldLifetimes, type Lifetime } from './span.js';
import { LIFETIME_TABLE } from './usage.js';

interface Row {
  resource_id: string;
  project_id: string;
  first_us: string;
  last_us: string;
}

const fromRow = (r: Row): Lifetime => ({ resourceId: r.resource_id, projectId: r.project_id, firstUs: Number(r.first_us), lastUs: Number(r.last_us) });

/**
 * Code-point order (= the byte order of UTF-8, PostgreSQL's `COLLATE "C"`): UTF-16
 * units are shifted so that surrogates sort above the rest of the BMP.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    x += x >= 0xd800 && x <= 0xdfff ? 0x2000 : x >= 0xe000 ? -0x800 : 0;
    y += y >= 0xd800 && y <= 0xdfff ? 0x2000 : y >= 0xe000 ? -0x800 : 0;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Fold `beats` into the table; returns the start instants of the windows whose
 * span changed (those the lifetime grew into), for the caller to mark dirty.
 * Rows are locked and written in one global order (resource id, code points), so two
 * jobs extending the same VMs wait for each other instead of deadlocking.
 */
export async function updateLifetimes(db: Knex, beats: Iterable<{ resourceId: string; projectId: string | null; timestampUs: number }>): Promise<number[]> {
  const seen = [...foldLifetimes(new Map(), beats).values()].sort((a, b) => compareCodePoints(a.resourceId, b.resourceId));
  if (seen.length === 0) return [];
  const changed = new Set<number>();
  for (let i = 0; i < seen.length; i += 1000) {
    const chunk = seen.slice(i, i + 1000);
    // Lock the rows we change so two analyzers extending one VM serialise.
    const locked = (await db(LIFETIME_TABLE).whereIn('resource_id', chunk.map((l) => l.resourceId)).orderByRaw('resource_id COLLATE "C"').forUpdate()) as Row[];
    const old = new Map(locked.map((r) => [r.resource_id, fromRow(r)]));
    for (const l of chunk) {
      const o = old.get(l.resourceId);
      if (!o) for (const h of hoursCovering(l.firstUs, l.lastUs + 1)) changed.add(h);
      else {
        if (l.firstUs < o.firstUs) for (const h of hoursCovering(l.firstUs, o.firstUs + 1)) changed.add(h);
        if (l.lastUs > o.lastUs) for (const h of hoursCovering(o.lastUs, l.lastUs + 1)) changed.add(h);
      }
    }
    await db(LIFETIME_TABLE)
      .insert(chunk.map((l) => ({ resource_id: l.resourceId, project_id: l.projectId, first_us: String(l.firstUs), last_us: String(l.lastUs) })))
      .onConflict('resource_id')
      .merge({
        first_us: db.raw(`least(${LIFETIME_TABLE}.first_us, excluded.first_us)`),
        last_us: db.raw(`greatest(${LIFETIME_TABLE}.last_us, excluded.last_us)`),
        project_id: db.raw(`CASE WHEN excluded.last_us > ${LIFETIME_TABLE}.last_us OR (excluded.last_us = ${LIFETIME_TABLE}.last_us AND excluded.project_id > ${LIFETIME_TABLE}.project_id) THEN excluded.project_id ELSE ${LIFETIME_TABLE}.project_id END`),
      });
  }
  return [...changed].sort((a, b) => a - b);
}

/** Lifetimes overlapping [fromUs, toUs). */
export async function lifetimesOverlapping(db: Knex, fromUs: number, toUs: number): Promise<Lifetime[]> {
  const rows = (await db(LIFETIME_TABLE).where('first_us', '<', String(toUs)).andWhere('last_us', '>=', String(fromUs))) as Row[];
  return rows.map(fromRow);
}
