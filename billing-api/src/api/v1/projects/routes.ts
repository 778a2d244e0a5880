/**
 * `GET /v1/projects` and `GET /v1/projects/:id/charges`. Routes stay thin:
 * parse, authorize by the named rule, call one use case, return its result.
 */
import { listProjects, projectCharges, type ChargesDeps } from '../../../charges.js';
import { isAdmin } from '../../../auth/middleware.js';
import type { AccessPolicy } from '../../../auth/policy.js';
import { formatTotal, Money, sum } from '../../../rating.js';
import { monthStart } from '../../../period.js';
import type { RouteSet } from '../route.js';
import { parseProjectId, PERIOD_QUERY, USAGE_QUERY } from './schemas.js';

/** Mount the projects routes. */
export function projectsRoutes(routes: RouteSet, deps: ChargesDeps, policy: AccessPolicy): void {
  routes.add({
    method: 'GET', path: '/v1/projects', rule: 'billing:projects:list',
    summary: 'Projects with their totals for a period (non-admins: their own project only)',
    query: PERIOD_QUERY,
    parse: (_ctx, { query }) => query,
    handle: async (query, creds) => {
      const list = await listProjects(deps, query);
      if (!isAdmin(policy, creds)) {
        // A non-admin learns nothing about other projects, not even that theirs cannot be rated.
        const own = list.projects.find((p) => p.project_id === creds.project_id);
        const unrated = list.unrated.filter((u) => u.project_id === creds.project_id);
        list.unrated = unrated;
        list.projects = creds.project_id === null || unrated.length > 0 ? [] : [own ?? { project_id: creds.project_id, total: formatTotal(sum([])), resources: 0 }];
      }
      return list;
    },
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/charges', rule: 'billing:charges:get',
    summary: "A project's charges for a period: total, per resource, per day",
    target: (ctx) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') }),
    query: PERIOD_QUERY,
    parse: (ctx, { query }) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), ...query }),
    handle: (input) => projectCharges(deps, input),
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/usage', rule: 'billing:usage:get',
    summary: "A project's running hours and charges grouped by resource, flavor or day (?group_by&start&end)",
    target: (ctx) => ({ project_id: parseProjectId(ctx.params['id'] ?? '') }),
    query: USAGE_QUERY,
    parse: (ctx, { query: { group_by: groupBy = 'resource', start, end } }) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), groupBy, start, end }),
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
    // No query: the forecast is always for the current month.
    parse: (ctx) => parseProjectId(ctx.params['id'] ?? ''),
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
