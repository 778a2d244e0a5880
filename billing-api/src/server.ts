/**
 * Starting the HTTP server, and the options it reads. The CLI workspace loads
 * the configuration and calls {@link startApi}; nothing here reads globals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineOptions, opt } from '@tally/common';
import { createApp, type AppDeps } from './app.js';

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
    choices: ['noauth'] as const,
    help: 'How API callers are authenticated. noauth: nobody is checked (laptop only; a loud banner is logged). Keystone tokens arrive with the API work.',
  }),
});

/** A running API server. */
export interface RunningApi {
  /** Base URL, e.g. http://127.0.0.1:8889 */
  url: string;
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
