/**
 * Usage records: what the analyzer produces and billing-api rates. The analyzer
 * owns this type and the `usage_records` table (its migration is here).
 */
import { commonMigrations, type Knex, type Migration } from '@tally/common';
import { quarantineMigrations } from './quarantine.js';
import { novaMigrations } from './nova/schema.js';

/** What is known of an instance from its samples' metadata (Nova's flavor and names). */
export interface InstanceAttributes {
  projectId: string | null;
  userId: string | null;
  flavorName: string | null;
  vcpus: number | null;
  memoryMb: number | null;
  displayName: string | null;
}

/** Running time of one instance within one hourly window. */
export interface UsageRecord extends InstanceAttributes {
  /**
   * Inclusive start of the hourly window (UTC, whole hour), or, where Nova told of a
   * flavor change inside the hour, of the part of it with one flavor.
   */
  windowStart: Date;
  /** Exclusive end: the hour's end, or the next flavor change inside it. */
  windowEnd: Date;
  /** The instance uuid. */
  resourceId: string;
  /**
   * `instance`: running seconds derived from heartbeat timestamps (unit `s`);
   * `instance.vcpus` (`vCPU*s`) and `instance.memory` (`MB*s`): the flavor integrated over
   * running time; a Ceilometer meter name (`cpu`, `memory.usage`, `network.incoming.bytes`)
   * for measured series (gauges in `<unit>*s`, counters and deltas in their unit);
   * `project.span` (`s`, resource id = project id): the project's billing span.
   */
  meter: string;
  unit: string;
  /** Exact decimal quantity inside the window, e.g. `"3599.5"`; at most 6 decimals. */
  quantity: string;
  /** Distinct sample timestamps inside the window (for `project.span`: VMs alive in it). */
  samples: number;
}

/** The table, as a constant so queries elsewhere do not spell it. */
export const USAGE_TABLE = 'usage_records';
/** Windows whose usage must be recomputed (written by ingest, drained by the window job). */
export const DIRTY_TABLE = 'analyzer_dirty_windows';

/** First and last heartbeat of each VM (for the project billing span). */
export const LIFETIME_TABLE = 'analyzer_lifetimes';

