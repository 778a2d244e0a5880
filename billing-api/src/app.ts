/**
 * The Koa application: error shape and request ids, `/healthcheck`, the v1
 * routes, and (optionally) the UI's static files at `/`.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import { UnavailableError, type Knex, type Logger } from '@tally/common';
import { projectsRoutes } from './api/v1/projects/routes.js';
import { errorMiddleware, type RequestState } from './http-errors.js';
import { serveStatic } from './static-files.js';

/** How callers are authenticated. Only `noauth` exists yet; Keystone comes next. */
export type AuthStrategy = 'noauth';

/** Everything the app needs, passed in (no globals). */
export interface AppDeps {
  db: Knex;
  log: Logger;
  /** Injectable clock; default: the wall clock. */
  clock?: () => Date;
  auth: AuthStrategy;
  /** Folder of the built UI (from `@tally/horizon-panel`'s `uiDir()`); served at `/` when given. */
  uiDir?: string;
}

const NOAUTH_BANNER = [
  '*****************************************************************************',
  '*  WARNING: billing-api is running with auth-strategy=noauth.                *',
  '*  EVERY caller can read EVERY project\'s charges. No Keystone token is       *',
  '*  checked. Use this only on a laptop or a trusted, isolated network.        *',
  '*****************************************************************************',
];

/** Build the Koa app. */
export function createApp(deps: AppDeps): Koa {
  for (const line of NOAUTH_BANNER) deps.log.warn(line);

  const clock = deps.clock ?? (() => new Date());
  const app = new Koa();
  app.proxy = false;
  // Errors are answered by errorMiddleware; Koa's default handler would print them a second time.
  app.silent = true;
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
  projectsRoutes(router, { db: deps.db, clock });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  if (deps.uiDir !== undefined) app.use(serveStatic(deps.uiDir));
  app.on('error', (err: unknown) => deps.log.error('unhandled koa error', { err }));
  return app;
}
