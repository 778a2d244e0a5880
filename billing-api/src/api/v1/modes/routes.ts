/**
 * Billing modes per resource (seed 001) and pools: a tenant member sets a
 * resource's mode (one at a time, or many from an uploaded YAML/JSON template);
 * an admin feeds a pool's free-capacity series. Every change is audited.
 */
import type { Context } from 'koa';
import { parse as parseYaml } from 'yaml';
import { TallyError, ValidationError, type Knex } from '@tally/common';
import type { Credentials } from '../../../auth/rules.js';
import type { RequestState } from '../../../http-errors.js';
import { feedCapacity, listModes, listPools, setModes, BILLING_MODES, type ModeChange } from '../../../modes/store.js';
import { policyVersions } from '../../../policies/store.js';
import { resolvePeriod } from '../../../period.js';
import type { RouteSet } from '../route.js';
import { BODY_LIMIT, jsonBody, oneOf, onlyFields, PayloadTooLargeError, str, timestamp } from '../body.js';
import { parsePeriodQuery, parseProjectId } from '../projects/schemas.js';

const ID = { max: 64, re: /^[A-Za-z0-9_.-]+$/, what: '1-64 letters, digits, dots, dashes or underscores' };
/** Most resources one template may list. */
export const MAX_TEMPLATE_RESOURCES = 1000;
/** Most capacity samples one feed may carry. */
export const MAX_CAPACITY_SAMPLES = 10_000;
const FREE = /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/;

const actor = (ctx: Context, creds: Credentials) => ({ creds, requestId: (ctx.state as RequestState).requestId });
const param = (ctx: Context, name: string, field = name): string => {
  const v = ctx.params[name] ?? '';
  if (!ID.re.test(v) || v.length > ID.max) throw new ValidationError(field, `must be ${ID.what}`);
  return v;
};

/** One mode change from an object; `at` prefixes field names (`resources[3].`). */
export function parseModeChange(o: unknown, at: string, resourceId?: string): ModeChange {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ValidationError(at.replace(/\.$/, '') || 'body', 'must be an object');
  const b = o as Record<string, unknown>;
  const fields = resourceId === undefined ? ['resource_id', 'mode', 'pool'] : ['mode', 'pool'];
  for (const k of Object.keys(b)) if (!fields.includes(k)) throw new ValidationError(`${at}${k}`, `unknown field (allowed: ${fields.join(', ')})`);
  const prefixed = (fn: () => unknown) => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ValidationError && at) throw new ValidationError(`${at}${e.field ?? ''}`, e.message.replace(/^[^:]*: /, ''));
      throw e;
    }
  };
  const id = resourceId ?? (prefixed(() => str(b, 'resource_id', ID)) as string);
  const mode = prefixed(() => oneOf(b, 'mode', BILLING_MODES)) as ModeChange['mode'];
  const pool = b['pool'] === null ? null : ((prefixed(() => str(b, 'pool', { ...ID, optional: true })) as string | undefined) ?? null);
  return { resourceId: id, mode, pool };
}

/** A template: `{resources: [{resource_id, mode, pool?}]}` as JSON, or the same in YAML (`application/yaml`). */
export async function templateBody(ctx: Context): Promise<ModeChange[]> {
  let doc: unknown;
  if (ctx.is('application/yaml', 'application/x-yaml', 'text/yaml')) {
    if (Number(ctx.get('content-length') || '0') > BODY_LIMIT) throw new PayloadTooLargeError(BODY_LIMIT);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > BODY_LIMIT) throw new PayloadTooLargeError(BODY_LIMIT);
      chunks.push(chunk);
    }
    try {
      doc = parseYaml(Buffer.concat(chunks).toString('utf8'), { maxAliasCount: 10 });
    } catch (e) {
      throw new ValidationError('body', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError('body', 'must be a YAML mapping with a resources list');
  } else if (ctx.is('application/json')) {
    doc = await jsonBody(ctx);
  } else {
    throw new TallyError('unsupported_media_type', 'the template must be application/json or application/yaml', { field: 'body' });
  }
  const b = doc as Record<string, unknown>;
  onlyFields(b, ['resources']);
  const list = b['resources'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TEMPLATE_RESOURCES) throw new ValidationError('resources', `must be a list of 1 to ${MAX_TEMPLATE_RESOURCES} resources`);
  const changes = list.map((o, i) => parseModeChange(o, `resources[${i}].`));
  const seen = new Set<string>();
  changes.forEach((c, i) => {
    if (seen.has(c.resourceId)) throw new ValidationError(`resources[${i}].resource_id`, `lists ${c.resourceId} twice`);
    seen.add(c.resourceId);
  });
  return changes;
}

