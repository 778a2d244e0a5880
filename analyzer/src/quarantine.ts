/**
 * Quarantine: what a window job could not use is set aside in PostgreSQL with the
 * reason, counted and alerted, and the job goes on with the rest, so no single input
 * can stall billing (issue 16). Three kinds:
 * - `sample`: a DFS line that fails validation (written before the checks existed, or damaged);
 * - `row`: a lifetime or usage row PostgreSQL refused (found by bisection in savepoints);
 * - `window`: a window whose job fails with a data error even row by row, or one that
 *   starts beyond any event time ingest accepts (only older data can have marked it).
 * One row per thing (a hash of what it is): seeing it again counts an occurrence.
 */
import { createHash } from 'node:crypto';
import { raiseAlert, TallyError, type Knex, type Migration } from '@tally/common';
import { usToDate } from './timestamp.js';

export const QUARANTINE_TABLE = 'analyzer_quarantine';

export type QuarantineKind = 'sample' | 'row' | 'window';

/** One thing set aside. */
export interface QuarantineEntry {
  kind: QuarantineKind;
  /** The window it belongs to (a sample: the hour of its DFS file). */
  windowStartUs: number;
  /** A sample's DFS file and 1-based line. */
  path?: string;
  line?: number;
  /** The field at fault, when known. */
  field?: string;
  reason: string;
  /** The line, or the row as JSON, for an operator to look at. */
  content?: string;
}

