/**
 * The Koa application: error shape and request ids, `/healthcheck`, the v1
 * routes, and (optionally) the UI's static files at `/`.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import { UnavailableError, type Knex, type Logger } from '@tally/common';
import { projectsRoutes } from './api/v1/projects/routes.js';
import { errorMiddleware, type RequestState } from './http-errors.js';
import { authMiddleware, type AuthStrategy, type TokenValidator } from './auth/middleware.js';
import { AccessPolicy } from './auth/policy.js';
import { serveStatic } from './static-files.js';
import { RouteSet, type RouteSpec } from './api/v1/route.js';
import { policyRoutes } from './api/v1/policies/routes.js';
import { projectInvoiceRoutes } from './api/v1/projects/invoices.js';
import { Metrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { accountRoutes } from './api/v1/accounts/routes.js';
import { modeRoutes } from './api/v1/modes/routes.js';
import { schedulerRoutes } from './api/v1/scheduler/routes.js';

export type { AuthStrategy } from './auth/middleware.js';

/** Everything the app needs, passed in (no globals). */
export interface AppDeps {
  db: Knex;
  log: Logger;
  /** Injectable clock; default: the wall clock. */
  clock?: () => Date;
  auth: AuthStrategy;
  /** Validates `X-Auth-Token` (required when `auth` is `keystone`). */
  keystone?: TokenValidator;
  /** Keystone's URL, for 401s' `WWW-Authenticate`. */
  keystoneUrl?: string;
  /** The policy (default: the defaults in code). */
  policy?: AccessPolicy;
  /** Folder of the built UI (from `@tally/horizon-panel`'s `uiDir()`); served at `/` when given. */
  uiDir?: string;
  /** Analyzer clusters the scheduler scales by configuration (shown even before any registers); default `analyzer`. */
  schedulerClusters?: readonly string[];
}

const NOAUTH_BANNER = [
  '*****************************************************************************',
  '*  WARNING: billing-api is running with auth-strategy=noauth.                *',
  '*  EVERY caller can read EVERY project\'s charges. No Keystone token is       *',
  '*  checked. Use this only on a laptop or a trusted, isolated network.        *',
  '*****************************************************************************',
];

/** The Koa app with the list of its v1 routes (method, path, rule). */
export type TallyApp = Koa & { routes: readonly RouteSpec[] };

/** Build the Koa app. */
export function createApp(deps: AppDeps): TallyApp {
  if (deps.auth === 'noauth') for (const line of NOAUTH_BANNER) deps.log.warn(line);
  else if (deps.auth === 'keystone' && !deps.keystone) throw new Error('auth-strategy keystone needs a token validator');
  const policy = deps.policy ?? new AccessPolicy();

  const clock = deps.clock ?? (() => new Date());
  const app = new Koa();
  app.proxy = false;
  // Errors are answered by errorMiddleware; Koa's default handler would print them a second time.
  app.silent = true;
  const metrics = new Metrics();
  if (deps.keystone && 'stats' in deps.keystone) {
    const stats = (deps.keystone as { stats: { validations: number; cacheHits: number; serviceTokens: number } }).stats;
    metrics.gauge('tally_api_keystone_validations_total', 'Token validations sent to Keystone.', () => stats.validations);
    metrics.gauge('tally_api_keystone_cache_hits_total', 'Token validations answered from the cache.', () => stats.cacheHits);
    metrics.gauge('tally_api_keystone_service_tokens_total', 'Service tokens issued.', () => stats.serviceTokens);
  }
  app.use(metrics.middleware());
  app.use(errorMiddleware(deps.log));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  const router = new Router();
  router.get('/healthcheck', async (ctx) => {
    try {
      await deps.db.raw('SELECT 1');
    } catch (err) {
      deps.log.warn('healthcheck: database unreachable', { err, requestId: (ctx.state as RequestState).requestId });
      throw new UnavailableError('database', 'unreachable', err);
    }
    ctx.body = { status: 'ok', checks: { database: 'ok' } };
  });
  router.get('/metrics', (ctx) => {
    ctx.type = 'text/plain; version=0.0.4';
    ctx.body = metrics.render();
  });
  let openapi: Record<string, unknown> | undefined;
  router.get('/v1/openapi.json', (ctx) => {
    openapi ??= openApiDocument((app as TallyApp).routes, '1');
    ctx.body = openapi;
  });
  app.use(router.routes());
  // Everything under /v1 is authenticated; /healthcheck and the page are not.
  const authenticate = authMiddleware(deps.auth, deps.keystone, deps.keystoneUrl);
  app.use(async (ctx, next) => {
    // Normalised so that no spelling of a /v1 path (case, doubled slashes) skips authentication.
    const p = ctx.path.toLowerCase().replace(/\/+/g, '/');
    return p === '/v1' || p.startsWith('/v1/') ? authenticate(ctx, next) : next();
  });
  const v1 = new Router({ sensitive: true });
  const routes = new RouteSet(v1, policy);
  projectsRoutes(routes, { db: deps.db, clock }, policy);
  policyRoutes(routes, { db: deps.db, clock });
  accountRoutes(routes, { db: deps.db, log: deps.log, clock, policy });
  projectInvoiceRoutes(routes, { db: deps.db });
  modeRoutes(routes, { db: deps.db, clock });
  schedulerRoutes(routes, { db: deps.db, clusters: deps.schedulerClusters ?? ['analyzer'] });
  (app as TallyApp).routes = routes.specs;
  app.use(v1.routes());
  app.use(v1.allowedMethods({ throw: true }));
  app.use(router.allowedMethods({ throw: true }));
  if (deps.uiDir !== undefined) app.use(serveStatic(deps.uiDir));
  app.on('error', (err: unknown) => deps.log.error('unhandled koa error', { err }));
  return app as TallyApp;
}
