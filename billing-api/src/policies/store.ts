/**
 * Pricing policies as stored text: versions per name with effective dates,
 * validated by the pricing core's parser and compiler before they are stored.
 * Rating reads every live version, compiled once per version id.
 */
import { TallyError, ValidationError, type Knex } from '@tally/common';
import { compilePolicy, parsePolicy, PolicyCompileError, DEFAULT_POLICY_TEXT, formatIssue, KEY_INDEX, type CompiledPolicy, type PolicyIssue, type PolicyVersion, type ValueType } from '../pricing/index.js';
import { Money } from '../rating.js';
import { ConflictError, NotFoundError } from '../http-errors.js';
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

/**
 * The largest price a stored policy may name (per unit, in its currency or tokens): a bill
 * is stored as numeric(24,6), so a price of 10^30 could never be invoiced.
 */
export const MAX_PRICE = new Money('1e12');
const PRICED: ReadonlySet<ValueType> = new Set(['money', 'tokens']);

/**
 * {@link checkPolicy}, plus what storing and billing need: at least one rule (a policy
 * of comments only would price everything at 0), and every price and amount below
 * {@link MAX_PRICE}. Policies are admitted by this; stored ones are only re-compiled,
 * so tightening it never stops a running installation.
 */
export function admitPolicy(source: string): ReturnType<typeof checkPolicy> {
  const checked = checkPolicy(source);
  if (!checked.ok) return checked;
  const issues: PolicyIssue[] = [];
  const issue = (pos: { line: number; column: number }, message: string) => issues.push({ line: pos.line, column: pos.column, expected: [], found: '', message });
  if (checked.policy.rules.length === 0) issue({ line: 1, column: 1 }, 'the policy has no rule: it would price everything at 0 (write at least one rule)');
  for (const r of checked.policy.rules) {
    for (const o of r.outcomes) {
      const def = KEY_INDEX.get(o.key);
      if (!def || !PRICED.has(def.type)) continue;
      const values = o.value.kind === 'number' ? [o.value.value] : o.value.kind === 'tiers' ? o.value.steps.map((t) => t.price) : [];
      const big = values.find((v) => v.abs().gte(MAX_PRICE));
      if (big) issue(r.pos, `${o.key} ${big.toFixed()} is too large: prices and amounts must stay below ${MAX_PRICE.toFixed()} so that bills fit their storage`);
    }
  }
  return issues.length > 0 ? { ok: false, issues } : checked;
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

/** Every live version as source text (for a worker thread, which compiles its own), oldest first; the built-in default as in {@link policyVersions}. */
export async function policySources(db: Knex | Knex.Transaction): Promise<{ effectiveFrom: string; source: string; label: string }[]> {
  const rows = (await db('policy_versions').whereNull('deleted_at').orderBy([{ column: 'effective_from' }, { column: 'id' }])) as Row[];
  const out = rows.some((r) => r.effective_from.getTime() <= 0) ? [] : [{ effectiveFrom: new Date(0).toISOString(), source: DEFAULT_POLICY_TEXT, label: DEFAULT_LABEL }];
  for (const r of rows) out.push({ effectiveFrom: r.effective_from.toISOString(), source: r.source, label: `${r.name} v${r.version}` });
  return out;
}

/** Every live version of every policy (or of one name), newest first. */
export async function listPolicies(db: Knex, name?: string): Promise<PolicyVersionView[]> {
  const q = db('policy_versions').whereNull('deleted_at').orderBy([{ column: 'name' }, { column: 'version', order: 'desc' }]);
  if (name !== undefined) void q.where({ name });
  return ((await q) as Row[]).map(view);
}

/**
 * Add a version. `create: true`: the first version of a new policy (409 when a live policy has
 * that name); `create: false`: a new version of a live policy (404 when there is none); left
 * out, either. Checked under the name's lock, so two concurrent creates cannot both succeed.
 * Admitted first ({@link admitPolicy}); audited.
 */
export async function addPolicyVersion(db: Knex, actor: Actor, input: { name: string; source: string; effectiveFrom: Date; create?: boolean }): Promise<PolicyVersionView> {
  const checked = admitPolicy(input.source);
  if (!checked.ok) throw new PolicyInvalidError(checked.issues);
  return db.transaction(async (trx) => {
    // One writer per name at a time, so versions are consecutive.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`policy:${input.name}`]);
    const live = (await trx('policy_versions').where({ name: input.name }).whereNull('deleted_at').first('id')) as { id: number } | undefined;
    if (input.create === true && live) throw new ConflictError('name', `pricing policy ${input.name} exists; PUT /v1/pricing-policies/${input.name} adds a version`);
    if (input.create === false && !live) throw new NotFoundError(`pricing policy ${input.name}`);
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
