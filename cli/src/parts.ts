/**
 * Opening the shared parts (database, bus) from loaded configuration, each
 * registered with the lifecycle so it is closed in reverse order.
 */
import { resolve } from 'node:path';
import {
  databaseOptions, busOptions, runtimeOptions, openDatabase, openBus, migrate, startEmbeddedPostgres, redactUrl, commonMigrations,
  TallyError, type Bus, type Knex, type LoadedConfig, type Logger,
} from '@tally/common';
import { analyzerMigrations } from '@tally/analyzer';
import { billingMigrations } from '@tally/billing-api';
import { schedulerMigrations } from '@tally/scheduler';
import type { Lifecycle } from './shutdown.js';

/** Every migration of every workspace, applied in name order. */
export const ALL_MIGRATIONS = [...commonMigrations, ...analyzerMigrations, ...schedulerMigrations, ...billingMigrations];

export function dataDir(config: LoadedConfig): string {
  return resolve(config.get(runtimeOptions).dataDir);
}

/**
 * Open PostgreSQL: the configured URL, or (when `allowEmbedded`) an embedded
 * server under the data folder. Migrations are applied before returning.
 */
export async function openDb(config: LoadedConfig, log: Logger, life: Lifecycle, allowEmbedded: boolean): Promise<Knex> {
  return (await openDbWithUrl(config, log, life, allowEmbedded)).db;
}

/** {@link openDb}, with the URL it connected to (the embedded server's when it started one). */
export async function openDbWithUrl(config: LoadedConfig, log: Logger, life: Lifecycle, allowEmbedded: boolean): Promise<{ db: Knex; url: string }> {
  const o = config.get(databaseOptions);
  let url = o.databaseUrl;
  if (url === '') {
    if (!allowEmbedded) throw new TallyError('config_required', 'database-url is required for this command (or run `tally start` for the embedded database)');
    const pg = await startEmbeddedPostgres(dataDir(config), o.embeddedPgPort, log.child('postgres'));
    life.add('embedded PostgreSQL', () => pg.stop());
    url = pg.url;
  }
  const db = openDatabase(url, o.databasePoolMax);
  life.add('database pool', () => db.destroy());
  const applied = await migrate(db, ALL_MIGRATIONS);
  log.info('database ready', { url: redactUrl(url), migrationsApplied: applied.length });
  return { db, url };
}

/** Open the bus; the in-process bus only when the command runs producer and consumer together. */
export async function openBusFor(config: LoadedConfig, log: Logger, life: Lifecycle, allowInProcess: boolean): Promise<Bus> {
  const o = config.get(busOptions);
  if (o.amqpUrl === '' && !allowInProcess) {
    throw new TallyError('config_required', 'amqp-url is required for this command: the in-process bus only connects parts inside one `tally start` process');
  }
  const bus = await openBus(o.amqpUrl, log.child('bus'));
  life.add(`bus (${bus.description})`, () => bus.close());
  log.info('bus ready', { bus: bus.description });
  return bus;
}
