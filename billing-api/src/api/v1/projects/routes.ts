/**
 * `GET /v1/projects` and `GET /v1/projects/:id/charges`. Routes stay thin:
 * parse, authorize by the named rule, call one use case, return its result.
 */
import { listProjects, projectCharges, type ChargesDeps } from '../../../charges.js';
import { isAdmin } from '../../../auth/middleware.js';
import type { AccessPolicy } from '../../../auth/policy.js';
import { formatTotal, Money, sum } from '../../../rating.js';
import { monthStart } from '../../../period.js';
import { ValidationError } from '@tally/common';
import type { RouteSet } from '../route.js';
import { parsePeriodQuery, parseProjectId } from './schemas.js';

/** Mount the projects routes. */
export function projectsRoutes(routes: RouteSet, deps: ChargesDeps, policy: AccessPolicy): void {
  routes.add({
    method: 'GET', path: '/v1/projects', rule: 'billing:projects:list',
    summary: 'Projects with their totals for a period (non-admins: their own project only)',
    parse: (ctx) => parsePeriodQuery(ctx.query),
    handle: async (query, creds) => {
      const list = await listProjects(deps, query);
      if (!isAdmin(policy, creds)) {
        const own = list.projects.find((p) => p.project_id === creds.project_id);
        list.projects = creds.project_id === null ? [] : [own ?? { project_id: creds.project_id, total: formatTotal(sum([])), resources: 0 }];
      }
      return list;
    },
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/charges', rule: 'billing:charges:get',
    summary: "A project's charges for a period: total, per resource, per day",
    target: (ctx) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') }),
    parse: (ctx) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), ...parsePeriodQuery(ctx.query) }),
    handle: (input) => projectCharges(deps, input),
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/usage', rule: 'billing:usage:get',
    summary: "A project's running hours and charges grouped by resource, flavor or day (?group_by&start&end)",
    target: (ctx) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') }),
    parse: (ctx) => {
      const { group_by: groupBy = 'resource', ...rest } = ctx.query;
      if (groupBy !== 'resource' && groupBy !== 'flavor' && groupBy !== 'day') throw new ValidationError('group_by', 'must be one of resource, flavor, day');
      return { projectId: parseProjectId(ctx.params['id'] ?? ''), groupBy, ...parsePeriodQuery(rest) };
    },
    handle: async (input) => {
      const c = await projectCharges(deps, input);
      const groups = new Map<string, { hours: Money; amount: Money }>();
      const add = (key: string, hours: string, amount: string) => {
        const g = groups.get(key) ?? { hours: new Money(0), amount: new Money(0) };
        groups.set(key, { hours: g.hours.plus(hours), amount: g.amount.plus(amount) });
      };
      if (input.groupBy === 'day') for (const d of c.daily) add(d.date, '0', d.amount);
      else for (const r of c.resources) add(input.groupBy === 'flavor' ? (r.flavor ?? '(none)') : r.resource_id, r.hours, r.amount);
      return {
        project_id: c.project_id, period: c.period, currency: c.currency, policy: c.policy, group_by: input.groupBy,
        groups: [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([key, g]) => ({
          key, amount: formatTotal(g.amount), ...(input.groupBy === 'day' ? {} : { hours: g.hours.toFixed() }),
        })),
        total: c.total,
      };
    },
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/forecast', rule: 'billing:forecast:get',
    summary: "A project's month-to-date total and its end-of-month forecast at the same average rate",
    target: (ctx) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') }),
    parse: (ctx) => {
      const extra = Object.keys(ctx.query)[0];
      if (extra !== undefined) throw new ValidationError(extra, 'unknown query parameter (the forecast is always for the current month)');
      return parseProjectId(ctx.params['id'] ?? '');
    },
    handle: async (projectId) => {
      const now = deps.clock();
      const mtd = await projectCharges(deps, { projectId });
      return { project_id: projectId, currency: mtd.currency, policy: mtd.policy, ...forecastMonth(now, mtd.total) };
    },
  });
}

/**
 * A linear forecast: the month-to-date total spread over the time elapsed,
 * extended to the whole UTC month. Exact decimals, rounded like totals.
 */
export function forecastMonth(now: Date, monthToDate: string): { period: { start: string; end: string }; month_to_date: string; forecast: string; elapsed_fraction: string } {
  const start = monthStart(now);
  const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  const elapsed = new Money(now.getTime() - start.getTime());
  const whole = new Money(end.getTime() - start.getTime());
  const forecast = elapsed.isZero() ? new Money(0) : new Money(monthToDate).times(whole).div(elapsed);
  return {
    period: { start: start.toISOString(), end: end.toISOString() },
    month_to_date: monthToDate,
    forecast: formatTotal(forecast),
    elapsed_fraction: elapsed.div(whole).toDecimalPlaces(6).toFixed(),
  };
}
