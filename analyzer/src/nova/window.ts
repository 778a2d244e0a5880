/**
 * Nova's events in the window job: the instance rows of every instance Nova told of
 * are recomputed with its timeline (overlay.ts), and the project span uses Nova's
 * lives: from the instance's start to its delete, open while Nova has it, so a VM
 * shut off for good keeps its project billed until it is deleted (seed 000).
 */
import type { Knex } from '@tally/common';
import { compareUsage, INSTANCE_METERS, lowerBound, map, type InstanceRecord, type Window } from '../mapreduce.js';
import type { Lifetime } from '../span.js';
import { LIFETIME_TABLE, type UsageRecord } from '../usage.js';
import { novaInstanceRows } from './overlay.js';
import { eventsOf, novaLivesOverlapping, type NovaLife, type StoredEvent } from './read.js';
import { timeline, type Transition } from './timeline.js';

const INSTANCE = new Set<string>(Object.values(INSTANCE_METERS));

/** An instance's timeline with its instants in whole milliseconds (row windows are timestamps). */
export function msTimeline(events: readonly StoredEvent[]): Transition[] {
  return timeline(events.map((e) => ({ ...e, atUs: Math.floor(e.atUs / 1000) * 1000 })));
}

/** Pure: `rows` with the instance rows of the instances in `timelines` recomputed; `records` as read for the window. */
export function overlayRows(rows: readonly UsageRecord[], records: readonly InstanceRecord[], timelines: ReadonlyMap<string, Transition[]>, window: Window, thresholdUs: number): UsageRecord[] {
  if (timelines.size === 0) return [...rows];
  const out = rows.filter((r) => !(INSTANCE.has(r.meter) && timelines.has(r.resourceId)));
  for (const [id, g] of map(records.filter((r) => timelines.has(r.resourceId)))) {
    const recs = g.records.slice(lowerBound(g.records, window.startUs - thresholdUs), lowerBound(g.records, window.endUs + thresholdUs));
    out.push(...novaInstanceRows(id, recs, timelines.get(id)!, window, thresholdUs));
  }
  return out.sort(compareUsage);
}

/** Read the timelines of the window's instances and apply them (see {@link overlayRows}). */
export async function novaWindowRows(db: Knex | Knex.Transaction, rows: readonly UsageRecord[], records: readonly InstanceRecord[], window: Window, thresholdUs: number): Promise<UsageRecord[]> {
  const ids = [...new Set(records.map((r) => r.resourceId))];
  if (ids.length === 0) return [...rows];
  const events = await eventsOf(db, ids, window.endUs + thresholdUs);
  const timelines = new Map([...events].map(([id, evs]) => [id, msTimeline(evs)]));
  return overlayRows(rows, records, timelines, window, thresholdUs);
}

/**
 * Pure: the lifetimes for the span. A Nova-known instance lives from the earlier of
 * its Nova start and its first heartbeat until its delete, or for ever while not
 * deleted; heartbeats after a delete do not extend it. Others keep their heartbeats' life.
 */
export function mergeLifetimes(heartbeats: readonly Lifetime[], lives: readonly NovaLife[]): Lifetime[] {
  const nova = new Map(lives.map((l) => [l.resourceId, l]));
  const out = new Map<string, Lifetime>();
  for (const h of heartbeats) if (!nova.has(h.resourceId)) out.set(h.resourceId, h);
  const hb = new Map(heartbeats.map((h) => [h.resourceId, h]));
  for (const l of lives) {
    const h = hb.get(l.resourceId);
    const first = Math.min(l.startUs, h?.firstUs ?? Infinity);
    out.set(l.resourceId, { resourceId: l.resourceId, projectId: l.projectId, firstUs: first, lastUs: l.deletedUs ?? Number.MAX_SAFE_INTEGER });
  }
  return [...out.values()];
}

/** The window's lifetimes with Nova's lives merged in (`heartbeats`: those overlapping it, as lifetimesOverlapping gives). */
export async function novaLifetimes(db: Knex | Knex.Transaction, heartbeats: readonly Lifetime[], window: Window): Promise<Lifetime[]> {
  const lives = await novaLivesOverlapping(db, window.startUs, window.endUs, heartbeats.map((h) => h.resourceId));
  if (lives.length === 0) return [...heartbeats];
  // Heartbeat lives of Nova-known instances that ended before the window still give the earliest start.
  const missing = lives.filter((l) => !heartbeats.some((h) => h.resourceId === l.resourceId)).map((l) => l.resourceId);
  const more = missing.length === 0 ? [] : ((await db(LIFETIME_TABLE).whereIn('resource_id', missing)) as { resource_id: string; project_id: string; first_us: string; last_us: string }[])
    .map((r) => ({ resourceId: r.resource_id, projectId: r.project_id, firstUs: Number(r.first_us), lastUs: Number(r.last_us) }));
  return mergeLifetimes([...heartbeats, ...more], lives).filter((l) => l.lastUs >= window.startUs && l.firstUs < window.endUs);
}
