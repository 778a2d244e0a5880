/**
 * The component registry in PostgreSQL: each heartbeat registers its part (or updates
 * the registration when its cluster, node, version or endpoints changed), refreshes it,
 * and appends its load to a short series. A part whose heartbeat stops is marked `lost`
 * by {@link sweepLost} and alerted; it is never deleted, so it cannot be forgotten. A part
 * that deregisters (`stopped`) is kept too, for the record.
 */
import type { ComponentHeartbeat, Knex, NodeLoad } from '@tally/common';
import { COMPONENTS_TABLE, LOAD_TABLE } from './schema.js';

/** A registered part as stored and shown (`GET /v1/components`). Times are ISO 8601. */
export interface ComponentView {
  id: string;
  role: string;
  cluster: string;
  node: string;
  version: string;
  endpoints: Record<string, string>;
  state: 'running' | 'draining' | 'stopped' | 'lost';
  started_at: string;
  registered_at: string;
  changed_at: string;
  last_heartbeat_at: string;
  heartbeats: string;
  lost_at: string | null;
  load: NodeLoad | null;
  metrics: Record<string, number>;
}

interface Row extends Omit<ComponentView, 'started_at' | 'registered_at' | 'changed_at' | 'last_heartbeat_at' | 'lost_at' | 'heartbeats'> {
  started_at: Date;
  registered_at: Date;
  changed_at: Date;
  last_heartbeat_at: Date;
  lost_at: Date | null;
  heartbeats: string | number;
}

const toView = (r: Row): ComponentView => ({
  ...r, started_at: r.started_at.toISOString(), registered_at: r.registered_at.toISOString(), changed_at: r.changed_at.toISOString(),
  last_heartbeat_at: r.last_heartbeat_at.toISOString(), lost_at: r.lost_at ? r.lost_at.toISOString() : null, heartbeats: String(r.heartbeats),
});

/** What a heartbeat changed. */
export interface HeartbeatResult {
  /** First heartbeat of this id. */
  registered: boolean;
  /** It had been marked lost and is back. */
  recovered: boolean;
  /** An older heartbeat than the last one recorded (a late delivery): ignored. One with the same time is applied (a part's last beats can share a millisecond). */
  stale: boolean;
}

/** Record one heartbeat (upsert, then the load sample). */
export async function recordHeartbeat(db: Knex, h: ComponentHeartbeat): Promise<HeartbeatResult> {
  const at = new Date(h.at);
  const endpoints = JSON.stringify(h.endpoints);
  const load = h.load === null ? null : JSON.stringify(h.load);
  const metrics = JSON.stringify(h.metrics);
  const r = await db.raw<{ rows: { registered: boolean; was_lost: boolean | null; stale: boolean }[] }>(
    `WITH prev AS (SELECT state, last_heartbeat_at FROM ${COMPONENTS_TABLE} WHERE id = ?),
     up AS (
       INSERT INTO ${COMPONENTS_TABLE} AS c (id, role, cluster, node, version, endpoints, state, started_at, registered_at, changed_at, last_heartbeat_at, load, metrics)
       VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb)
       ON CONFLICT (id) DO UPDATE SET
         changed_at = CASE WHEN (c.role, c.cluster, c.node, c.version, c.endpoints, c.started_at) IS DISTINCT FROM
                                (EXCLUDED.role, EXCLUDED.cluster, EXCLUDED.node, EXCLUDED.version, EXCLUDED.endpoints, EXCLUDED.started_at)
                           THEN EXCLUDED.last_heartbeat_at ELSE c.changed_at END,
         role = EXCLUDED.role, cluster = EXCLUDED.cluster, node = EXCLUDED.node, version = EXCLUDED.version, endpoints = EXCLUDED.endpoints,
         state = EXCLUDED.state, started_at = EXCLUDED.started_at, last_heartbeat_at = EXCLUDED.last_heartbeat_at, heartbeats = c.heartbeats + 1,
         lost_at = NULL, load = EXCLUDED.load, metrics = EXCLUDED.metrics
       WHERE c.last_heartbeat_at <= EXCLUDED.last_heartbeat_at
       RETURNING 1)
     SELECT (SELECT count(*) FROM prev) = 0 AS registered, (SELECT state = 'lost' FROM prev) AS was_lost, (SELECT count(*) FROM up) = 0 AS stale`,
    [h.id, h.id, h.role, h.cluster, h.node, h.version, endpoints, h.state, new Date(h.startedAt), at, at, at, load, metrics],
  );
  const row = r.rows[0]!;
  if (!row.stale) {
    await db(LOAD_TABLE).insert({ component_id: h.id, at, load, metrics }).onConflict(['component_id', 'at']).ignore();
  }
  return { registered: row.registered, recovered: row.was_lost === true && !row.stale, stale: row.stale };
}

/** Registered parts, by cluster then id. */
export async function listComponents(db: Knex, filter: { role?: string; cluster?: string; state?: string } = {}): Promise<ComponentView[]> {
  const q = db(COMPONENTS_TABLE).orderBy([{ column: 'cluster' }, { column: 'id' }]);
  if (filter.role) void q.where({ role: filter.role });
  if (filter.cluster) void q.where({ cluster: filter.cluster });
  if (filter.state) void q.where({ state: filter.state });
  return ((await q) as Row[]).map(toView);
}

/** Mark every running or draining part silent for `lostAfterMs` as lost; returns those newly lost. */
export async function sweepLost(db: Knex, now: Date, lostAfterMs: number): Promise<ComponentView[]> {
  const rows = (await db(COMPONENTS_TABLE).whereIn('state', ['running', 'draining']).where('last_heartbeat_at', '<', new Date(now.getTime() - lostAfterMs))
    .update({ state: 'lost', lost_at: now }).returning('*')) as Row[];
  return rows.map(toView);
}

/** Forget load samples older than `before` (the series is short by design). */
export async function pruneLoad(db: Knex, before: Date): Promise<number> {
  return db(LOAD_TABLE).where('at', '<', before).delete();
}

/** One part's load series, oldest first. */
export async function loadSeries(db: Knex, componentId: string, since: Date): Promise<{ at: string; load: NodeLoad | null; metrics: Record<string, number> }[]> {
  const rows = (await db(LOAD_TABLE).where({ component_id: componentId }).where('at', '>=', since).orderBy('at')) as { at: Date; load: NodeLoad | null; metrics: Record<string, number> }[];
  return rows.map((r) => ({ at: r.at.toISOString(), load: r.load, metrics: r.metrics }));
}
