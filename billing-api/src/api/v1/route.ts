/**
 * Declaring a v1 route: method, path, the policy rule it names and how the
 * rule's target is found. Every route goes through {@link RouteSet.add}, so
 * none can skip authorization, and the list of routes (for the OpenAPI
 * document and the auth-matrix test) is complete by construction.
 */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import { authorize } from '../../auth/middleware.js';
import type { AccessPolicy } from '../../auth/policy.js';
import type { Credentials, Target } from '../../auth/rules.js';

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
}

/** The handler gets the authorized caller; `target` is what the rule is checked against. */
export interface RouteDef<T> extends RouteSpec {
  /**
   * The rule's target (e.g. `{project_id}`), from the path only: authorization comes
   * before the query and body are read, so a caller who may not call the route
   * learns nothing from validation errors.
   */
  target?: (ctx: Context) => Target | Promise<Target>;
  /** Parse the request into the handler's input (throws ValidationError naming the field). */
  parse: (ctx: Context) => T | Promise<T>;
  handle: (input: T, creds: Credentials, ctx: Context) => Promise<unknown>;
}

/** The routes of one app, with their specs kept for documentation and tests. */
export class RouteSet {
  readonly specs: RouteSpec[] = [];

  constructor(private readonly router: Router, private readonly policy: AccessPolicy) {}

  /** Mount one route. */
  add<T>(def: RouteDef<T>): void {
    const { method, path, rule, summary, status } = def;
    this.specs.push({ method, path, rule, summary, ...(status === undefined ? {} : { status }) });
    const m = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    this.router[m](path, async (ctx: Context) => {
      const target = def.target ? await def.target(ctx) : {};
      const creds = authorize(ctx, this.policy, rule, target);
      const input = await def.parse(ctx);
      const body = await def.handle(input, creds, ctx);
      if (body !== undefined) ctx.body = body;
      ctx.status = def.status ?? 200;
    });
  }
}
