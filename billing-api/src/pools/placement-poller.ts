/**
 * The Placement poller: every `placement-interval`, for each Placement-fed pool,
 * resolve its resource providers, read their inventories and usages, and store
 * the free capacity per class and the scarcest fraction (the series the dynamic
 * mode prices with). When Placement cannot be read, the last reading is kept,
 * the failure is recorded with the reading's age, and an alert is raised (it is
 * resolved by the next good reading); rating stops using a reading once it is
 * `placement-max-age` old (see placement-bound.ts).
 */
import { defineOptions, opt, raiseAlert, resolveAlert, ValidationError, type Knex, type Logger, type OptionValues } from '@tally/common';
import type { apiOptions } from '../server.js';
import { DEFAULT_CLASSES, poolCapacity } from './placement-capacity.js';
import { OpenStackSession } from './openstack-session.js';
import { PlacementReader } from './placement-reader.js';
import { parsePlacementPools, type PlacementPool } from './placement-spec.js';
import { claimPoll, recordFailure, recordReading, registerPlacementPools } from './placement-store.js';

export const placementOptions = defineOptions('placement', "Pools' free capacity read from OpenStack Placement (seed 001's dynamic mode)", {
  placementPools: opt.string({
    name: 'placement-pools',
    default: '',
    help: 'Pools fed by Placement, separated by ";": name=aggregate:<uuid or Nova aggregate name>, name=az:<availability zone>, or name=providers:<uuid or name>,<...>. Empty: no poller (pools are fed through POST /v1/pools/{name}/capacity).',
  }),
  placementInterval: opt.duration({ name: 'placement-interval', default: '5m', minMs: 1000, help: 'How often each pool is read from Placement.' }),
  placementMaxAge: opt.duration({
    name: 'placement-max-age',
    default: '15m',
    minMs: 1000,
    help: 'A Placement reading prices usage for at most this long: with no newer reading (Placement unreachable), dynamic lines pay the on-demand price and say so. Keep it a few placement-intervals long.',
  }),
  placementClasses: opt.string({ name: 'placement-classes', default: DEFAULT_CLASSES.join(','), pattern: /^[A-Z0-9_]+(,[A-Z0-9_]+)*$/, help: "Resource classes read; a pool's free capacity is the scarcest class's free fraction." }),
  placementScope: opt.enum({
    name: 'placement-scope',
    default: 'project',
    choices: ['project', 'system'] as const,
    help: "The poller's token: project-scoped (placement-keystone-project; an admin reads Placement by its legacy rule and resolves az: and aggregate names through Nova) or system-scoped (a reader on the system scope, as Placement's new defaults ask; aggregate uuids and provider lists only).",
  }),
  placementKeystoneUser: opt.string({ name: 'placement-keystone-user', default: '', help: 'Keystone user of the poller. Empty: keystone-user.' }),
  placementKeystonePassword: opt.string({ name: 'placement-keystone-password', default: '', secret: true, help: 'Its password. Empty: keystone-password.' }),
  placementKeystoneProject: opt.string({ name: 'placement-keystone-project', default: '', help: 'Project of a project-scoped token. Empty: keystone-project.' }),
  placementInterface: opt.enum({ name: 'placement-interface', default: 'public', choices: ['public', 'internal', 'admin'] as const, help: 'Catalog interface of the Placement and compute endpoints.' }),
  placementUrl: opt.url({ name: 'placement-url', default: '', schemes: ['http', 'https'], help: "Placement's URL. Empty: from the token's catalog (type placement)." }),
  placementComputeUrl: opt.url({ name: 'placement-compute-url', default: '', schemes: ['http', 'https'], help: "Nova's URL (for az: and aggregate names). Empty: from the catalog (type compute)." }),
  placementTimeout: opt.duration({ name: 'placement-timeout', default: '10s', minMs: 100, help: 'Per-request timeout of Keystone, Placement and Nova calls.' }),
});

/** What the poller needs, resolved from the options. */
export interface PollerConfig {
  pools: PlacementPool[];
  intervalMs: number;
  maxAgeMs: number;
  classes: string[];
}

/** The outcome of one pool in one tick. */
export type PollOutcome =
  | { pool: string; ok: true; free: string; scarcest: string; providers: number }
  | { pool: string; ok: false; error: string; lastOkAt: Date | null }
  | { pool: string; skipped: true };

export interface PollerDeps {
  db: Knex;
  log: Logger;
  /** Where providers are read: a PlacementReader (tests inject their own). */
  reader: Pick<PlacementReader, 'providers' | 'read'>;
  clock?: () => Date;
}

