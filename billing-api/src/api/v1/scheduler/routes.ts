/**
 * The scheduler's API (admin only): the component registry, alerts and their
 * acknowledgement, the scaled clusters with members and load, the decision log, the
 * audit trail of scaling actions, and scaling policies stored and versioned like pricing
 * policies (validated with the field named; every change audited).
 */
import type { Context } from 'koa';
import { acknowledgeAlert, ALERT_STATES, ALERTS_TABLE, listAlerts, ValidationError, type Knex } from '@tally/common';
import {
  addScalingPolicyVersion, checkScalingPolicy, deleteScalingPolicy, listActions, listClusters, listComponents, listDecisions, listScalingPolicies,
  MAX_POLICY_CHARS, type PolicyAuditHook,
} from '@tally/scheduler';
import { audit } from '../../../audit.js';
import type { Credentials } from '../../../auth/rules.js';
import { NotFoundError, type RequestState } from '../../../http-errors.js';
import type { RouteSet } from '../route.js';
import { EMPTY_BODY, id, object, oneOf, optional, text } from '../schema.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ROLES = ['agent', 'analyzer', 'billing-api', 'scheduler'] as const;
const STATES = ['running', 'draining', 'stopped', 'lost'] as const;
const LIMIT = optional(text({ max: 4, pattern: /^(?:[1-9]\d{0,2}|1000)$/, what: 'a whole number from 1 to 1000', example: '50' }));
const q = <F extends Parameters<typeof object>[0]>(fields: F) => object(fields, { what: 'query parameter' });

const COMPONENTS_QUERY = q({ role: optional(oneOf(ROLES)), cluster: optional(id('analyzer')), state: optional(oneOf(STATES)) });
const ALERTS_QUERY = q({ state: optional(oneOf(ALERT_STATES)), kind: optional(id('component_lost')), source: optional(id('scheduler')), limit: LIMIT });
const DECISIONS_QUERY = q({ cluster: optional(id('analyzer')), limit: LIMIT, actions: optional(oneOf(['true', 'false'] as const)) });
const ACTIONS_QUERY = q({ cluster: optional(id('analyzer')), limit: LIMIT });
/** A scaling policy's text (see the README's Scheduler section). */
const SOURCE_BODY = object({ source: text({ max: MAX_POLICY_CHARS, multiline: true, example: 'min_size: 1\nmax_size: 4' }) });

