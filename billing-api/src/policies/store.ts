/**
 * Pricing policies as stored text: versions per name with effective dates,
 * validated by the pricing core's parser and compiler before they are stored.
 * Rating reads every live version, compiled once per version id.
 */
import { TallyError, ValidationError, type Knex } from '@tally/common';
import { compilePolicy, parsePolicy, PolicyCompileError, DEFAULT_POLICY_TEXT, formatIssue, type CompiledPolicy, type PolicyIssue, type PolicyVersion } from '../pricing/index.js';
import { audit, type Actor } from '../audit.js';
import type { PolicyVersionView } from '../wire.js';

export type { PolicyVersionView } from '../wire.js';

interface Row {
  id: number;
  name: string;
  version: number;
  source: string;
  effective_from: Date;
  created_by: string;
  created_at: Date;
}

const view = (r: Row): PolicyVersionView => ({
  id: r.id, name: r.name, version: r.version, effective_from: r.effective_from.toISOString(), created_by: r.created_by,
  created_at: r.created_at.toISOString(), source: r.source,
});

/** Parse and compile a policy text: the compiled policy, or every issue (line, column, message). */
export function checkPolicy(source: string): { ok: true; policy: CompiledPolicy } | { ok: false; issues: PolicyIssue[] } {
  const parsed = parsePolicy(source);
  if (!parsed.ok) return { ok: false, issues: parsed.errors };
  try {
    return { ok: true, policy: compilePolicy(parsed.policy) };
  } catch (e) {
    if (e instanceof PolicyCompileError) return { ok: false, issues: e.issues };
    throw e;
  }
}

/** A policy text that does not parse or compile: 400 naming `source` and listing the issues. */
export class PolicyInvalidError extends ValidationError {
  constructor(readonly issues: PolicyIssue[]) {
    super('source', issues.map((i) => formatIssue(i)).join('; '));
  }
}

const compiled = new Map<number, CompiledPolicy>();
const DEFAULT_LABEL = 'default v0';
let defaultCompiled: CompiledPolicy | undefined;

/** Every live version, compiled, oldest first; the built-in default applies from the epoch unless a stored version does. */
export async function policyVersions(db: Knex | Knex.Transaction): Promise<PolicyVersion[]> {
  const rows = (await db('policy_versions').whereNull('deleted_at').orderBy([{ column: 'effective_from' }, { column: 'id' }])) as Row[];
  const out: PolicyVersion[] = [];
  if (!rows.some((r) => r.effective_from.getTime() <= 0)) {
    defaultCompiled ??= compilePolicy((parsePolicy(DEFAULT_POLICY_TEXT) as { ok: true; policy: Parameters<typeof compilePolicy>[0] }).policy);
    out.push({ effectiveFrom: new Date(0), policy: defaultCompiled, label: DEFAULT_LABEL });
  }
  for (const r of rows) {
    let c = compiled.get(r.id);
    if (!c) {
      const checked = checkPolicy(r.source);
      if (!checked.ok) throw new TallyError('policy_invalid', `stored policy ${r.name} v${r.version} no longer compiles`);
      c = checked.policy;
      compiled.set(r.id, c);
    }
    out.push({ effectiveFrom: r.effective_from, policy: c, label: `${r.name} v${r.version}` });
  }
  return out;
}

/** Every live version of every policy (or of one name), newest first. */
export async function listPolicies(db: Knex, name?: string): Promise<PolicyVersionView[]> {
  const q = db('policy_versions').whereNull('deleted_at').orderBy([{ column: 'name' }, { column: 'version', order: 'desc' }]);
  if (name !== undefined) void q.where({ name });
  return ((await q) as Row[]).map(view);
}

/** Add a version (the first one creates the policy). Validated first; audited. */
export async function addPolicyVersion(db: Knex, actor: Actor, input: { name: string; source: string; effectiveFrom: Date }): Promise<PolicyVersionView> {
  const checked = checkPolicy(input.source);
  if (!checked.ok) throw new PolicyInvalidError(checked.issues);
  return db.transaction(async (trx) => {
    // One writer per name at a time, so versions are consecutive.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`policy:${input.name}`]);
    const max = (await trx('policy_versions').where({ name: input.name }).max('version as v').first()) as { v: number | null };
    const [row] = (await trx('policy_versions').insert({
      name: input.name, version: (max.v ?? 0) + 1, source: input.source, effective_from: input.effectiveFrom, created_by: actor.creds.user_id,
    }).returning('*')) as Row[];
    const v = view(row!);
    await audit(trx, actor, 'policy.version.add', 'policy', `${v.name} v${v.version}`, null, v);
    return v;
  });
}

/** Delete a policy: every live version is marked deleted (kept for audit; rated lines name them). */
export async function deletePolicy(db: Knex, actor: Actor, name: string): Promise<number> {
  return db.transaction(async (trx) => {
    const before = (await trx('policy_versions').where({ name }).whereNull('deleted_at').select('id', 'version')) as { id: number; version: number }[];
    if (before.length === 0) return 0;
    await trx('policy_versions').where({ name }).whereNull('deleted_at').update({ deleted_at: trx.fn.now() });
    await audit(trx, actor, 'policy.delete', 'policy', name, before, null);
    return before.length;
  });
}
