/**
 * The scheduler's API (admin only): the component registry, alerts and their
 * acknowledgement, the scaled clusters with members and load, the decision log, the
 * audit trail of scaling actions, and scaling policies stored and versioned like pricing
 * policies (validated with the field named; every change audited).
 */
import type { Context } from 'koa';
import { acknowledgeAlert, ALERT_STATES, ALERTS_TABLE, listAlerts, ValidationError, type AlertState, type Knex } from '@tally/common';
import {
  addScalingPolicyVersion, checkScalingPolicy, deleteScalingPolicy, listActions, listClusters, listComponents, listDecisions, listScalingPolicies,
  MAX_POLICY_CHARS, type PolicyAuditHook,
} from '@tally/scheduler';
import { audit } from '../../../audit.js';
import type { Credentials } from '../../../auth/rules.js';
import { NotFoundError, type RequestState } from '../../../http-errors.js';
import { jsonBody, onlyFields, str } from '../body.js';
import type { RouteSet } from '../route.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const ROLES = ['agent', 'analyzer', 'billing-api', 'scheduler'];
const STATES = ['running', 'draining', 'stopped', 'lost'];

function query(ctx: Context, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (!allowed.includes(k)) throw new ValidationError(k, `unknown query parameter (allowed: ${allowed.join(', ')})`);
    if (typeof v !== 'string') throw new ValidationError(k, 'must be given once');
    out[k] = v;
  }
  return out;
}
const choice = (q: Record<string, string>, k: string, choices: readonly string[]): string | undefined => {
  const v = q[k];
  if (v !== undefined && !choices.includes(v)) throw new ValidationError(k, `must be one of ${choices.join(', ')}`);
  return v;
};
const plain = (q: Record<string, string>, k: string): string | undefined => {
  const v = q[k];
  if (v !== undefined && !NAME.test(v)) throw new ValidationError(k, 'must be 1-64 letters, digits, dots, dashes or underscores');
  return v;
};
const limit = (q: Record<string, string>, max: number): number | undefined => {
  const v = q['limit'];
  if (v === undefined) return undefined;
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > max) throw new ValidationError('limit', `must be a whole number from 1 to ${max}`);
  return Number(v);
};
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
    parse: (ctx) => {
      const q = query(ctx, ['role', 'cluster', 'state']);
      return { role: choice(q, 'role', ROLES), cluster: plain(q, 'cluster'), state: choice(q, 'state', STATES) };
    },
    handle: async (f) => ({ components: await listComponents(db, Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined))) }),
  });
  routes.add({
    method: 'GET', path: '/v1/alerts', rule: 'billing:alerts:list', summary: 'Alerts, newest first (?state=open|unacknowledged|resolved|all&kind&source&limit)',
    parse: (ctx) => {
      const q = query(ctx, ['state', 'kind', 'source', 'limit']);
      const l = limit(q, 1000);
      const kind = plain(q, 'kind');
      const source = plain(q, 'source');
      return { state: (choice(q, 'state', ALERT_STATES) ?? 'open') as AlertState, ...(kind ? { kind } : {}), ...(source ? { source } : {}), ...(l ? { limit: l } : {}) };
    },
    handle: async (f) => ({ alerts: await listAlerts(db, f) }),
  });
  routes.add({
    method: 'POST', path: '/v1/alerts/:alert_id/acknowledge', rule: 'billing:alerts:acknowledge', summary: 'Acknowledge an alert (an operator has seen it); audited',
    parse: async (ctx) => {
      const id = ctx.params['alert_id'] ?? '';
      if (!/^\d{1,18}$/.test(id)) throw new ValidationError('alert_id', 'must be an alert id (digits)');
      if (ctx.request.length) onlyFields(await jsonBody(ctx, 1024), []);
      return id;
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
    parse: (ctx) => query(ctx, []),
    handle: async () => ({ clusters: await listClusters(db, deps.clusters) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scheduler/decisions', rule: 'billing:scheduler:get', summary: 'The decision log, newest first (?cluster&limit&actions=true)',
    parse: (ctx) => {
      const q = query(ctx, ['cluster', 'limit', 'actions']);
      const cluster = plain(q, 'cluster');
      const l = limit(q, 1000);
      return { ...(cluster ? { cluster } : {}), ...(l ? { limit: l } : {}), actionsOnly: choice(q, 'actions', ['true', 'false']) === 'true' };
    },
    handle: async (f) => ({ decisions: await listDecisions(db, f) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scheduler/actions', rule: 'billing:scheduler:get', summary: "The audit trail of the scheduler's actions: who, why, when, result (?cluster&limit)",
    parse: (ctx) => {
      const q = query(ctx, ['cluster', 'limit']);
      const cluster = plain(q, 'cluster');
      const l = limit(q, 1000);
      return { ...(cluster ? { cluster } : {}), ...(l ? { limit: l } : {}) };
    },
    handle: async (f) => ({ actions: await listActions(db, f) }),
  });
  routes.add({
    method: 'GET', path: '/v1/scaling-policies', rule: 'billing:scheduler:get', summary: 'Every live version of every scaling policy',
    parse: (ctx) => query(ctx, []),
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
    parse: async (ctx) => {
      const cluster = clusterParam(ctx);
      const b = await jsonBody(ctx);
      onlyFields(b, ['source']);
      return { cluster, source: str(b, 'source', { max: MAX_POLICY_CHARS })! };
    },
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
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['source']);
      return str(b, 'source', { max: MAX_POLICY_CHARS })!;
    },
    handle: (text) => {
      const r = checkScalingPolicy(text);
      return Promise.resolve(r.ok ? { valid: true } : { valid: false, field: r.field, message: r.message });
    },
  });
}
