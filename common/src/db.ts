/**
 * PostgreSQL through knex + pg. Each workspace owns the migrations of its own
 * tables and exports them as a `Migration[]`; the process that opens the
 * database runs all of them, in name order (names start with a UTC timestamp).
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { defineOptions, opt } from './config.js';

// bigint (int8) and numeric stay strings: never round money or counters through a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => v);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => v);

export type { Knex };

export const databaseOptions = defineOptions('database', 'PostgreSQL, where usage, policies and bills are kept', {
  databaseUrl: opt.url({
    name: 'database-url',
    default: '',
    schemes: ['postgres', 'postgresql'],
    help: 'PostgreSQL connection URL, e.g. postgres://tally:secret@127.0.0.1:5432/tally. Empty: start an embedded PostgreSQL under the data folder (embedded mode).',
    secret: true,
  }),
  embeddedPgPort: opt.int({
    name: 'embedded-pg-port',
    default: 54329,
    min: 1024,
    max: 65535,
    help: 'TCP port (on 127.0.0.1) for the embedded PostgreSQL started when no database URL is given.',
  }),
  databasePoolMax: opt.int({ name: 'database-pool-max', default: 10, min: 1, max: 200, help: 'Most connections each process keeps open.' }),
});

/** A migration: `name` begins with a UTC timestamp (YYYYMMDDHHMMSS_) so they sort in order of writing. */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export function openDatabase(url: string, poolMax = 10): Knex {
  return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: poolMax } });
}

/**
 * Run every pending migration (append-only, in name order). Returns the names applied now.
 * The same migration object listed twice (a shared workspace's tables, listed by each
 * workspace that needs them) runs once; two different migrations with one name are an error.
 */
export async function migrate(knex: Knex, migrations: readonly Migration[]): Promise<string[]> {
  const byName = new Map<string, Migration>();
  for (const m of migrations) {
    const seen = byName.get(m.name);
    if (seen !== undefined && seen !== m) throw new Error(`duplicate migration name ${m.name}`);
    byName.set(m.name, m);
  }
  const sorted = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: () => Promise.resolve(sorted),
    getMigrationName: (m) => m.name,
    getMigration: (m) => Promise.resolve({ up: (k: Knex) => m.up(k), down: (k: Knex) => m.down(k) }),
  };
  const [, applied] = (await knex.migrate.latest({ migrationSource: source, tableName: 'tally_migrations' })) as [number, string[]];
  return applied;
}

/** Create a fresh database on a server (for tests): returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = openDatabase(adminUrl, 1);
  try {
    await admin.raw(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.destroy();
  }
  const u = new URL(adminUrl);
  u.pathname = '/' + name;
  return u.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = openDatabase(adminUrl, 1);
  try {
    await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.destroy();
  }
}

/** Connection URL without the password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
