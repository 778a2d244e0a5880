/**
 * The one error shape of the API and the middleware that produces it:
 * `{"error": {"code", "message", "field"?, "request_id"}}`, with the request id
 * also in the `X-Request-Id` header. 5xx bodies stay generic; details go to the log.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { TallyError, UnavailableError, ValidationError, type Logger } from '@tally/common';
import type { ErrorBody } from './wire.js';
import { UnauthenticatedError } from './auth/keystone.js';
import { ForbiddenError } from './auth/policy.js';

/** Header carrying the request id, on every response. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

export type { ErrorBody } from './wire.js';

/** A route or file that does not exist. */
export class NotFoundError extends TallyError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

/** A write that conflicts with existing data or state (409), naming the field. */
export class ConflictError extends TallyError {
  constructor(field: string, message: string) {
    super('conflict', message, { field });
  }
}

/** A method the route does not serve: 405, with the methods it does in `Allow`. */
export class MethodNotAllowedError extends TallyError {
  constructor(method: string, allow: string) {
    super('method_not_allowed', `${method} is not allowed here (allowed: ${allow || 'none'})`);
  }
}

// An incoming id is echoed only if it is short and plain, so it cannot inject into logs or headers.
const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Koa state that this middleware sets. */
export interface RequestState {
  requestId: string;
}

/** Map an error to a status, a stable code and a message safe to show the caller. */
export function describeError(err: unknown): { status: number; code: string; message: string; field?: string; expose: boolean } {
  if (err instanceof ValidationError) return { status: 400, code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), expose: true };
  if (err instanceof UnauthenticatedError) return { status: 401, code: err.code, message: err.message, expose: true };
  if (err instanceof ForbiddenError) return { status: 403, code: err.code, message: err.message, expose: true };
  // usage_invalid: the project's stored usage cannot be rated; the message says which records and why.
  if (err instanceof TallyError && (err.code === 'conflict' || err.code === 'usage_invalid')) return { status: 409, code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), expose: true };
  if (err instanceof TallyError && err.code === 'payload_too_large') return { status: 413, code: err.code, message: err.message, field: 'body', expose: true };
  if (err instanceof TallyError && err.code === 'unsupported_media_type') return { status: 415, code: err.code, message: err.message, field: 'body', expose: true };
  if (err instanceof NotFoundError) return { status: 404, code: err.code, message: err.message, expose: true };
  if (err instanceof MethodNotAllowedError) return { status: 405, code: err.code, message: err.message, expose: true };
  if (err instanceof TallyError) {
    if (err.code === 'no_pricing_policy') return { status: 503, code: err.code, message: err.message, expose: true };
    // UnavailableError messages are written by us as "<dependency>: <state>", safe to show.
    if (err instanceof UnavailableError) return { status: 503, code: err.code, message: `${err.message}; retry later`, expose: true };
    if (err.transient) return { status: 503, code: 'unavailable', message: 'a dependency is unavailable; retry later', expose: false };
    return { status: 500, code: 'internal_error', message: 'internal error; the request id identifies it in the server log', expose: false };
  }
  // http-errors from Koa itself (e.g. 405, 413, a malformed URL); only client errors are shown.
  const status = typeof (err as { status?: unknown })?.status === 'number' ? (err as { status: number }).status : 500;
  if (status >= 400 && status < 500 && (err as { expose?: boolean }).expose) {
    return { status, code: status === 405 ? 'method_not_allowed' : 'bad_request', message: (err as Error).message, expose: true };
  }
  if (status === 501) return { status, code: 'not_implemented', message: 'method not implemented', expose: false };
  return { status: 500, code: 'internal_error', message: 'internal error; the request id identifies it in the server log', expose: false };
}

/** Assign a request id, log each request, and turn every thrown error into the one error shape. */
export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const requestId = SAFE_ID.test(incoming) ? incoming : randomUUID();
    (ctx.state as RequestState).requestId = requestId;
    ctx.set(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new NotFoundError(`${ctx.method} ${ctx.path}`);
      // The routers answer 405 with the Allow header set; give it the one error shape, keeping the header.
      if (ctx.status === 405 && ctx.body === undefined) throw new MethodNotAllowedError(ctx.method, ctx.response.get('Allow'));
    } catch (err) {
      const d = describeError(err);
      const body: ErrorBody = { error: { code: d.code, message: d.message, ...(d.field ? { field: d.field } : {}), request_id: requestId } };
      ctx.status = d.status;
      ctx.body = body;
      ctx.set(REQUEST_ID_HEADER, requestId);
      if (d.status >= 500) log.error('request failed', { requestId, method: ctx.method, path: ctx.path, err, stack: (err as Error)?.stack });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    log.debug('request', { requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms });
  };
}