const ownMigrations: Migration[] = [
  {
    name: '20261121000000_usage_records',
    async up(knex) {
      await knex.schema.createTable(USAGE_TABLE, (t) => {
        t.timestamp('window_start', { useTz: true }).notNullable();
        t.timestamp('window_end', { useTz: true }).notNullable();
        t.text('resource_id').notNullable();
        t.text('meter').notNullable();
        t.text('unit').notNullable();
        t.decimal('quantity', 24, 6).notNullable();
        t.text('project_id');
        t.text('user_id');
        t.text('flavor_name');
        t.integer('vcpus');
        t.integer('memory_mb');
        t.text('display_name');
        t.integer('samples').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['resource_id', 'meter', 'window_start']);
        t.index(['project_id', 'window_start'], 'usage_records_project_window_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTable(USAGE_TABLE);
    },
  },
  {
    // Dirty marks live in PostgreSQL, not in process memory, so a crash between the
    // ack and the window job loses nothing and any analyzer replica can do the job.
    name: '20261121000100_analyzer_dirty_windows',
    async up(knex) {
      await knex.schema.createTable(DIRTY_TABLE, (t) => {
        t.timestamp('window_start', { useTz: true }).primary();
        t.timestamp('marked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
    async down(knex) {
      await knex.schema.dropTable(DIRTY_TABLE);
    },
  },
  {
    // Gauge integrals (value × seconds) can carry more than 6 decimals: keep them exact.
    name: '20261121230000_usage_quantity_exact',
    async up(knex) {
      await knex.raw(`ALTER TABLE ${USAGE_TABLE} ALTER COLUMN quantity TYPE numeric`);
    },
    async down(knex) {
      await knex.raw(`ALTER TABLE ${USAGE_TABLE} ALTER COLUMN quantity TYPE numeric(24, 6)`);
    },
  },
  {
    // First and last heartbeat of every VM: the billing span needs them beyond one window's reach.
    name: '20261121230100_analyzer_lifetimes',
    async up(knex) {
      await knex.schema.createTable(LIFETIME_TABLE, (t) => {
        t.text('resource_id').primary();
        t.text('project_id').notNullable();
        t.bigInteger('first_us').notNullable();
        t.bigInteger('last_us').notNullable();
        t.index(['project_id'], 'analyzer_lifetimes_project_idx');
      });
    },
    async down(knex) {
      await knex.schema.dropTable(LIFETIME_TABLE);
    },
  },
  {
    // An open window is computed provisionally and stays marked until it closes at its watermark.
    name: '20261121230200_analyzer_dirty_processed_at',
    async up(knex) {
      await knex.schema.alterTable(DIRTY_TABLE, (t) => {
        t.timestamp('processed_at', { useTz: true });
      });
    },
    async down(knex) {
      await knex.schema.alterTable(DIRTY_TABLE, (t) => {
        t.dropColumn('processed_at');
      });
    },
  },
  {
    // Each mark draws a sequence number; a job settles the mark it claimed, so a mark that
    // arrives during the job leaves the window eligible again without waiting on any row
    // lock the job holds (see dirty.ts: the claim is an advisory lock, issue 12's 40P01).
    name: '20261204020000_analyzer_dirty_mark_seq',
    async up(knex) {
      await knex.raw(`CREATE SEQUENCE ${DIRTY_TABLE}_mark_seq`);
      await knex.raw(`ALTER TABLE ${DIRTY_TABLE} ADD COLUMN mark_seq bigint NOT NULL DEFAULT nextval('${DIRTY_TABLE}_mark_seq'), ADD COLUMN processed_seq bigint`);
      await knex.raw(`ALTER SEQUENCE ${DIRTY_TABLE}_mark_seq OWNED BY ${DIRTY_TABLE}.mark_seq`);
      // Rows processed since their last mark stay processed.
      await knex.raw(`UPDATE ${DIRTY_TABLE} SET processed_seq = mark_seq WHERE processed_at IS NOT NULL AND marked_at <= processed_at`);
    },
    async down(knex) {
      // The sequence is owned by the column and goes with it.
      await knex.raw(`ALTER TABLE ${DIRTY_TABLE} DROP COLUMN processed_seq, DROP COLUMN mark_seq`);
    },
  },
];

/**
 * The analyzer's migrations in name order, with common's (the alerts it raises), the
 * quarantine table's and Nova's events (nova/schema.ts); run them with `migrate(knex, [...analyzerMigrations, ...])`.
 */
export const analyzerMigrations: Migration[] = [...commonMigrations, ...quarantineMigrations, ...ownMigrations, ...novaMigrations].sort((a, b) => a.name.localeCompare(b.name));

interface UsageRow {
  window_start: Date;
  window_end: Date;
  resource_id: string;
  meter: string;
  unit: string;
  quantity: string;
  project_id: string | null;
  user_id: string | null;
  flavor_name: string | null;
  vcpus: number | null;
  memory_mb: number | null;
  display_name: string | null;
  samples: number;
}

function toRow(r: UsageRecord): UsageRow {
  return {
    window_start: r.windowStart, window_end: r.windowEnd, resource_id: r.resourceId, meter: r.meter, unit: r.unit,
    quantity: r.quantity, project_id: r.projectId, user_id: r.userId, flavor_name: r.flavorName, vcpus: r.vcpus,
    memory_mb: r.memoryMb, display_name: r.displayName, samples: r.samples,
  };
}

function fromRow(row: UsageRow): UsageRecord {
  return {
    windowStart: row.window_start, windowEnd: row.window_end, resourceId: row.resource_id, meter: row.meter, unit: row.unit,
    // numeric comes back as text (common/db.ts); normalise "3599.500000" to "3599.5".
    quantity: row.quantity.includes('.') ? row.quantity.replace(/\.?0+$/, '') : row.quantity,
    projectId: row.project_id, userId: row.user_id, flavorName: row.flavor_name, vcpus: row.vcpus,
    memoryMb: row.memory_mb, displayName: row.display_name, samples: row.samples,
  };
}

/**
 * Make the rows of one window exactly `records`: upsert each (ON CONFLICT … MERGE)
 * and delete the window's rows that are no longer produced, so reprocessing a
 * window never duplicates and always converges. With `projectId`, only that
 * project's rows are considered stale (pass only its records). Run it in a transaction.
 */
export async function replaceWindowUsage(db: Knex, windowStart: Date, records: readonly UsageRecord[], projectId?: string): Promise<void> {
  await deleteStaleUsage(db, windowStart, records, projectId);
  await upsertUsage(db, records);
}

/** Delete the rows of one window (of `projectId`, when given) that are not among `keep`. */
export async function deleteStaleUsage(db: Knex, windowStart: Date, records: readonly UsageRecord[], projectId?: string): Promise<void> {
  // A window's rows start inside its hour: at the hour, or where a flavor change splits it (nova/overlay.ts).
  const key = (id: string, meter: string, start: Date) => `${id}\u0000${meter}\u0000${start.getTime()}`;
  const keep = new Set(records.map((r) => key(r.resourceId, r.meter, r.windowStart)));
  const windowEnd = new Date(windowStart.getTime() + 3_600_000);
  const existingQ = db(USAGE_TABLE).select('resource_id', 'meter', 'window_start').where('window_start', '>=', windowStart).andWhere('window_start', '<', windowEnd);
  // Scoped to one project (reprocess --project): rows of other projects are left alone.
  if (projectId !== undefined) void existingQ.andWhere('project_id', projectId);
  const existing = (await existingQ) as { resource_id: string; meter: string; window_start: Date }[];
  const stale = existing.filter((e) => !keep.has(key(e.resource_id, e.meter, e.window_start)));
  for (let i = 0; i < stale.length; i += 1000) {
    const chunk = stale.slice(i, i + 1000).map((e) => [e.resource_id, e.meter, e.window_start]);
    await db(USAGE_TABLE).whereIn(['resource_id', 'meter', 'window_start'], chunk).delete();
  }
}

/** Upsert usage rows (ON CONFLICT … MERGE). */
export async function upsertUsage(db: Knex, records: readonly UsageRecord[]): Promise<void> {
  // Chunks keep the statement under PostgreSQL's 65535 bind-parameter limit.
  for (let i = 0; i < records.length; i += 1000) {
    const rows = records.slice(i, i + 1000).map((r) => ({ ...toRow(r), updated_at: db.fn.now() }));
    await db(USAGE_TABLE).insert(rows).onConflict(['resource_id', 'meter', 'window_start']).merge();
  }
}

/** Usage rows overlapping [from, to), optionally of one project, ordered by window then resource. */
export async function queryUsage(db: Knex, q: { from: Date; to: Date; projectId?: string }): Promise<UsageRecord[]> {
  const query = db<UsageRow>(USAGE_TABLE).where('window_start', '>=', q.from).andWhere('window_start', '<', q.to);
  if (q.projectId !== undefined) query.andWhere('project_id', q.projectId);
  const rows = (await query.orderBy([{ column: 'window_start' }, { column: 'resource_id' }, { column: 'meter' }])) as UsageRow[];
  return rows.map(fromRow);
}
