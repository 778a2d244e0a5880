/**
 * The scheduler's records: its members (what its driver manages, with their state), the
 * decision log (every action, and each change of what it holds for and why), and the audit
 * trail of its actions (who, why, when, result; append-only).
 */
import type { Knex } from '@tally/common';
import type { Decision } from './decide.js';
import { ACTIONS_TABLE, DECISIONS_TABLE, MEMBERS_TABLE } from './schema.js';

export type MemberRowState = 'creating' | 'running' | 'draining' | 'deleting' | 'deleted' | 'failed';

/** A managed member as stored. */
export interface MemberRecord {
  cluster: string;
  name: string;
  driver: string;
  ref: string | null;
  state: MemberRowState;
  action_id: string;
  created_at: Date;
  changed_at: Date;
  drain_requested_at: Date | null;
  details: Record<string, unknown>;
}

/** Members of a cluster that are not deleted or failed (or all, with `all`). */
export async function listMembers(db: Knex, cluster?: string, all = false): Promise<MemberRecord[]> {
  const q = db(MEMBERS_TABLE).orderBy([{ column: 'cluster' }, { column: 'created_at' }, { column: 'name' }]);
  if (cluster !== undefined) void q.where({ cluster });
  if (!all) void q.whereNotIn('state', ['deleted', 'failed']);
  return (await q) as MemberRecord[];
}

export async function insertMember(db: Knex, m: Omit<MemberRecord, 'changed_at' | 'drain_requested_at' | 'details'> & { details?: Record<string, unknown> }): Promise<void> {
  await db(MEMBERS_TABLE).insert({ ...m, changed_at: m.created_at, details: JSON.stringify(m.details ?? {}) });
}

export async function updateMember(db: Knex, cluster: string, name: string, patch: Partial<Pick<MemberRecord, 'ref' | 'state' | 'drain_requested_at'>> & { details?: Record<string, unknown> }, now: Date): Promise<void> {
  const { details, ...rest } = patch;
  await db(MEMBERS_TABLE).where({ cluster, name }).update({
    ...rest, changed_at: now, ...(details ? { details: db.raw(`details || ?::jsonb`, [JSON.stringify(details)]) } : {}),
  });
}

/** The highest number used in `<prefix>-<n>` names of a cluster (so names are never reused). */
export async function highestMemberNumber(db: Knex, cluster: string, prefix: string): Promise<number> {
  const rows = (await db(MEMBERS_TABLE).where({ cluster }).select('name')) as { name: string }[];
  let n = 0;
  for (const r of rows) {
    const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(r.name);
    if (m) n = Math.max(n, Number(m[1]));
  }
  return n;
}

/** One step of an action in the audit trail. */
export interface ActionStep {
  actionId: string;
  cluster: string;
  kind: 'scale_out' | 'scale_in' | 'create' | 'drain' | 'delete' | 'adopt' | 'forget';
  member?: string;
  step: 'started' | 'succeeded' | 'failed';
  actor: string;
  reason: string;
  details?: Record<string, unknown>;
}

export async function appendAction(db: Knex, s: ActionStep, now: Date): Promise<void> {
  await db(ACTIONS_TABLE).insert({
    at: now, action_id: s.actionId, cluster: s.cluster, kind: s.kind, member: s.member ?? null, step: s.step, actor: s.actor, reason: s.reason, details: JSON.stringify(s.details ?? {}),
  });
}

/** The last scaling action of a cluster (its start time and direction), for cooldowns. */
export async function lastScalingAction(db: Knex, cluster: string): Promise<{ direction: 'out' | 'in'; at: number; failed: boolean } | undefined> {
  const r = (await db(ACTIONS_TABLE).where({ cluster }).whereIn('kind', ['scale_out', 'scale_in']).where({ step: 'started' }).orderBy('id', 'desc').first('kind', 'at', 'action_id')) as { kind: string; at: Date; action_id: string } | undefined;
  if (!r) return undefined;
  const failed = await db(ACTIONS_TABLE).where({ action_id: r.action_id, kind: r.kind, step: 'failed' }).first('id');
  return { direction: r.kind === 'scale_out' ? 'out' : 'in', at: r.at.getTime(), failed: failed !== undefined };
}

/**
 * Log a decision: every action, and a hold only when its reason kind changed since the
 * last entry (a cluster holding "within thresholds" every 10 s adds one line, not thousands).
 */
export async function logDecision(db: Knex, cluster: string, d: Decision, policyLabel: string, now: Date, actionId?: string): Promise<boolean> {
  if (d.action === 'hold') {
    const last = (await db(DECISIONS_TABLE).where({ cluster }).orderBy('id', 'desc').first('action', 'blocked_by', 'reason')) as { action: string; blocked_by: string | null; reason: string } | undefined;
    const kind = (r: string) => r.replace(/[\d.,:TZ-]+/g, '#');
    if (last && last.action === 'hold' && (last.blocked_by ?? null) === (d.blockedBy ?? null) && kind(last.reason) === kind(d.reason)) return false;
  }
  await db(DECISIONS_TABLE).insert({
    cluster, at: now, action: d.action, count: d.count, from_size: d.fromSize, to_size: d.toSize, reason: d.reason, blocked_by: d.blockedBy ?? null, policy: policyLabel, action_id: actionId ?? null,
  });
  return true;
}
