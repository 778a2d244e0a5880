/**
 * Declaring a v1 route: method, path, the policy rule it names, how the rule's
 * target is found, and the schemas of its body and query. Every route goes
 * through {@link RouteSet.add}, so none can skip authorization or validation,
 * and the list of routes (for the OpenAPI document, the auth-matrix test and
 * the API fuzz test) is complete by construction.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '@tally/common';
import { authorize } from '../../auth/middleware.js';
import type { AccessPolicy } from '../../auth/policy.js';
import type { Credentials, Target } from '../../auth/rules.js';
import { BODY_LIMIT, hasBody, jsonBody, yamlBody } from './body.js';
import { checkText, type JsonSchema, type Schema } from './schema.js';

/** HTTP methods the API uses. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route as documented: `path` in Koa syntax (`/v1/projects/:id/charges`). */
export interface RouteSpec {
  method: Method;
  path: string;
  rule: string;
  summary: string;
  /** Status of a successful answer, when the route declares one. */
  status?: number;
  /** JSON Schema of the body; absent when the route takes none. */
  body?: JsonSchema;
  /** The body may be left out (it is then `{}`). */
  bodyOptional?: boolean;
  /** Media types of the body (default JSON only). */
  bodyTypes?: string[];
  /** JSON Schema (an object) of the query parameters; absent when the route takes none. */
  query?: JsonSchema;
}

/** The handler gets the authorized caller; `target` is what the rule is checked against. */
export interface RouteDef<T, B = undefined, Q = undefined> extends Omit<RouteSpec, 'body' | 'query' | 'bodyTypes'> {
  /**
   * The rule's target (e.g. `{project_id}`), from the path only: authorization comes
   * before the query and body are read, so a caller who may not call the route
   * learns nothing from validation errors.
   */
  target?: (ctx: Context) => Target | Promise<Target>;
  /** The body's schema (validated before `parse`). */
  body?: Schema<B>;
  /** Also accept the body as YAML (`application/yaml`). */
  yaml?: boolean;
  /** Body size limit in bytes (default {@link BODY_LIMIT}). */
  bodyLimit?: number;
  /** The query's schema (an object schema of strings); without one, any query parameter is refused. */
  query?: Schema<Q>;
  /** Turn the path, the checked body and query into the handler's input (throws ValidationError naming the field). */
  parse: (ctx: Context, req: { body: B; query: Q }) => T | Promise<T>;
  handle: (input: T, creds: Credentials, ctx: Context) => Promise<unknown>;
}

/** The query as a plain object of strings: a repeated parameter or one holding NUL is refused, naming it. */
export function queryObject(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    checkText(k, 'query');
    if (Array.isArray(v)) throw new ValidationError(k, 'may be given only once');
    checkText(v ?? '', k);
    out[k] = v ?? '';
  }
  return out;
}

/** The routes of one app, with their specs kept for documentation and tests. */
export class RouteSet {
  readonly specs: RouteSpec[] = [];

  constructor(private readonly router: Router, private readonly policy: AccessPolicy) {}

  /** Mount one route. */
  add<T, B = undefined, Q = undefined>(def: RouteDef<T, B, Q>): void {
    const { method, path, rule, summary, status, bodyOptional } = def;
    this.specs.push({
      method, path, rule, summary, ...(status === undefined ? {} : { status }),
      ...(def.body ? { body: def.body.json, bodyTypes: def.yaml ? ['application/json', 'application/yaml'] : ['application/json'] } : {}),
      ...(bodyOptional ? { bodyOptional } : {}),
      ...(def.query ? { query: def.query.json } : {}),
    });
    const limit = def.bodyLimit ?? BODY_LIMIT;
    const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    this.router[m](path, async (ctx: Context) => {
      const target = def.target ? await def.target(ctx) : {};
      const creds = authorize(ctx, this.policy, rule, target);
      const q = queryObject(ctx);
      let query = undefined as Q;
      if (def.query) query = def.query.parse(q, '');
      else {
        const extra = Object.keys(q)[0];
        if (extra !== undefined) throw new ValidationError(extra.slice(0, 64), 'unknown query parameter (this route takes none)');
      }
      let body = undefined as B;
      if (def.body) {
        const raw = bodyOptional && !hasBody(ctx) ? {} : def.yaml && ctx.is('application/yaml', 'application/x-yaml', 'text/yaml') ? await yamlBody(ctx, limit) : await jsonBody(ctx, limit);
        body = def.body.parse(raw, '');
      }
      const input = await def.parse(ctx, { body, query });
      const answer = await def.handle(input, creds, ctx);
      if (answer !== undefined) ctx.body = answer;
      ctx.status = def.status ?? 200;
    });
  }
}
