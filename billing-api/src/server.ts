/**
 * Starting the HTTP server, and the options it reads. The CLI workspace loads
 * the configuration and calls {@link startApi}; nothing here reads globals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineOptions, opt, ValidationError, type OptionValues } from '@tally/common';
import { createApp, type AppDeps } from './app.js';
import { KeystoneValidator } from './auth/keystone.js';
import { loadAccessPolicy } from './auth/policy.js';
import type { RouteSpec } from './api/v1/route.js';

/**
 * billing-api's options. `--host` and `--port` are the API's: it is the only
 * listener a `tally` process has; a later listener takes a prefixed name.
 */
export const apiOptions = defineOptions('api', 'The billing API (Koa HTTP server)', {
  host: opt.string({ name: 'host', default: '127.0.0.1', help: 'Address the billing API listens on. 0.0.0.0 listens on every interface.' }),
  port: opt.int({ name: 'port', default: 8889, min: 0, max: 65535, help: 'TCP port of the billing API (0: any free port).' }),
  authStrategy: opt.enum({
    name: 'auth-strategy',
    default: 'noauth',
    choices: ['noauth', 'keystone'] as const,
    help: 'How API callers are authenticated. keystone: X-Auth-Token validated by Keystone v3. noauth: nobody is checked (laptop only; a loud banner is logged).',
  }),
  keystoneUrl: opt.url({ name: 'keystone-url', default: '', schemes: ['http', 'https'], help: 'Keystone v3 URL, e.g. http://127.0.0.1:5000/v3 (required with auth-strategy keystone).' }),
  keystoneUser: opt.string({ name: 'keystone-user', default: 'billing', help: "billing-api's own Keystone user (needs the admin or service role to validate tokens)." }),
  keystonePassword: opt.string({ name: 'keystone-password', default: '', secret: true, help: "Password of keystone-user." }),
  keystoneProject: opt.string({ name: 'keystone-project', default: 'service', help: 'Project keystone-user scopes its token to.' }),
  keystoneUserDomain: opt.string({ name: 'keystone-user-domain', default: 'Default', help: "Domain name of keystone-user." }),
  keystoneProjectDomain: opt.string({ name: 'keystone-project-domain', default: 'Default', help: 'Domain name of keystone-project.' }),
  tokenCacheTtl: opt.duration({ name: 'token-cache-ttl', default: '5m', minMs: 0, help: 'Longest time a token validation is reused (also bounded by the token expiry). A revoked token is refused at most this long after revocation.' }),
  policyFile: opt.string({ name: 'policy-file', default: '', help: 'YAML policy file overriding the default rules (`tally api-policy sample` prints them). Empty: defaults only.' }),
});

/** The auth parts of {@link AppDeps} from the API options: a Keystone validator and the policy. Throws naming a bad option. */
export function authFromOptions(o: OptionValues<typeof apiOptions>): Pick<AppDeps, 'auth' | 'keystone' | 'keystoneUrl' | 'policy'> {
  const policy = loadAccessPolicy(o.policyFile);
  if (o.authStrategy === 'noauth') return { auth: 'noauth', policy };
  if (o.keystoneUrl === '') throw new ValidationError('keystone-url', 'is required with auth-strategy keystone');
  if (o.keystonePassword === '') throw new ValidationError('keystone-password', 'is required with auth-strategy keystone');
  const keystone = new KeystoneValidator({
    url: o.keystoneUrl, user: o.keystoneUser, password: o.keystonePassword, project: o.keystoneProject,
    userDomain: o.keystoneUserDomain, projectDomain: o.keystoneProjectDomain, cacheTtlMs: o.tokenCacheTtl,
  });
  return { auth: 'keystone', keystone, keystoneUrl: o.keystoneUrl, policy };
}

/** A running API server. */
export interface RunningApi {
  /** Base URL, e.g. http://127.0.0.1:8889 */
  url: string;
  /** Every v1 route with the policy rule it names. */
  routes: readonly RouteSpec[];
  /** Stop accepting connections, close idle and open ones, and wait. Does not close `deps.db`. */
  close(): Promise<void>;
}

/** Build the app and listen. Rejects on a bad auth strategy or a port in use. */
export async function startApi(deps: AppDeps, opts: { host: string; port: number }): Promise<RunningApi> {
  const app = createApp(deps);
  const handle = app.callback();
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  deps.log.info('billing-api listening', { url, auth: deps.auth, ui: deps.uiDir ?? 'not served' });
  return {
    url,
    routes: app.routes,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err) reject(err);
          else app.close().then(resolve, reject);
        });
        server.closeAllConnections();
      }),
  };
}
