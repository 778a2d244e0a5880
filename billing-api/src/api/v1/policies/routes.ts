/**
 * Pricing policies (stored as source text, versioned, with effective dates):
 * list, add, modify (a new version), delete, validate, and simulate a draft
 * against last month's usage.
 */
import type { Context } from 'koa';
import { ValidationError, type Knex } from '@tally/common';
import type { Credentials } from '../../../auth/rules.js';
import type { RequestState } from '../../../http-errors.js';
import { NotFoundError } from '../../../http-errors.js';
import { addPolicyVersion, admitPolicy, deletePolicy, listPolicies, policyVersions, PolicyInvalidError } from '../../../policies/store.js';
import { formatIssue, MAX_POLICY_CHARS, ratePeriod, type PolicyVersion, type PricedLine } from '../../../pricing/index.js';
import { monthStart } from '../../../period.js';
import { Money } from '../../../rating.js';
import type { RouteSet } from '../route.js';
import { id, object, optional, text, timestamp } from '../schema.js';
import { checkedUsage, type UsageDeps } from '../../../usage.js';

const NAME = { max: 64, re: /^[A-Za-z0-9_.-]+$/, what: '1-64 letters, digits, dots, dashes or underscores' };
/** Longest policy text through the API: it must fit a body (BODY_LIMIT, 256 KiB); the language allows more. */
export const MAX_SOURCE_CHARS = Math.min(MAX_POLICY_CHARS, 200_000);
const SOURCE = text({ max: MAX_SOURCE_CHARS, multiline: true, example: 'EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0200 (EUR)\n' });
// POST /v1/pricing-policies/validate and …/simulate are actions: a policy of that name could never be created or read.
const RESERVED = ['validate', 'simulate'];
/** `POST /v1/pricing-policies`. */
export const CREATE_POLICY = object({ name: id('standard'), source: SOURCE, effective_from: optional(timestamp()) }, {
  check: (b) => {
    if (RESERVED.includes(b.name)) throw new ValidationError('name', `${b.name} is reserved (POST /v1/pricing-policies/${b.name} is an action)`);
  },
});
/** `PUT /v1/pricing-policies/{name}`. */
export const NEW_VERSION = object({ source: SOURCE, effective_from: optional(timestamp()) });
/** `POST /v1/pricing-policies/validate` and `…/simulate`. */
export const DRAFT = object({ source: SOURCE });
const actor = (ctx: Context, creds: Credentials) => ({ creds, requestId: (ctx.state as RequestState).requestId });
const nameParam = (ctx: Context): string => {
  const v = ctx.params['name'] ?? '';
  if (!NAME.re.test(v) || v.length > NAME.max) throw new ValidationError('name', `must be ${NAME.what}`);
  return v;
};

function perProject(lines: readonly PricedLine[]): Record<string, string> {
  const out = new Map<string, Money>();
  for (const l of lines) out.set(l.projectId ?? '', (out.get(l.projectId ?? '') ?? new Money(0)).plus(l.amount));
  return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toFixed()]));
}

/** Mount the routes. */
export function policyRoutes(routes: RouteSet, deps: UsageDeps & { db: Knex; clock: () => Date }): void {
  const { db } = deps;
  routes.add({
    method: 'GET', path: '/v1/pricing-policies', rule: 'billing:policies:list', summary: 'Every live version of every pricing policy',
    parse: () => undefined, handle: async () => ({ policies: await listPolicies(db) }),
  });
  routes.add({
    method: 'GET', path: '/v1/pricing-policies/:name', rule: 'billing:policies:list', summary: "One policy's versions, newest first",
    parse: nameParam,
    handle: async (name) => {
      const versions = await listPolicies(db, name);
      if (versions.length === 0) throw new NotFoundError(`pricing policy ${name}`);
      return { name, versions };
    },
  });
  routes.add({
    method: 'POST', path: '/v1/pricing-policies', rule: 'billing:policies:write', summary: 'Add a policy (its version 1), validated first; 409 when a live policy has the name', status: 201,
    body: CREATE_POLICY,
    parse: (_ctx, { body: b }) => ({ name: b.name, source: b.source, effectiveFrom: b.effective_from ?? deps.clock(), create: true }),
    handle: (input, c, ctx) => addPolicyVersion(db, actor(ctx, c), input),
  });
  routes.add({
    method: 'PUT', path: '/v1/pricing-policies/:name', rule: 'billing:policies:write', summary: 'Modify a policy: a new version from effective_from', status: 201,
    body: NEW_VERSION,
    parse: (ctx, { body: b }) => ({ name: nameParam(ctx), source: b.source, effectiveFrom: b.effective_from ?? deps.clock(), create: false }),
    handle: (input, c, ctx) => addPolicyVersion(db, actor(ctx, c), input),
  });
  routes.add({
    method: 'DELETE', path: '/v1/pricing-policies/:name', rule: 'billing:policies:write', summary: 'Delete a policy (versions kept for audit)', status: 204,
    parse: nameParam,
    handle: async (name, c, ctx) => {
      if ((await deletePolicy(db, actor(ctx, c), name)) === 0) throw new NotFoundError(`pricing policy ${name}`);
      return undefined;
    },
  });
  routes.add({
    method: 'POST', path: '/v1/pricing-policies/validate', rule: 'billing:policies:validate', summary: 'Check a policy text: every issue with line and column',
    body: DRAFT,
    parse: (_ctx, { body }) => body.source,
    handle: (source) => {
      const r = admitPolicy(source);
      return Promise.resolve(r.ok ? { valid: true, issues: [] } : { valid: false, issues: r.issues.map((i) => ({ ...i, text: formatIssue(i) })) });
    },
  });
  routes.add({
    method: 'POST', path: '/v1/pricing-policies/simulate', rule: 'billing:policies:validate', summary: "Rate last month's usage with a draft, beside the live policies",
    body: DRAFT,
    parse: (_ctx, { body }) => body.source,
    handle: async (source) => {
      const checked = admitPolicy(source);
      if (!checked.ok) throw new PolicyInvalidError(checked.issues);
      const end = monthStart(deps.clock());
      const start = monthStart(new Date(end.getTime() - 1));
      // Invalid stored rows are left out (and reported), as in every other read.
      const { usage, invalid } = await checkedUsage(deps, { start, end });
      const projects = [...new Set(usage.map((u) => u.projectId).filter((p): p is string => p !== null))].sort();
      const live = ratePeriod(await policyVersions(db), { usage, projects }, { start, end });
      const draftSource: PolicyVersion[] = [{ effectiveFrom: new Date(0), policy: checked.policy, label: 'draft' }];
      const draft = ratePeriod(draftSource, { usage, projects }, { start, end });
      return {
        period: { start: start.toISOString(), end: end.toISOString() },
        usage_records: usage.length,
        invalid_usage_records: invalid.length,
        live: { currency: live.currency, total: live.totalText, projects: perProject(live.lines) },
        draft: { currency: draft.currency, total: draft.totalText, projects: perProject(draft.lines) },
      };
    },
  });

}
