/**
 * Storing Nova's instance events: every event once (keyed by the notification's
 * message_id, with the body as received), its instance's created / started /
 * deleted instants, and the windows it changes marked dirty.
 */
import type { Knex } from '@tally/common';
import { hoursCovering } from '../layout.js';
import { markDirty } from '../windows.js';
import type { NovaEvent } from './decode.js';
import { mapRow, num, spanStart, type InstanceRow } from './read.js';
import { NOVA_EVENTS_TABLE, NOVA_INSTANCES_TABLE } from './schema.js';

/**
 * Store one event (with the body as received) unless its message_id is already
 * stored, update its instance, and mark dirty the windows it changes: those within T
 * of it (running time), and for a delete or an earlier start the hours whose span it
 * changes. Returns false for a duplicate. Run it in a transaction.
 */
export async function storeEvent(trx: Knex.Transaction, e: NovaEvent, body: string, thresholdUs: number): Promise<boolean> {
  const inserted = (await trx(NOVA_EVENTS_TABLE).insert({
    message_id: e.messageId, resource_id: e.instanceId, project_id: e.projectId, user_id: e.userId, action: e.action, format: e.format, event_type: e.eventType,
    at_us: String(e.atUs), created_us: e.createdUs === null ? null : String(e.createdUs), flavor: e.flavor === null ? null : JSON.stringify(e.flavor),
    display_name: e.displayName, host: e.host, body,
  }).onConflict('message_id').ignore().returning('message_id')) as unknown[];
  if (inserted.length === 0) return false;
  const before = (await trx(NOVA_INSTANCES_TABLE).where({ resource_id: e.instanceId }).forUpdate().first()) as InstanceRow | undefined;
  const started = e.action === 'create' ? e.atUs : null;
  const deleted = e.action === 'delete' ? e.atUs : null;
  const min = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
  const row = {
    resource_id: e.instanceId, project_id: e.projectId,
    created_us: min(num(before?.created_us), e.createdUs), started_us: min(num(before?.started_us), started),
    first_event_us: min(num(before?.first_event_us), e.atUs)!, deleted_us: min(num(before?.deleted_us), deleted),
    marked_through_us: Math.max(num(before?.marked_through_us) ?? e.atUs, e.atUs),
  };
  await trx(NOVA_INSTANCES_TABLE).insert(mapRow(row)).onConflict('resource_id').merge();
  const marks = hoursCovering(e.atUs - thresholdUs, e.atUs + thresholdUs);
  const oldFirst = before ? Math.min(num(before.first_event_us)!, num(before.started_us) ?? Infinity) : e.atUs;
  const newFirst = spanStart(row);
  if (newFirst < oldFirst) marks.push(...hoursCovering(newFirst, oldFirst + 1));
  // A delete ends a span that was computed as open up to marked_through.
  if (deleted !== null && (num(before?.deleted_us) ?? Infinity) > deleted) marks.push(...hoursCovering(deleted, Math.max(row.marked_through_us, deleted) + 1));
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

