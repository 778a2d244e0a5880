/**
 * The Koa application: error shape and request ids, `/healthcheck`, the v1
 * routes, and (optionally) the UI's static files at `/`.
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import { TallyError, UnavailableError, type Knex, type Logger } from '@tally/common';
import { projectsRoutes } from './api/v1/projects/routes.js';
import { errorMiddleware, type RequestState } from './http-errors.js';
import { serveStatic } from './static-files.js';

/** How callers are authenticated. Only `noauth` exists yet; Keystone comes next. */
export type AuthStrategy = 'noauth' | 'keystone';

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

/** The strategy is not available: fail at start-up with a message that says what to do. */
export class AuthNotImplementedError extends TallyError {
  constructor(strategy: string) {
    super('auth_not_implemented', `auth-strategy=${strategy} is not implemented yet; start with --auth-strategy noauth (unauthenticated, for a trusted network only)`, { field: 'auth-strategy' });
  }
}

const NOAUTH_BANNER = [
  '*****************************************************************************',
  '*  WARNING: billing-api is running with auth-strategy=noauth.                *',
  '*  EVERY caller can read EVERY project\'s charges. No Keystone token is       *',
  '*  checked. Use this only on a laptop or a trusted, isolated network.        *',
  '*****************************************************************************',
];

/** Build the Koa app. Throws {@link AuthNotImplementedError} for `keystone` (not built yet). */
export function createApp(deps: AppDeps): Koa {
  if (deps.auth !== 'noauth') throw new AuthNotImplementedError(deps.auth);
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
