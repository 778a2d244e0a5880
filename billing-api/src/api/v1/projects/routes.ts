/**
 * `GET /v1/projects` and `GET /v1/projects/:id/charges`. Routes stay thin:
 * parse, authorize by the named rule, call one use case, return its result.
 */
import { listProjects, projectCharges, type ChargesDeps } from '../../../charges.js';
import { isAdmin } from '../../../auth/middleware.js';
import type { AccessPolicy } from '../../../auth/policy.js';
import { formatTotal, sum } from '../../../rating.js';
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
}
