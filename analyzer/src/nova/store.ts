/**
 * Storing Nova's instance events: every event once (keyed by the notification's
 * message_id, with the body as received), its instance's created / started /
 * deleted instants, and the windows it changes marked dirty.
 */
import type { Knex } from '@tally/common';
import { hoursCovering } from '../layout.js';
import { markDirty } from '../dirty.js';
import type { NovaEvent } from './decode.js';
import { eventsOf, mapRow, num, spanStart, type InstanceRow } from './read.js';
import { effectiveEvents } from './timeline.js';
import { NOVA_EVENTS_TABLE, NOVA_INSTANCES_TABLE } from './schema.js';

/** The first key of the analyzer's per-instance advisory locks (the second is the id's hash). */
const NOVA_LOCK_SPACE = 0x4e4f5641; // "NOVA"

/**
 * Store one event (with the body as received) unless its message_id is already
 * stored, update its instance from its effective events (a legacy twin never moves
 * a versioned instant), and mark dirty the windows it changes: those within T of it
 * (running time), and the hours whose span moved (an earlier start, a delete).
 * Returns false for a duplicate. Run it in a transaction.
 */
export async function storeEvent(trx: Knex.Transaction, e: NovaEvent, body: string, thresholdUs: number): Promise<boolean> {
  // One instance's events are stored one at a time (deliveries are handled concurrently),
  // so each sees the others committed when it recomputes the instance's instants.
  await trx.raw('SELECT pg_advisory_xact_lock(?, hashtext(?))', [NOVA_LOCK_SPACE, e.instanceId]);
  const inserted = (await trx(NOVA_EVENTS_TABLE).insert({
    message_id: e.messageId, resource_id: e.instanceId, project_id: e.projectId, user_id: e.userId, action: e.action, format: e.format, event_type: e.eventType,
    at_us: String(e.atUs), created_us: e.createdUs === null ? null : String(e.createdUs), flavor: e.flavor === null ? null : JSON.stringify(e.flavor),
    display_name: e.displayName, host: e.host, body,
  }).onConflict('message_id').ignore().returning('message_id')) as unknown[];
  if (inserted.length === 0) return false;
  const before = (await trx(NOVA_INSTANCES_TABLE).where({ resource_id: e.instanceId }).forUpdate().first()) as InstanceRow | undefined;
  const effective = effectiveEvents((await eventsOf(trx, [e.instanceId], Number.MAX_SAFE_INTEGER)).get(e.instanceId) ?? []);
  const created = [num(before?.created_us), e.createdUs].filter((x): x is number => x !== null);
  const row = {
    resource_id: e.instanceId, project_id: e.projectId,
    created_us: created.length === 0 ? null : Math.min(...created),
    started_us: effective.find((x) => x.action === 'create')?.atUs ?? null,
    first_event_us: effective[0]?.atUs ?? e.atUs,
    deleted_us: effective.find((x) => x.action === 'delete')?.atUs ?? null,
    marked_through_us: Math.max(num(before?.marked_through_us) ?? e.atUs, e.atUs),
  };
  await trx(NOVA_INSTANCES_TABLE).insert(mapRow(row)).onConflict('resource_id').merge();
  const marks = hoursCovering(e.atUs - thresholdUs, e.atUs + thresholdUs);
  const newStart = spanStart(row);
  const oldStart = before ? spanStart({ created_us: num(before.created_us), started_us: num(before.started_us), first_event_us: num(before.first_event_us)! }) : e.atUs;
  if (newStart !== oldStart) marks.push(...hoursCovering(Math.min(newStart, oldStart), Math.max(newStart, oldStart) + 1));
  // A delete ends a span that was computed as open up to marked_through (or moves an earlier delete).
  const oldDeleted = num(before?.deleted_us);
  if (row.deleted_us !== oldDeleted) {
    const from = Math.min(row.deleted_us ?? Infinity, oldDeleted ?? Infinity);
    marks.push(...hoursCovering(from, Math.max(row.marked_through_us, row.deleted_us ?? 0, oldDeleted ?? 0) + 1));
  }
  await markDirty(trx, marks);
  return true;
}

/**
 * Mark dirty the hours up to `nowUs` of instances Nova still has (not deleted), from
 * where they were last marked: a VM shut off for good sends no heartbeats, so only
 * this keeps its project's span rows coming. Returns the hours marked.
 */
export async function markOpenSpans(db: Knex, nowUs: number): Promise<number> {
  return db.transaction(async (trx) => {
    const rows = (await trx(NOVA_INSTANCES_TABLE).whereNull('deleted_us').where('marked_through_us', '<', String(nowUs))
      .forUpdate().skipLocked().select('resource_id', 'marked_through_us')) as { resource_id: string; marked_through_us: string }[];
    if (rows.length === 0) return 0;
    const hours = new Set<number>();
    for (const r of rows) for (const h of hoursCovering(Number(r.marked_through_us), nowUs + 1)) hours.add(h);
    await trx(NOVA_INSTANCES_TABLE).whereIn('resource_id', rows.map((r) => r.resource_id)).update({ marked_through_us: String(nowUs) });
    await markDirty(trx, hours);
    return hours.size;
  });
}