export const quarantineMigrations: Migration[] = [
  {
    name: '20261204020100_analyzer_quarantine',
    async up(knex) {
      await knex.raw(`
        CREATE TABLE ${QUARANTINE_TABLE} (
          id bigserial PRIMARY KEY,
          key text NOT NULL UNIQUE,
          kind text NOT NULL CHECK (kind IN ('sample', 'row', 'window')),
          window_start timestamptz NOT NULL,
          path text,
          line integer,
          field text,
          reason text NOT NULL,
          content text,
          first_seen_at timestamptz NOT NULL,
          last_seen_at timestamptz NOT NULL,
          occurrences bigint NOT NULL DEFAULT 1
        )`);
      await knex.raw(`CREATE INDEX analyzer_quarantine_window_idx ON ${QUARANTINE_TABLE} (window_start)`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE IF EXISTS ${QUARANTINE_TABLE}`);
    },
  },
];

// eslint-disable-next-line no-control-regex -- NUL is exactly what must not reach PostgreSQL text
const NUL = /\u0000/g;
/** Storable text: NUL spelled out, at most `max` characters. */
const clean = (s: string, max: number): string => s.replace(NUL, '\\u0000').slice(0, max);

function identity(e: QuarantineEntry): string {
  const what = e.kind === 'sample' ? `${e.path}:${e.line}` : e.kind === 'row' ? (e.content ?? '') : '';
  return createHash('sha256').update(`${e.kind}\n${e.kind === 'sample' ? '' : e.windowStartUs}\n${what}`).digest('hex');
}

/** Record entries (in `db`, usually the job's transaction); an entry seen before counts one more occurrence. */
export async function quarantine(db: Knex, entries: readonly QuarantineEntry[], now = new Date()): Promise<void> {
  for (let i = 0; i < entries.length; i += 500) {
    const rows = entries.slice(i, i + 500).map((e) => ({
      key: identity(e), kind: e.kind, window_start: usToDate(e.windowStartUs), path: e.path ?? null, line: e.line ?? null,
      field: e.field === undefined ? null : clean(e.field, 255), reason: clean(e.reason, 2000), content: e.content === undefined ? null : clean(e.content, 8192),
      first_seen_at: now, last_seen_at: now,
    }));
    // Two entries of one key in one statement would be an ON CONFLICT error: keep the first.
    const unique = [...new Map(rows.map((r) => [r.key, r])).values()];
    await db(QUARANTINE_TABLE).insert(unique).onConflict('key').merge({
      last_seen_at: db.raw('excluded.last_seen_at'), reason: db.raw('excluded.reason'), occurrences: db.raw(`${QUARANTINE_TABLE}.occurrences + 1`),
    });
  }
}

/**
 * Raise one alert per window for what was set aside in it (a sample counts in the hour
 * of its DFS file, so the jobs of neighbouring windows that read it refresh one alert).
 * A window quarantined whole is critical.
 */
export async function alertQuarantined(db: Knex, entries: readonly QuarantineEntry[], now = new Date()): Promise<void> {
  const byWindow = new Map<number, QuarantineEntry[]>();
  for (const e of entries) byWindow.set(e.windowStartUs, [...(byWindow.get(e.windowStartUs) ?? []), e]);
  for (const [windowStartUs, list] of [...byWindow].sort((a, b) => a[0] - b[0])) {
    const window = usToDate(windowStartUs).toISOString();
    const whole = list.some((e) => e.kind === 'window');
    const count = (k: QuarantineKind): number => list.filter((e) => e.kind === k).length;
    await raiseAlert(db, {
      key: `${whole ? 'analyzer-window-quarantined' : 'analyzer-quarantine'}:${window}`,
      kind: whole ? 'window_quarantined' : 'input_quarantined',
      severity: whole ? 'critical' : 'warning',
      source: 'analyzer',
      message: whole
        ? `The usage of window ${window} could not be computed and is quarantined (${QUARANTINE_TABLE}): ${list[0]!.reason.slice(0, 500)}`
        : `Window ${window}: ${count('sample')} samples and ${count('row')} rows quarantined (${QUARANTINE_TABLE}); the rest of its usage was written.`,
      details: { window, samples: count('sample'), rows: count('row'), windows: count('window'), reasons: list.slice(0, 5).map((e) => ({ kind: e.kind, field: e.field ?? null, reason: e.reason.slice(0, 300) })) },
    }, now);
  }
}

/**
 * A failure the same input will always produce (bad data, not a broken connection):
 * PostgreSQL classes 22 (data exception), 23 (integrity) and 54 (program limit), a
 * non-transient TallyError (validation), a RangeError, SyntaxError or decimal.js error.
 * Anything else (connection, deadlock, timeout, DFS I/O, a file gone) is retried.
 */
export function isDataError(e: unknown): boolean {
  if (e instanceof TallyError) return !e.transient && e.code !== 'dfs_not_found';
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /^(22|23|54)/.test(code)) return true;
  return e instanceof RangeError || e instanceof SyntaxError || (e instanceof Error && e.message.startsWith('[DecimalError]'));
}

/**
 * Write `items` with `write` in a savepoint; when that fails with a data error, split
 * in halves and retry each, down to single items, which are reported to `onBad`
 * (k bad items among n cost O(k log n) savepoints). Other errors are rethrown.
 */
export async function bisectWrite<T, R>(trx: Knex, items: readonly T[], write: (sp: Knex, items: readonly T[]) => Promise<R>, onBad: (item: T, e: unknown) => void): Promise<R[]> {
  if (items.length === 0) return [];
  try {
    return [await trx.transaction((sp) => write(sp, items))];
  } catch (e) {
    if (!isDataError(e)) throw e;
    if (items.length === 1) {
      onBad(items[0] as T, e);
      return [];
    }
    const mid = items.length >>> 1;
    return [...(await bisectWrite(trx, items.slice(0, mid), write, onBad)), ...(await bisectWrite(trx, items.slice(mid), write, onBad))];
  }
}

/** The reason text of an error: its message and, for PostgreSQL, its SQLSTATE. */
export function errorReason(e: unknown): { reason: string; field: string | undefined } {
  const err = e as { message?: unknown; code?: unknown; column?: unknown; field?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  const code = typeof err?.code === 'string' ? ` (${err.code})` : '';
  const field = typeof err?.field === 'string' ? err.field : typeof err?.column === 'string' ? err.column : undefined;
  return { reason: `${message}${code}`, field };
}
