/**
 * Pricing policies (stored as source text, versioned, with effective dates):
 * list, add, modify (a new version), delete, validate, simulate a draft
 * against last month's usage, and quotes priced by the live policy.
 */
import type { Context } from 'koa';
import { ValidationError, type Knex } from '@tally/common';
import type { Credentials } from '../../../auth/rules.js';
import type { RequestState } from '../../../http-errors.js';
import { NotFoundError } from '../../../http-errors.js';
import { addPolicyVersion, checkPolicy, deletePolicy, listPolicies, policyVersions, PolicyInvalidError } from '../../../policies/store.js';
import { formatIssue, MAX_POLICY_CHARS, quote, ratePeriod, type PolicyVersion, type PricedLine, type QuoteItem, type UsageInput } from '../../../pricing/index.js';
import { monthStart } from '../../../period.js';
import { Money } from '../../../rating.js';
import type { RouteSet } from '../route.js';
import { jsonBody, onlyFields, str, timestamp } from '../body.js';

const NAME = { max: 64, re: /^[A-Za-z0-9_.-]+$/, what: '1-64 letters, digits, dots, dashes or underscores' };
const actor = (ctx: Context, creds: Credentials) => ({ creds, requestId: (ctx.state as RequestState).requestId });
const nameParam = (ctx: Context): string => {
  const v = ctx.params['name'] ?? '';
  if (!NAME.re.test(v) || v.length > NAME.max) throw new ValidationError('name', `must be ${NAME.what}`);
  return v;
};
const source = (b: Record<string, unknown>): string => str(b, 'source', { max: MAX_POLICY_CHARS })!;

async function lastMonthUsage(db: Knex, start: Date, end: Date): Promise<UsageInput[]> {
  const rows = (await db('usage_records').where('window_start', '>=', start).where('window_start', '<', end)
    .select('window_start', 'window_end', 'resource_id', 'meter', 'unit', db.raw('quantity::text AS quantity'), 'project_id', 'flavor_name', 'vcpus', 'memory_mb')) as
    { window_start: Date; window_end: Date; resource_id: string; meter: string; unit: string; quantity: string; project_id: string | null; flavor_name: string | null; vcpus: number | null; memory_mb: number | null }[];
  return rows.map((r) => ({ windowStart: r.window_start, windowEnd: r.window_end, resourceId: r.resource_id, meter: r.meter, unit: r.unit, quantity: r.quantity,
    projectId: r.project_id, flavorName: r.flavor_name, vcpus: r.vcpus, memoryMb: r.memory_mb }));
}

function perProject(lines: readonly PricedLine[]): Record<string, string> {
  const out = new Map<string, Money>();
  for (const l of lines) out.set(l.projectId ?? '', (out.get(l.projectId ?? '') ?? new Money(0)).plus(l.amount));
  return Object.fromEntries([...out].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toFixed()]));
}

/** Mount the routes. */
export function policyRoutes(routes: RouteSet, deps: { db: Knex; clock: () => Date }): void {
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
  const add = async (ctx: Context, name: string | undefined) => {
    const b = await jsonBody(ctx);
    onlyFields(b, name === undefined ? ['name', 'source', 'effective_from'] : ['source', 'effective_from']);
    return { name: name ?? str(b, 'name', NAME)!, source: source(b), effectiveFrom: timestamp(b, 'effective_from', true) ?? deps.clock() };
  };
  routes.add({
    method: 'POST', path: '/v1/pricing-policies', rule: 'billing:policies:write', summary: 'Add a policy (its version 1), validated first', status: 201,
    parse: (ctx) => add(ctx, undefined),
    handle: (input, c, ctx) => addPolicyVersion(db, actor(ctx, c), input),
  });
  routes.add({
    method: 'PUT', path: '/v1/pricing-policies/:name', rule: 'billing:policies:write', summary: 'Modify a policy: a new version from effective_from', status: 201,
    parse: (ctx) => add(ctx, nameParam(ctx)),
    handle: async (input, c, ctx) => {
      if ((await listPolicies(db, input.name)).length === 0) throw new NotFoundError(`pricing policy ${input.name}`);
      return addPolicyVersion(db, actor(ctx, c), input);
    },
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
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['source']);
      return source(b);
    },
    handle: (text) => {
      const r = checkPolicy(text);
      return Promise.resolve(r.ok ? { valid: true, issues: [] } : { valid: false, issues: r.issues.map((i) => ({ ...i, text: formatIssue(i) })) });
    },
  });
  routes.add({
    method: 'POST', path: '/v1/pricing-policies/simulate', rule: 'billing:policies:validate', summary: "Rate last month's usage with a draft, beside the live policies",
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['source']);
      return source(b);
    },
    handle: async (text) => {
      const checked = checkPolicy(text);
      if (!checked.ok) throw new PolicyInvalidError(checked.issues);
      const end = monthStart(deps.clock());
      const start = monthStart(new Date(end.getTime() - 1));
      const usage = await lastMonthUsage(db, start, end);
      const projects = [...new Set(usage.map((u) => u.projectId).filter((p): p is string => p !== null))].sort();
      const live = ratePeriod(await policyVersions(db), { usage, projects }, { start, end });
      const draftSource: PolicyVersion[] = [{ effectiveFrom: new Date(0), policy: checked.policy, label: 'draft' }];
      const draft = ratePeriod(draftSource, { usage, projects }, { start, end });
      return {
        period: { start: start.toISOString(), end: end.toISOString() },
        usage_records: usage.length,
        live: { currency: live.currency, total: live.totalText, projects: perProject(live.lines) },
        draft: { currency: draft.currency, total: draft.totalText, projects: perProject(draft.lines) },
      };
    },
  });
  routes.add({
    method: 'POST', path: '/v1/quotes', rule: 'billing:quotes:create', summary: 'Price described resources over a duration with the live policy',
    target: (ctx) => ({ project_id: (ctx.state as { creds?: Credentials }).creds?.project_id ?? undefined }),
    parse: async (ctx) => {
      const b = await jsonBody(ctx, 64 * 1024);
      onlyFields(b, ['project_id', 'items', 'duration_seconds']);
      const items = b['items'];
      if (!Array.isArray(items) || items.length === 0 || items.length > 100) throw new ValidationError('items', 'must be a list of 1 to 100 items');
      items.forEach((it, i) => {
        if (typeof it !== 'object' || it === null || Array.isArray(it)) throw new ValidationError(`items[${i}]`, 'must be an object');
      });
      return { projectId: str(b, 'project_id', NAME), items: items as QuoteItem[], durationSeconds: str(b, 'duration_seconds', { max: 20, re: /^\d+(\.\d{1,3})?$/, what: 'a decimal string of seconds' })! };
    },
    handle: async (input, c) => {
      const q = quote(await policyVersions(db), { projectId: input.projectId ?? c.project_id ?? 'quote', items: input.items, durationSeconds: input.durationSeconds }, { now: deps.clock() });
      return JSON.parse(JSON.stringify(q)) as unknown;
    },
  });
}
