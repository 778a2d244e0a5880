/**
 * Test helpers: a fresh PostgreSQL database per test file on the machine's real
 * server, the analyzer's `usage_records` table (a copy of its DDL), and usage rows.
 */
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, migrate, openDatabase, type Knex } from '@tally/common';
import { billingMigrations } from '../src/policy.js';

export const ADMIN_URL = process.env['TALLY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// A copy of the analyzer's DDL: billing-api only reads this table.
const USAGE_DDL = `
CREATE TABLE usage_records (
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  resource_id text NOT NULL,
  meter text NOT NULL,
  unit text NOT NULL,
  quantity numeric(24,6) NOT NULL,
  project_id text,
  user_id text,
  flavor_name text,
  vcpus int,
  memory_mb int,
  display_name text,
  samples int NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource_id, meter, window_start)
)`;

export interface TestDb {
  db: Knex;
  url: string;
  drop(): Promise<void>;
}

/** A uniquely named database with billing-api's migrations and the usage table. */
export async function freshDatabase(tag: string): Promise<TestDb> {
  const name = `tally_test_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(ADMIN_URL, name);
  const db = openDatabase(url, 4);
  await migrate(db, billingMigrations);
  await db.raw(USAGE_DDL);
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await dropDatabase(ADMIN_URL, name);
    },
  };
}

/** One hourly usage row; quantity is running seconds (a decimal string). */
export interface UsageRow {
  project: string;
  resource: string;
  hour: string;
  seconds: string;
  flavor: string | null;
  vcpus: number | null;
  name?: string;
  meter?: string;
}

export async function insertUsage(db: Knex, rows: UsageRow[]): Promise<void> {
  await db('usage_records').insert(rows.map((r) => ({
    window_start: new Date(r.hour),
    window_end: new Date(new Date(r.hour).getTime() + 3_600_000),
    resource_id: r.resource,
    meter: r.meter ?? 'instance',
    unit: r.meter === undefined ? 's' : 'ns',
    quantity: r.seconds,
    project_id: r.project,
    user_id: 'u1',
    flavor_name: r.flavor,
    vcpus: r.vcpus,
    memory_mb: 512,
    display_name: r.name ?? r.resource,
    samples: 6,
  })));
}
