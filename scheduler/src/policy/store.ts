/**
 * Scaling policies stored like pricing policies: the text as written, one version per
 * change, validated before it is stored, deletion keeping the versions. The newest live
 * version of a cluster is in force; a cluster without one uses the built-in default
 * (`default v0`). Writers pass an `audit` hook that runs in the same transaction, so the
 * API's audit trail records who changed what.
 */
import type { Knex } from '@tally/common';
import { POLICY_TABLE } from '../schema.js';
import { DEFAULT_SCALING_POLICY_TEXT, parseScalingPolicy, type ScalingPolicy } from './format.js';

/** A stored version, as the API shows it. */
export interface ScalingPolicyVersionView {
  id: string;
  cluster: string;
  version: number;
  source: string;
  created_by: string;
  created_at: string;
}

/** The policy in force for a cluster. */
export interface LivePolicy {
  policy: ScalingPolicy;
  /** `analyzer v3`, or `default v0`. */
  label: string;
  version: number;
  source: string;
}

interface Row { id: string | number; cluster: string; version: number; source: string; created_by: string; created_at: Date }
const view = (r: Row): ScalingPolicyVersionView => ({ id: String(r.id), cluster: r.cluster, version: r.version, source: r.source, created_by: r.created_by, created_at: r.created_at.toISOString() });

/** Called inside the write's transaction: before (null for the first version) and after. */
export type PolicyAuditHook = (trx: Knex.Transaction, action: 'scaling_policy.version.add' | 'scaling_policy.delete', target: string, before: unknown, after: unknown) => Promise<void>;

const parsed = new Map<string, ScalingPolicy>();
let defaultPolicy: ScalingPolicy | undefined;

/** Live versions, newest first per cluster (or of one cluster). */
export async function listScalingPolicies(db: Knex, cluster?: string): Promise<ScalingPolicyVersionView[]> {
  const q = db(POLICY_TABLE).whereNull('deleted_at').orderBy([{ column: 'cluster' }, { column: 'version', order: 'desc' }]);
  if (cluster !== undefined) void q.where({ cluster });
  return ((await q) as Row[]).map(view);
}

/** The policy in force for `cluster`. */
export async function livePolicy(db: Knex, cluster: string): Promise<LivePolicy> {
  const r = (await db(POLICY_TABLE).where({ cluster }).whereNull('deleted_at').orderBy('version', 'desc').first()) as Row | undefined;
  if (!r) {
    defaultPolicy ??= parseScalingPolicy(DEFAULT_SCALING_POLICY_TEXT);
    return { policy: defaultPolicy, label: 'default v0', version: 0, source: DEFAULT_SCALING_POLICY_TEXT };
  }
  const key = String(r.id);
  let p = parsed.get(key);
  if (!p) {
    p = parseScalingPolicy(r.source);
    parsed.set(key, p);
  }
  return { policy: p, label: `${cluster} v${r.version}`, version: r.version, source: r.source };
}

/** Clusters that have a live stored policy. */
export async function clustersWithPolicies(db: Knex): Promise<string[]> {
  const rows = (await db(POLICY_TABLE).whereNull('deleted_at').distinct('cluster').orderBy('cluster')) as { cluster: string }[];
  return rows.map((r) => r.cluster);
}

/** Add a version (the first creates the policy). Validated first (ValidationError naming the field). */
export async function addScalingPolicyVersion(db: Knex, input: { cluster: string; source: string; createdBy: string }, audit?: PolicyAuditHook): Promise<ScalingPolicyVersionView> {
  parseScalingPolicy(input.source);
  return db.transaction(async (trx) => {
    // One writer per cluster at a time, so versions are consecutive.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`scaling-policy:${input.cluster}`]);
    const prev = (await trx(POLICY_TABLE).where({ cluster: input.cluster }).orderBy('version', 'desc').first()) as Row | undefined;
    const [row] = (await trx(POLICY_TABLE).insert({ cluster: input.cluster, version: (prev?.version ?? 0) + 1, source: input.source, created_by: input.createdBy }).returning('*')) as Row[];
    const v = view(row!);
    await audit?.(trx, 'scaling_policy.version.add', `${v.cluster} v${v.version}`, prev ? view(prev) : null, v);
    return v;
  });
}

/** Delete a cluster's policy (versions kept; the default applies again). Returns the versions marked. */
export async function deleteScalingPolicy(db: Knex, cluster: string, audit?: PolicyAuditHook): Promise<number> {
  return db.transaction(async (trx) => {
    const before = (await trx(POLICY_TABLE).where({ cluster }).whereNull('deleted_at').select('id', 'version')) as { id: number; version: number }[];
    if (before.length === 0) return 0;
    await trx(POLICY_TABLE).where({ cluster }).whereNull('deleted_at').update({ deleted_at: trx.fn.now() });
    await audit?.(trx, 'scaling_policy.delete', cluster, before, null);
    return before.length;
  });
}
