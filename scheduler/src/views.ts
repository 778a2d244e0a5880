/**
 * Read models for the API and the Horizon view: clusters with their policy in force,
 * members (managed and not) with their latest load, the latest observation and decision;
 * the decision log; the audit trail of actions.
 */
import type { Knex, NodeLoad } from '@tally/common';
import { clustersWithPolicies, livePolicy } from './policy/store.js';
import { listMembers } from './records.js';
import { listComponents } from './registry.js';
import { ACTIONS_TABLE, DECISIONS_TABLE, OBSERVATIONS_TABLE } from './schema.js';

/** One decision log line. */
export interface DecisionView {
  id: string;
  cluster: string;
  at: string;
  action: 'out' | 'in' | 'hold';
  count: number;
  from_size: number;
  to_size: number;
  reason: string;
  blocked_by: string | null;
  policy: string;
  action_id: string | null;
  /** Members added or removed by this decision's action. */
  members: string[];
}

/** One audit-trail step. */
export interface ActionView {
  id: string;
  at: string;
  action_id: string;
  cluster: string;
  kind: string;
  member: string | null;
  step: 'started' | 'succeeded' | 'failed';
  actor: string;
  reason: string;
  details: Record<string, unknown>;
}

export interface ClusterMemberView {
  name: string;
  /** Managed members: creating, running, draining, deleting; parts not created by the scheduler: their registry state. */
  state: string;
  managed: boolean;
  driver: string | null;
  ref: string | null;
  node: string | null;
  registered: boolean;
  last_heartbeat_at: string | null;
  load: NodeLoad | null;
  metrics: Record<string, number>;
  since: string;
}

export interface ClusterView {
  cluster: string;
  policy: { label: string; version: number; source: string; min_size: number; max_size: number };
  size: number;
  members: ClusterMemberView[];
  observation: { at: string; metrics: Record<string, number> } | null;
  last_decision: DecisionView | null;
}

interface DecisionRow { id: string | number; cluster: string; at: Date; action: 'out' | 'in' | 'hold'; count: number; from_size: number; to_size: number; reason: string; blocked_by: string | null; policy: string; action_id: string | null }

/** The decision log, newest first; each action's members are listed. */
export async function listDecisions(db: Knex, filter: { cluster?: string; limit?: number; actionsOnly?: boolean } = {}): Promise<DecisionView[]> {
  const q = db(DECISIONS_TABLE).orderBy('id', 'desc').limit(filter.limit ?? 100);
  if (filter.cluster) void q.where({ cluster: filter.cluster });
  if (filter.actionsOnly) void q.whereNot({ action: 'hold' });
  const rows = (await q) as DecisionRow[];
  const ids = rows.map((r) => r.action_id).filter((x): x is string => x !== null);
  const steps = ids.length ? ((await db(ACTIONS_TABLE).whereIn('action_id', ids).whereIn('kind', ['create', 'drain']).where({ step: 'started' }).select('action_id', 'member')) as { action_id: string; member: string }[]) : [];
  return rows.map((r) => ({
    ...r, id: String(r.id), at: r.at.toISOString(), members: steps.filter((s) => s.action_id === r.action_id).map((s) => s.member),
  }));
}

/** The audit trail of the scheduler's actions, newest first. */
export async function listActions(db: Knex, filter: { cluster?: string; limit?: number } = {}): Promise<ActionView[]> {
  const q = db(ACTIONS_TABLE).orderBy('id', 'desc').limit(filter.limit ?? 200);
  if (filter.cluster) void q.where({ cluster: filter.cluster });
  const rows = (await q) as (Omit<ActionView, 'id' | 'at'> & { id: string | number; at: Date })[];
  return rows.map((r) => ({ ...r, id: String(r.id), at: r.at.toISOString() }));
}

/** Every scaled or registered analyzer cluster, with members and load. */
export async function listClusters(db: Knex, clusters: readonly string[]): Promise<ClusterView[]> {
  const comps = await listComponents(db, { role: 'analyzer' });
  const managed = (await listMembers(db)).map((m) => m.cluster);
  const names = [...new Set([...clusters, ...comps.map((c) => c.cluster), ...managed, ...(await clustersWithPolicies(db))])].sort();
  const out: ClusterView[] = [];
  for (const cluster of names) {
    const live = await livePolicy(db, cluster);
    const members = await listMembers(db, cluster);
    const byId = new Map(comps.filter((c) => c.cluster === cluster).map((c) => [c.id, c]));
    const views: ClusterMemberView[] = members.map((m) => {
      const c = byId.get(m.name);
      return {
        name: m.name, state: m.state, managed: true, driver: m.driver, ref: m.ref, node: c?.node ?? null, registered: c !== undefined,
        last_heartbeat_at: c?.last_heartbeat_at ?? null, load: c?.load ?? null, metrics: c?.metrics ?? {}, since: m.created_at.toISOString(),
      };
    });
    for (const c of byId.values()) {
      if (members.some((m) => m.name === c.id) || c.state === 'stopped') continue;
      views.push({ name: c.id, state: c.state, managed: false, driver: null, ref: null, node: c.node, registered: true, last_heartbeat_at: c.last_heartbeat_at, load: c.load, metrics: c.metrics, since: c.started_at });
    }
    const obs = (await db(OBSERVATIONS_TABLE).where({ cluster }).orderBy('at', 'desc').first()) as { at: Date; metrics: Record<string, number> } | undefined;
    const last = (await listDecisions(db, { cluster, limit: 1 }))[0] ?? null;
    out.push({
      cluster, policy: { label: live.label, version: live.version, source: live.source, min_size: live.policy.minSize, max_size: live.policy.maxSize },
      size: views.filter((v) => v.state === 'running' || v.state === 'creating').length, members: views,
      observation: obs ? { at: obs.at.toISOString(), metrics: obs.metrics } : null, last_decision: last,
    });
  }
  return out;
}
