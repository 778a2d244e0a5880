/**
 * The auth middleware: turns `X-Auth-Token` into {@link Credentials} on
 * `ctx.state.creds` (or, under noauth, a fixed unauthenticated admin identity),
 * and {@link authorize}, which every route calls with its rule name.
 */
import type { Context, Next } from 'koa';
import type { Credentials, Target } from './rules.js';
import { UnauthenticatedError } from './keystone.js';
import type { AccessPolicy } from './policy.js';

/** How callers are authenticated. */
export type AuthStrategy = 'noauth' | 'keystone';

/** Anything that validates a token (the Keystone validator, or a test double in unit tests). */
export interface TokenValidator {
  validate(token: string): Promise<Credentials>;
}

/**
 * The noauth identity: sees everything (the embedded laptop mode), but is not
 * authenticated, so rules with `authenticated:True` (billing runs, top-ups,
 * invoice changes) still refuse it.
 */
export const NOAUTH_CREDENTIALS: Readonly<Credentials> = Object.freeze({
  user_id: 'noauth',
  user_name: 'noauth',
  project_id: null,
  project_name: null,
  roles: ['admin'],
  authenticated: 'False',
});

/** Koa state set by the auth middleware. */
export interface AuthState {
  creds: Credentials;
}

// Fernet tokens are ~180-250 characters; UUID/JWS tokens are shorter or a bit longer. Anything huge is refused unread.
const MAX_TOKEN = 8192;

/** Authenticate every request that reaches it. `keystoneUrl` goes into 401s' WWW-Authenticate, as keystonemiddleware does. */
export function authMiddleware(strategy: AuthStrategy, validator: TokenValidator | undefined, keystoneUrl = '') {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (strategy === 'noauth') {
      (ctx.state as AuthState).creds = { ...NOAUTH_CREDENTIALS, roles: [...NOAUTH_CREDENTIALS.roles] };
      return next();
    }
    if (!validator) throw new Error('auth-strategy keystone without a validator');
    const token = ctx.get('X-Auth-Token');
    try {
      if (token === '') throw new UnauthenticatedError('X-Auth-Token is required');
      if (token.length > MAX_TOKEN) throw new UnauthenticatedError('X-Auth-Token is too long');
      (ctx.state as AuthState).creds = await validator.validate(token);
    } catch (err) {
      if (err instanceof UnauthenticatedError && keystoneUrl !== '') ctx.set('WWW-Authenticate', `Keystone uri="${keystoneUrl}"`);
      throw err;
    }
    return next();
  };
}

/** Enforce `rule` for the caller on `target`; throws ForbiddenError (403). Returns the credentials. */
export function authorize(ctx: Context, policy: AccessPolicy, rule: string, target: Target = {}): Credentials {
  const creds = (ctx.state as Partial<AuthState>).creds;
  if (!creds) throw new UnauthenticatedError('not authenticated');
  policy.enforce(rule, creds, target);
  return creds;
}

/** Does the caller hold the admin rule (sees every project)? */
export function isAdmin(policy: AccessPolicy, creds: Credentials): boolean {
  return policy.allows('admin', creds, {});
}
