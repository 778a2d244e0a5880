/**
 * Billing modes per resource (seed 001) and pools: a tenant member sets a
 * resource's mode (one at a time, or many from an uploaded YAML/JSON template);
 * an admin feeds a pool's free-capacity series. Every change is audited.
 */
import type { Context } from 'koa';
import { ValidationError, type Knex } from '@tally/common';
import type { Credentials } from '../../../auth/rules.js';
import type { RequestState } from '../../../http-errors.js';
import { feedCapacity, listModes, listPools, setModes, BILLING_MODES, type ModeChange } from '../../../modes/store.js';
import { policyVersions } from '../../../policies/store.js';
import { resolvePeriod } from '../../../period.js';
import type { RouteSet } from '../route.js';
import { array, id, nullable, object, oneOf, optional, text, timestamp } from '../schema.js';
import { parseProjectId, PERIOD_QUERY } from '../projects/schemas.js';

const ID = { max: 64, re: /^[A-Za-z0-9_.-]+$/, what: '1-64 letters, digits, dots, dashes or underscores' };
/** Most resources one template may list. */
export const MAX_TEMPLATE_RESOURCES = 1000;
/** Most capacity samples one feed may carry. */
export const MAX_CAPACITY_SAMPLES = 10_000;
const FREE = text({ max: 8, pattern: /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/, what: 'a decimal string from "0" (pool full) to "1" (pool empty), at most 6 decimals', example: '0.4' });
const POOL = optional(nullable(id('gpu')));

/** `PUT /v1/projects/{id}/resources/{resource_id}/billing-mode`. */
export const SET_MODE = object({ mode: oneOf(BILLING_MODES), pool: POOL });
/** `POST /v1/projects/{id}/billing-modes`: a template (JSON, or the same in YAML). */
export const TEMPLATE = object({
  resources: array(object({ resource_id: id('vm-1'), mode: oneOf(BILLING_MODES), pool: POOL }), {
    min: 1, max: MAX_TEMPLATE_RESOURCES, unique: (r) => r.resource_id, uniqueField: 'resource_id', what: 'resources',
  }),
});
/** `POST /v1/pools/{name}/capacity`: one sample (`free`, `at` defaults to now) or a series (`samples`), each time at most once. */
export const CAPACITY = object({
  free: optional(FREE), at: optional(timestamp()),
  samples: optional(array(object({ at: timestamp(), free: FREE }), { min: 1, max: MAX_CAPACITY_SAMPLES, unique: (x) => x.at.toISOString(), uniqueField: 'at', what: 'samples' })),
}, {
  json: { oneOf: [{ required: ['free'] }, { required: ['samples'] }] },
  check: (b) => {
    if (b.samples === undefined && b.free === undefined) throw new ValidationError('free', 'is required (or give samples: [{at, free}])');
    if (b.samples !== undefined && (b.free !== undefined || b.at !== undefined)) throw new ValidationError(b.free !== undefined ? 'free' : 'at', 'give either free (and at) or samples, not both');
  },
});

const actor = (ctx: Context, creds: Credentials) => ({ creds, requestId: (ctx.state as RequestState).requestId });
const param = (ctx: Context, name: string, field = name): string => {
  const v = ctx.params[name] ?? '';
  if (!ID.re.test(v) || v.length > ID.max) throw new ValidationError(field, `must be ${ID.what}`);
  return v;
};

/** Mount the routes. */
export function modeRoutes(routes: RouteSet, deps: { db: Knex; clock: () => Date }): void {
  const { db } = deps;
  const project = (ctx: Context) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/billing-modes', rule: 'billing:modes:get',
    summary: "A project's resources (with a stored mode or usage in the last 31 days) and their billing modes",
    target: project, parse: (ctx) => parseProjectId(ctx.params['id'] ?? ''),
    handle: async (projectId) => ({ project_id: projectId, resources: await listModes(db, projectId, new Date(deps.clock().getTime() - 31 * 86_400_000)) }),
  });
  routes.add({
    method: 'PUT', path: '/v1/projects/:id/resources/:resource_id/billing-mode', rule: 'billing:modes:write',
    summary: "Set one resource's billing mode in this project from now on: on-demand or dynamic (priced by its pool's free capacity); binds only this project's usage of the id", status: 200,
    target: project, body: SET_MODE,
    parse: (ctx, { body }) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), change: { resourceId: param(ctx, 'resource_id'), mode: body.mode, pool: body.pool ?? null } }),
    handle: async (input, creds, ctx) => (await setModes(db, actor(ctx, creds), input.projectId, [input.change]))[0],
  });
  routes.add({
    method: 'POST', path: '/v1/projects/:id/billing-modes', rule: 'billing:modes:write',
    summary: 'Apply a template (JSON or YAML: resources with their modes), all or nothing', status: 200,
    target: project, body: TEMPLATE, yaml: true,
    parse: (ctx, { body }) => ({
      projectId: parseProjectId(ctx.params['id'] ?? ''),
      changes: body.resources.map((r): ModeChange => ({ resourceId: r.resource_id, mode: r.mode, pool: r.pool ?? null })),
    }),
    handle: async (input, creds, ctx) => ({ project_id: input.projectId, resources: await setModes(db, actor(ctx, creds), input.projectId, input.changes) }),
  });
  routes.add({
    method: 'GET', path: '/v1/pools', rule: 'billing:pools:list',
    summary: 'Pools with their free-capacity series and the dynamic factor at each sample (?start&end, default month to date)',
    query: PERIOD_QUERY,
    parse: (_ctx, { query }) => resolvePeriod(deps.clock(), query),
    handle: async (period) => ({ period: { start: period.start.toISOString(), end: period.end.toISOString() }, pools: await listPools(db, await policyVersions(db), period, deps.clock()) }),
  });
  routes.add({
    method: 'POST', path: '/v1/pools/:name/capacity', rule: 'billing:pools:write',
    summary: "Feed a pool's free capacity (creates the pool): one sample or a series", status: 201,
    body: CAPACITY,
    parse: (ctx, { body: b }) => ({ pool: param(ctx, 'name'), samples: b.samples ?? [{ at: b.at ?? deps.clock(), free: b.free! }] }),
    handle: async (input, creds, ctx) => feedCapacity(db, actor(ctx, creds), input.pool, input.samples),
  });
}
