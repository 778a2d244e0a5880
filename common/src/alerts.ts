/**
 * Alerts: anomalies an operator should look at (a lost component, a stale
 * capacity feed, a quarantined window, a budget crossed). Any part that has the
 * database raises them here; they are kept in PostgreSQL, listed, acknowledged
 * by an admin and resolved when the condition clears.
 *
 * An alert is identified by its `key` (e.g. `component-lost:analyzer:host-3`):
 * raising an alert whose key is already open does not add a row, it counts one
 * more occurrence and refreshes the message, so a condition checked every few
 * seconds gives one alert, not thousands. Once resolved, the same key opens a
 * new alert.
 */
import type { Knex } from 'knex';
import type { Migration } from './db.js';

export const ALERTS_TABLE = 'alerts';

/** How bad it is. */
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** What raising needs. */
export interface AlertInput {
  /** Identifies the condition; one open alert per key. At most 255 characters. */
  key: string;
  /** A stable, documented kind, e.g. `component_lost`, `window_quarantined`. */
  kind: string;
  severity: AlertSeverity;
  /** The part that raised it, e.g. `scheduler`, `analyzer`, `billing-api`. */
  source: string;
  /** One sentence for a human. */
  message: string;
  /** Structured facts (JSON). */
  details?: Record<string, unknown>;
}

/** An alert as stored. Times are ISO 8601 strings; `occurrences` is a decimal string (int8). */
export interface Alert {
  id: string;
  key: string;
  kind: string;
  severity: AlertSeverity;
  source: string;
  message: string;
  details: Record<string, unknown>;
  first_seen_at: string;
  last_seen_at: string;
  occurrences: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  resolved_at: string | null;
}

/** `open` (not resolved; acknowledged or not), `unacknowledged`, `resolved`, or `all`. */
export const ALERT_STATES = ['open', 'unacknowledged', 'resolved', 'all'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

// eslint-disable-next-line no-control-regex -- NUL is exactly what must be replaced
const NUL = /\u0000/g;
// PostgreSQL text refuses NUL; an alert about bad input must never fail on that input.
const clean = (s: string, max: number) => s.replace(NUL, '\\u0000').slice(0, max);
const cleanJson = (_k: string, v: unknown): unknown => (typeof v === 'string' ? v.replace(NUL, '\\u0000') : v);

/**
 * Raise (or refresh) the open alert of `input.key`. Returns its id and whether
 * this call opened it (`created`), so a caller notifies only once.
 */
export async function raiseAlert(db: Knex, input: AlertInput, now: Date = new Date()): Promise<{ id: string; created: boolean }> {
  const details = JSON.stringify(input.details ?? {}, cleanJson);
  const r = await db.raw<{ rows: { id: string; created: boolean }[] }>(
    `INSERT INTO ${ALERTS_TABLE} (key, kind, severity, source, message, details, first_seen_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?)
     ON CONFLICT (key) WHERE resolved_at IS NULL DO UPDATE
       SET occurrences = ${ALERTS_TABLE}.occurrences + 1, last_seen_at = EXCLUDED.last_seen_at,
           message = EXCLUDED.message, details = EXCLUDED.details, severity = EXCLUDED.severity
     RETURNING id, (xmax = 0) AS created`,
    [clean(input.key, 255), clean(input.kind, 64), input.severity, clean(input.source, 64), clean(input.message, 2000), details, now, now],
  );
  const row = r.rows[0];
  if (!row) throw new Error('raiseAlert: no row returned');
  return { id: String(row.id), created: row.created };
}

/** Resolve the open alert of `key` (the condition cleared). Returns whether one was open. */
export async function resolveAlert(db: Knex, key: string, now: Date = new Date()): Promise<boolean> {
  const n = await db(ALERTS_TABLE).where({ key: clean(key, 255) }).whereNull('resolved_at').update({ resolved_at: now });
  return n > 0;
}

/** Acknowledge an alert (an operator has seen it). Returns the alert, or undefined when there is none with that id. */
export async function acknowledgeAlert(db: Knex, id: string, by: string, now: Date = new Date()): Promise<Alert | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  await db(ALERTS_TABLE).where({ id }).whereNull('acknowledged_at').update({ acknowledged_at: now, acknowledged_by: clean(by, 255) });
  const row = await db(ALERTS_TABLE).where({ id }).first();
  return row ? toAlert(row as AlertRow) : undefined;
}

/** Alerts newest first. */
export async function listAlerts(
  db: Knex,
  filter: { state?: AlertState; kind?: string; source?: string; limit?: number } = {},
): Promise<Alert[]> {
  const q = db(ALERTS_TABLE).orderBy([{ column: 'last_seen_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(filter.limit ?? 200);
  const state = filter.state ?? 'open';
  if (state === 'open') q.whereNull('resolved_at');
  else if (state === 'unacknowledged') q.whereNull('resolved_at').whereNull('acknowledged_at');
  else if (state === 'resolved') q.whereNotNull('resolved_at');
  if (filter.kind !== undefined) q.where({ kind: filter.kind });
  if (filter.source !== undefined) q.where({ source: filter.source });
  return ((await q) as AlertRow[]).map(toAlert);
}

interface AlertRow extends Omit<Alert, 'id' | 'first_seen_at' | 'last_seen_at' | 'acknowledged_at' | 'resolved_at'> {
  id: string | number;
  first_seen_at: Date;
  last_seen_at: Date;
  acknowledged_at: Date | null;
  resolved_at: Date | null;
}

function toAlert(r: AlertRow): Alert {
  const iso = (d: Date | null) => (d === null ? null : d.toISOString());
  return {
    id: String(r.id), key: r.key, kind: r.kind, severity: r.severity, source: r.source, message: r.message, details: r.details,
    first_seen_at: r.first_seen_at.toISOString(), last_seen_at: r.last_seen_at.toISOString(), occurrences: String(r.occurrences),
    acknowledged_at: iso(r.acknowledged_at), acknowledged_by: r.acknowledged_by, resolved_at: iso(r.resolved_at),
  };
}

/**
 * The tables `@tally/common` owns. Every workspace that raises alerts lists these
 * in its own migrations; `migrate` applies a migration object listed twice once.
 */
export const commonMigrations: Migration[] = [
  {
    name: '20261204000100_alerts',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${ALERTS_TABLE} (
          id bigserial PRIMARY KEY,
          key text NOT NULL,
          kind text NOT NULL,
          severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
          source text NOT NULL,
          message text NOT NULL,
          details jsonb NOT NULL DEFAULT '{}'::jsonb,
          first_seen_at timestamptz NOT NULL,
          last_seen_at timestamptz NOT NULL,
          occurrences bigint NOT NULL DEFAULT 1,
          acknowledged_at timestamptz,
          acknowledged_by text,
          resolved_at timestamptz
        )`);
      await knex.raw(`CREATE UNIQUE INDEX alerts_open_key ON ${ALERTS_TABLE} (key) WHERE resolved_at IS NULL`);
      await knex.raw(`CREATE INDEX alerts_last_seen ON ${ALERTS_TABLE} (last_seen_at DESC)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE IF EXISTS ${ALERTS_TABLE}`);
    },
  },
];