/** Read every pool once (each claimed by one replica per interval); never throws for one pool's failure. */
export async function pollOnce(deps: PollerDeps, cfg: PollerConfig): Promise<PollOutcome[]> {
  const now = (deps.clock ?? (() => new Date()))();
  const out: PollOutcome[] = [];
  for (const pool of cfg.pools) {
    if (!(await claimPoll(deps.db, pool.name, now, cfg.intervalMs))) {
      out.push({ pool: pool.name, skipped: true });
      continue;
    }
    const key = `placement-unreachable:${pool.name}`;
    try {
      const providers = await deps.reader.providers(pool);
      if (providers.length === 0) throw new ValidationError('providers', `pool ${pool.name} (${pool.spec}) has no resource providers`);
      const reading = poolCapacity(await deps.reader.read(providers), cfg.classes);
      await recordReading(deps.db, pool.name, now, reading, providers);
      await resolveAlert(deps.db, key, now);
      out.push({ pool: pool.name, ok: true, free: reading.free, scarcest: reading.scarcest, providers: providers.length });
    } catch (e) {
      const error = (e as Error).message;
      const row = await recordFailure(deps.db, pool.name, now, error);
      const lastOkAt = row?.last_ok_at ?? null;
      const ageS = lastOkAt === null ? null : Math.round((now.getTime() - lastOkAt.getTime()) / 1000);
      const stale = ageS === null || ageS * 1000 >= cfg.maxAgeMs;
      const kept = lastOkAt === null ? 'no reading yet' : `the last reading (${lastOkAt.toISOString()}, ${ageS} s old) is kept`;
      await raiseAlert(deps.db, {
        key, kind: 'placement_unreachable', severity: stale ? 'critical' : 'warning', source: 'billing-api',
        message: `Placement could not be read for pool ${pool.name}: ${error}; ${kept}; ${stale ? 'dynamic lines now pay the on-demand price' : `dynamic lines pay on-demand once it is ${cfg.maxAgeMs / 1000} s old`}.`,
        details: { pool: pool.name, spec: pool.spec, error, last_ok_at: lastOkAt?.toISOString() ?? null, age_seconds: ageS, max_age_seconds: cfg.maxAgeMs / 1000, failures: row?.failures ?? null },
      }, now);
      deps.log.warn('placement reading failed', { pool: pool.name, error, lastOkAt, ageS });
      out.push({ pool: pool.name, ok: false, error, lastOkAt });
    }
  }
  return out;
}

/** The poller's configuration and session from the options (billing-api's Keystone user by default); undefined without pools. */
export function placementFromOptions(p: OptionValues<typeof placementOptions>, api: OptionValues<typeof apiOptions>): { cfg: PollerConfig; reader: PlacementReader } | undefined {
  const pools = parsePlacementPools(p.placementPools);
  if (pools.length === 0) return undefined;
  if (p.placementMaxAge < p.placementInterval) throw new ValidationError('placement-max-age', 'must be at least placement-interval');
  if (api.keystoneUrl === '') throw new ValidationError('keystone-url', 'is required to read Placement (placement-pools is set)');
  const password = p.placementKeystonePassword || api.keystonePassword;
  if (password === '') throw new ValidationError('placement-keystone-password', 'is required to read Placement (or keystone-password)');
  const session = new OpenStackSession({
    keystoneUrl: api.keystoneUrl, user: p.placementKeystoneUser || api.keystoneUser, password, userDomain: api.keystoneUserDomain,
    project: p.placementScope === 'system' ? '' : p.placementKeystoneProject || api.keystoneProject, projectDomain: api.keystoneProjectDomain,
    interface: p.placementInterface, timeoutMs: p.placementTimeout,
  });
  return {
    cfg: { pools, intervalMs: p.placementInterval, maxAgeMs: p.placementMaxAge, classes: p.placementClasses.split(',') },
    reader: new PlacementReader(session, { placementUrl: p.placementUrl, computeUrl: p.placementComputeUrl }),
  };
}

/** Register the pools, read them now and every interval; resolves to a stop function that waits for a tick in flight. */
export async function startPlacementPoller(deps: PollerDeps, cfg: PollerConfig): Promise<() => Promise<void>> {
  await registerPlacementPools(deps.db, cfg.pools, Math.ceil(cfg.maxAgeMs / 1000));
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = running.then(() => pollOnce(deps, cfg)).catch((e: unknown) => deps.log.error('placement poll failed', { error: e }));
  };
  tick();
  const timer = setInterval(tick, cfg.intervalMs);
  timer.unref();
  deps.log.info('placement poller started', { pools: cfg.pools.map((p) => `${p.name}=${p.spec}`), intervalMs: cfg.intervalMs, maxAgeMs: cfg.maxAgeMs });
  return async () => {
    clearInterval(timer);
    await running;
  };
}
