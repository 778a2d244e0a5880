/**
 * `GET /v1/projects` and `GET /v1/projects/:id/charges`. Routes stay thin:
 * parse, call one use case, return its result.
 */
import { Router } from '@koa/router';
import { listProjects, projectCharges, type ChargesDeps } from '../../../charges.js';
import { parsePeriodQuery, parseProjectId } from './schemas.js';

/** Mount the projects routes on `router`. */
export function projectsRoutes(router: Router, deps: ChargesDeps): void {
  router.get('/v1/projects', async (ctx) => {
    ctx.body = await listProjects(deps, parsePeriodQuery(ctx.query));
  });
  router.get('/v1/projects/:id/charges', async (ctx) => {
    const projectId = parseProjectId(ctx.params['id'] ?? '');
    ctx.body = await projectCharges(deps, { projectId, ...parsePeriodQuery(ctx.query) });
  });
}
