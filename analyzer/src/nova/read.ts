/**
 * Reading Nova's events back: per instance its events (for the timeline), and the
 * lives of Nova-known instances (for the project span), from `analyzer_nova_*`.
 */
import type { Knex } from '@tally/common';
import type { NovaAction, NovaFlavor } from './decode.js';
import { NOVA_EVENTS_TABLE, NOVA_INSTANCES_TABLE } from './schema.js';
import type { TimelineEvent } from './timeline.js';

/** One stored event, as the timeline reads it. */
export interface StoredEvent extends TimelineEvent {
  resourceId: string;
}

/** A row of analyzer_nova_instances (bigints as text). */
export interface InstanceRow {
  resource_id: string;
  project_id: string;
  created_us: string | null;
  started_us: string | null;
  first_event_us: string;
  deleted_us: string | null;
  marked_through_us: string;
}

export const num = (v: string | number | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
export const mapRow = (r: Record<string, string | number | null>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]));

/** Where the project span of a Nova-known instance starts: its create.end, else its first event or creation time. */
export function spanStart(r: { created_us: number | null; started_us: number | null; first_event_us: number }): number {
  return r.started_us ?? Math.min(r.first_event_us, r.created_us ?? Infinity);
}

/** The events of these instances before `untilUs`, per instance in time order. */
export async function eventsOf(db: Knex | Knex.Transaction, resourceIds: readonly string[], untilUs: number): Promise<Map<string, StoredEvent[]>> {
  const out = new Map<string, StoredEvent[]>();
  for (let i = 0; i < resourceIds.length; i += 1000) {
    const rows = (await db(NOVA_EVENTS_TABLE).whereIn('resource_id', resourceIds.slice(i, i + 1000) as string[]).where('at_us', '<', String(untilUs))
      .orderBy([{ column: 'resource_id' }, { column: 'at_us' }]).select('message_id', 'resource_id', 'action', 'format', 'at_us', 'flavor')) as
      { message_id: string; resource_id: string; action: NovaAction; format: 'versioned' | 'legacy'; at_us: string; flavor: NovaFlavor | null }[];
    for (const r of rows) {
      const list = out.get(r.resource_id) ?? [];
      list.push({ messageId: r.message_id, resourceId: r.resource_id, action: r.action, format: r.format, atUs: Number(r.at_us), flavor: r.flavor });
      out.set(r.resource_id, list);
    }
  }
  return out;
}

/** A Nova-known instance's life for the project span: [start, deleted) or open (deleted null). */
export interface NovaLife {
  resourceId: string;
  projectId: string;
  startUs: number;
  deletedUs: number | null;
  createdUs: number | null;
}

const life = (r: InstanceRow): NovaLife => ({
  resourceId: r.resource_id, projectId: r.project_id, createdUs: num(r.created_us), deletedUs: num(r.deleted_us),
  startUs: spanStart({ created_us: num(r.created_us), started_us: num(r.started_us), first_event_us: num(r.first_event_us)! }),
});

/** Nova-known instances alive at some instant of [fromUs, toUs), and those of `alsoIds` whatever their life. */
export async function novaLivesOverlapping(db: Knex | Knex.Transaction, fromUs: number, toUs: number, alsoIds: readonly string[] = []): Promise<NovaLife[]> {
  const rows = (await db(NOVA_INSTANCES_TABLE).where((w) => {
    void w.where((q) => void q.whereRaw('coalesce(started_us, least(first_event_us, coalesce(created_us, first_event_us))) < ?', [String(toUs)])
      .where((d) => void d.whereNull('deleted_us').orWhere('deleted_us', '>=', String(fromUs))));
    if (alsoIds.length > 0) void w.orWhereIn('resource_id', alsoIds as string[]);
  })) as InstanceRow[];
  return rows.map(life);
}

/** When each of these resources was created, as Nova said (for RESOURCE_AGE); resources Nova never told of are left out. */
export async function novaCreatedAt(db: Knex, resourceIds: readonly string[]): Promise<Map<string, Date>> {
  const rows = (await db(NOVA_INSTANCES_TABLE).whereIn('resource_id', resourceIds as string[]).whereNotNull('created_us').select('resource_id', 'created_us')) as { resource_id: string; created_us: string }[];
  return new Map(rows.map((r) => [r.resource_id, new Date(Math.floor(Number(r.created_us) / 1000))]));
}