/** Capacity samples: `{free, at?}` (one sample, `at` defaults to now) or `{samples: [{at, free}]}`. */
export function parseCapacity(b: Record<string, unknown>, now: Date): { at: Date; free: string }[] {
  const one = (o: Record<string, unknown>, at: string, defaultAt?: Date) => {
    const free = o['free'];
    if (typeof free !== 'string' || !FREE.test(free)) throw new ValidationError(`${at}free`, 'must be a decimal string from "0" (pool full) to "1" (pool empty), at most 6 decimals');
    let when: Date;
    try {
      when = timestamp(o, 'at', defaultAt !== undefined) ?? defaultAt!;
    } catch (e) {
      throw new ValidationError(`${at}at`, (e as Error).message.replace(/^[^:]*: /, ''));
    }
    return { at: when, free };
  };
  if (b['samples'] === undefined) {
    onlyFields(b, ['free', 'at']);
    return [one(b, '', now)];
  }
  onlyFields(b, ['samples']);
  const list = b['samples'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CAPACITY_SAMPLES) throw new ValidationError('samples', `must be a list of 1 to ${MAX_CAPACITY_SAMPLES} samples`);
  return list.map((o, i) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ValidationError(`samples[${i}]`, 'must be an object with at and free');
    for (const k of Object.keys(o)) if (k !== 'at' && k !== 'free') throw new ValidationError(`samples[${i}].${k}`, 'unknown field (allowed: at, free)');
    return one(o as Record<string, unknown>, `samples[${i}].`);
  });
}

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
    summary: "Set one resource's billing mode: on-demand or dynamic (priced by its pool's free capacity)", status: 200,
    target: project,
    parse: async (ctx) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), change: parseModeChange(await jsonBody(ctx), '', param(ctx, 'resource_id')) }),
    handle: async (input, creds, ctx) => (await setModes(db, actor(ctx, creds), input.projectId, [input.change]))[0],
  });
  routes.add({
    method: 'POST', path: '/v1/projects/:id/billing-modes', rule: 'billing:modes:write',
    summary: 'Apply a template (JSON or YAML: resources with their modes), all or nothing', status: 200,
    target: project,
    parse: async (ctx) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), changes: await templateBody(ctx) }),
    handle: async (input, creds, ctx) => ({ project_id: input.projectId, resources: await setModes(db, actor(ctx, creds), input.projectId, input.changes) }),
  });
  routes.add({
    method: 'GET', path: '/v1/pools', rule: 'billing:pools:list',
    summary: 'Pools with their free-capacity series and the dynamic factor at each sample (?start&end, default month to date)',
    parse: (ctx) => resolvePeriod(deps.clock(), parsePeriodQuery(ctx.query)),
    handle: async (period) => ({ period: { start: period.start.toISOString(), end: period.end.toISOString() }, pools: await listPools(db, await policyVersions(db), period, deps.clock()) }),
  });
  routes.add({
    method: 'POST', path: '/v1/pools/:name/capacity', rule: 'billing:pools:write',
    summary: "Feed a pool's free capacity (creates the pool): one sample or a series", status: 201,
    parse: async (ctx) => ({ pool: param(ctx, 'name'), samples: parseCapacity(await jsonBody(ctx), deps.clock()) }),
    handle: async (input, creds, ctx) => feedCapacity(db, actor(ctx, creds), input.pool, input.samples),
  });
}