const defined = <T extends Record<string, unknown>>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const clusterParam = (ctx: Context): string => {
  const v = ctx.params['cluster'] ?? '';
  if (!NAME.test(v)) throw new ValidationError('cluster', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return v;
};

/** The billing API's audit trail records scaling-policy changes, in the same transaction. */
const auditHook = (ctx: Context, creds: Credentials): PolicyAuditHook => (trx, action, target, before, after) =>
  audit(trx, { creds, requestId: (ctx.state as RequestState).requestId }, action, 'scaling_policy', target, before, after);

/** Mount the routes. `clusters` are the ones the scheduler scales by configuration. */
export function schedulerRoutes(routes: RouteSet, deps: { db: Knex; clusters: readonly string[] }): void {
  const { db } = deps;
  routes.add({
    method: 'GET', path: '/v1/components', rule: 'billing:components:list', summary: 'Registered parts (agents, analyzers, billing-api, schedulers) with their state and latest load (?role&cluster&state)',
    query: COMPONENTS_QUERY,
    parse: (_ctx, { query }) => defined(query),
    handle: async (f) => ({ components: await listComponents(db, f) }),
  });
  routes.add({
    method: 'GET', path: '/v1/alerts', rule: 'billing:alerts:list', summary: 'Alerts, newest first (?state=open|unacknowledged|resolved|all&kind&source&limit)',
    query: ALERTS_QUERY,
    parse: (_ctx, { query }) => ({ ...defined({ kind: query.kind, source: query.source }), state: query.state ?? 'open', ...(query.limit ? { limit: Number(query.limit) } : {}) }),
    handle: async (f) => ({ alerts: await listAlerts(db, f) }),
  });
  routes.add({
    method: 'POST', path: '/v1/alerts/:alert_id/acknowledge', rule: 'billing:alerts:acknowledge', summary: 'Acknowledge an alert (an operator has seen it); audited',
    body: EMPTY_BODY, bodyOptional: true,
    parse: (ctx) => {
      const alertId = ctx.params['alert_id'] ?? '';
      if (!/^\d{1,18}$/.test(alertId)) throw new ValidationError('alert_id', 'must be an alert id (digits)');
      return alertId;
    },
    handle: async (id, c, ctx) => {
      const before = (await db(ALERTS_TABLE).where({ id }).first('acknowledged_at', 'acknowledged_by')) as { acknowledged_at: Date | null; acknowledged_by: string | null } | undefined;
      if (!before) throw new NotFoundError(`alert ${id}`);
      const after = await acknowledgeAlert(db, id, c.user_name ?? c.user_id);
      await audit(db, { creds: c, requestId: (ctx.state as RequestState).requestId }, 'alert.acknowledge', 'alert', id, before, after);
      return { alert: after };
    },
  });
  routes.add({
    method: 'GET', path: '/v1/scheduler/clusters', rule: 'billing:scheduler:get', summary: 'Analyzer clusters: policy in force, members with their load, latest observation and decision',
    parse: () => undefined,
    handle: async () => ({ clusters: await listClusters(db, deps.clusters) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scheduler/decisions', rule: 'billing:scheduler:get', summary: 'The decision log, newest first (?cluster&limit&actions=true)',
    query: DECISIONS_QUERY,
    parse: (_ctx, { query }) => ({ ...defined({ cluster: query.cluster }), ...(query.limit ? { limit: Number(query.limit) } : {}), actionsOnly: query.actions === 'true' }),
    handle: async (f) => ({ decisions: await listDecisions(db, f) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scheduler/actions', rule: 'billing:scheduler:get', summary: "The audit trail of the scheduler's actions: who, why, when, result (?cluster&limit)",
    query: ACTIONS_QUERY,
    parse: (_ctx, { query }) => ({ ...defined({ cluster: query.cluster }), ...(query.limit ? { limit: Number(query.limit) } : {}) }),
    handle: async (f) => ({ actions: await listActions(db, f) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scaling-policies', rule: 'billing:scheduler:get', summary: 'Every live version of every scaling policy',
    parse: () => undefined,
    handle: async () => ({ policies: await listScalingPolicies(db) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scaling-policies/:cluster', rule: 'billing:scheduler:get', summary: "One cluster's scaling policy versions, newest first",
    parse: clusterParam,
    handle: async (cluster) => {
      const versions = await listScalingPolicies(db, cluster);
      if (versions.length === 0) throw new NotFoundError(`scaling policy of cluster ${cluster}`);
      return { cluster, versions };
    },
  });
  routes.add({
    method: 'PUT', path: '/v1/scaling-policies/:cluster', rule: 'billing:scaling_policies:write', summary: "Store a new version of a cluster's scaling policy (validated first)", status: 201,
    body: SOURCE_BODY,
    parse: (ctx, { body }) => ({ cluster: clusterParam(ctx), source: body.source }),
    handle: (input, c, ctx) => addScalingPolicyVersion(db, { ...input, createdBy: c.user_name ?? c.user_id }, auditHook(ctx, c)),
  });
  routes.add({
    method: 'DELETE', path: '/v1/scaling-policies/:cluster', rule: 'billing:scaling_policies:write', summary: "Delete a cluster's scaling policy (versions kept; the default applies again)", status: 204,
    parse: clusterParam,
    handle: async (cluster, c, ctx) => {
      if ((await deleteScalingPolicy(db, cluster, auditHook(ctx, c))) === 0) throw new NotFoundError(`scaling policy of cluster ${cluster}`);
      return undefined;
    },
  });
  routes.add({
    method: 'POST', path: '/v1/scaling-policies/validate', rule: 'billing:scheduler:get', summary: 'Check a scaling policy text: valid, or the field at fault',
    body: SOURCE_BODY,
    parse: (_ctx, { body }) => body.source,
    handle: (text) => {
      const r = checkScalingPolicy(text);
      return Promise.resolve(r.ok ? { valid: true } : { valid: false, field: r.field, message: r.message });
    },
  });
}
