/**
 * `GET /v1/projects` and `GET /v1/projects/:id/charges`. Routes stay thin:
 * parse, authorize by the named rule, call one use case, return its result.
 */
import { Router } from '@koa/router';
import { listProjects, projectCharges, type ChargesDeps } from '../../../charges.js';
import { formatTotal, sum } from '../../../rating.js';
import { authorize, isAdmin } from '../../../auth/middleware.js';
import type { Policy } from '../../../auth/policy.js';
import { parsePeriodQuery, parseProjectId } from './schemas.js';

/** Mount the projects routes on `router`. */
export function projectsRoutes(router: Router, deps: ChargesDeps, policy: Policy): void {
  router.get('/v1/projects', async (ctx) => {
    const creds = authorize(ctx, policy, 'billing:projects:list');
    const query = parsePeriodQuery(ctx.query);
    const list = await listProjects(deps, query);
    // Non-admins see their own project only (with a zero total when it has no usage yet).
    if (!isAdmin(policy, creds)) {
      const own = list.projects.find((p) => p.project_id === creds.project_id);
      list.projects = creds.project_id === null ? [] : [own ?? { project_id: creds.project_id, total: formatTotal(sum([])), resources: 0 }];
    }
    ctx.body = list;
  });
  router.get('/v1/projects/:id/charges', async (ctx) => {
    const projectId = parseProjectId(ctx.params['id'] ?? '');
    authorize(ctx, policy, 'billing:charges:get', { project_id: projectId });
    ctx.body = await projectCharges(deps, { projectId, ...parsePeriodQuery(ctx.query) });
  });
}
