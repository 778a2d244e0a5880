/**
 * The audit trail: who changed what, the state before and after, and the
 * request id, written in the same database transaction as the change.
 */
import type { Knex } from '@tally/common';
import type { Credentials } from './auth/rules.js';

/** Who acts, and under which request id. */
export interface Actor {
  creds: Credentials;
  requestId: string;
}

/** Record one change. `before`/`after` are JSON-serialisable snapshots (null for create/delete). */
export async function audit(trx: Knex | Knex.Transaction, actor: Actor, action: string, targetType: string, targetId: string, before: unknown, after: unknown): Promise<void> {
  await trx('audit_events').insert({
    request_id: actor.requestId,
    user_id: actor.creds.user_id,
    project_id: actor.creds.project_id,
    action,
    target_type: targetType,
    target_id: targetId,
    before: before === null || before === undefined ? null : JSON.stringify(before),
    after: after === null || after === undefined ? null : JSON.stringify(after),
  });
}

/** Audit events, newest first, optionally for one target. */
export async function auditEvents(db: Knex, filter: { targetType?: string; targetId?: string; limit: number }): Promise<unknown[]> {
  const q = db('audit_events').orderBy('id', 'desc').limit(filter.limit);
  if (filter.targetType) void q.where('target_type', filter.targetType);
  if (filter.targetId) void q.where('target_id', filter.targetId);
  const rows = (await q) as { id: string; at: Date; request_id: string; user_id: string; project_id: string | null; action: string; target_type: string; target_id: string; before: unknown; after: unknown }[];
  return rows.map((r) => ({ ...r, id: String(r.id), at: r.at.toISOString() }));
}
