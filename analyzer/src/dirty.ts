/**
 * The dirty-window table: ingest marks the hours its samples can change, window jobs
 * claim one hour at a time and settle it. Shaped so that no two writers can deadlock:
 *
 * - A job claims its hour with a transaction-level advisory lock, not a row lock, so
 *   while it reads the DFS and computes it holds no row of this table that a mark
 *   could wait for (the old `FOR UPDATE` claim did: a batch holding 19:00 waited for
 *   the claimed 20:00 while the job marked 19:00, reached by a lifetime: 40P01).
 * - Every writer takes rows of this table in ascending `window_start` order, and a job
 *   takes them last in its transaction (its marks and the settling of its own hour in
 *   one ascending pass), after the lifetimes it locks, also in one global order.
 * - Each mark draws a new `mark_seq`; a job remembers the one it claimed and settles
 *   only that: a mark that arrives during the job leaves the hour eligible again.
 */
import type { Knex } from '@tally/common';
import { HOUR_US, usToDate } from './timestamp.js';
import { DIRTY_TABLE } from './usage.js';

/** First key of the analyzer's two-key advisory locks ('Taly'); the second is the hour number. */
export const WINDOW_LOCK_CLASS = 0x54616c79;

/** A claimed hour: its start and the mark it was claimed at. */
export interface ClaimedWindow {
  windowStartUs: number;
  /** `mark_seq` when claimed (int8 as text). */
  seq: string;
}

/** Mark windows dirty (idempotent; ascending order). Call only after the samples are durable in the DFS. */
export async function markDirty(db: Knex, windowStartsUs: Iterable<number>): Promise<void> {
  const hours = [...new Set(windowStartsUs)].sort((a, b) => a - b);
  // Chunks keep each statement under PostgreSQL's 65535 bind parameters (a lifetime can reach years of hours).
  for (let i = 0; i < hours.length; i += 10_000) {
    const rows = hours.slice(i, i + 10_000).map((w) => ({ window_start: usToDate(w), marked_at: db.fn.now() }));
    // mark_seq takes its default (a new sequence value) for each proposed row, also on conflict.
    await db(DIRTY_TABLE).insert(rows).onConflict('window_start').merge(['marked_at', 'mark_seq']);
  }
}

/** Wait for the advisory lock of one hour (reprocess and the job itself; re-entrant in one transaction). */
export async function lockWindow(trx: Knex, windowStartUs: number): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?::int, ?::int)', [WINDOW_LOCK_CLASS, Math.floor(windowStartUs / HOUR_US)]);
}

async function tryLockWindow(trx: Knex, windowStartUs: number): Promise<boolean> {
  const r = (await trx.raw('SELECT pg_try_advisory_xact_lock(?::int, ?::int) AS ok', [WINDOW_LOCK_CLASS, Math.floor(windowStartUs / HOUR_US)])) as { rows: { ok: boolean }[] };
  return r.rows[0]?.ok === true;
}

/**
 * Eligible: never processed, marked again since it was, or closed (its final run).
 * `closedBefore`: windows starting at or before it have passed their watermark.
 */
function eligible(q: Knex.QueryBuilder, closedBefore: Date): Knex.QueryBuilder {
  return q.where((w) => void w.whereNull('processed_seq').orWhereRaw('processed_seq <> mark_seq').orWhere('window_start', '<=', closedBefore));
}

/**
 * Claim the oldest eligible hour that no other job holds, skipping `skip` (hours that
 * failed in this pass). Holds its advisory lock until `trx` ends. No row is locked.
 */
export async function claimWindow(trx: Knex, closedBefore: Date, skip: readonly number[]): Promise<ClaimedWindow | undefined> {
  const page = 32;
  for (let offset = 0; ; offset += page) {
    const q = eligible(trx(DIRTY_TABLE).select('window_start'), closedBefore).orderBy('window_start').offset(offset).limit(page);
    if (skip.length > 0) void q.whereNotIn('window_start', skip.map(usToDate));
    const candidates = (await q) as { window_start: Date }[];
    for (const c of candidates) {
      const us = c.window_start.getTime() * 1000;
      if (!(await tryLockWindow(trx, us))) continue; // another job has it
      // Read again under the lock: that job may have settled it meanwhile.
      const fresh = (await eligible(trx(DIRTY_TABLE).select('mark_seq'), closedBefore).where('window_start', c.window_start).first()) as { mark_seq: string } | undefined;
      if (fresh) return { windowStartUs: us, seq: String(fresh.mark_seq) };
    }
    if (candidates.length < page) return undefined;
  }
}

/**
 * Settle a job in its transaction, in one ascending pass over the rows it touches:
 * mark the other hours its lifetimes reached, and record its own hour as processed at
 * the claimed mark (deleted when `closed` and not marked again meanwhile).
 */
export async function settleWindow(trx: Knex, claimed: ClaimedWindow, reached: readonly number[], closed: boolean): Promise<void> {
  const w = claimed.windowStartUs;
  await markDirty(trx, reached.filter((h) => h < w));
  const at = usToDate(w);
  const deleted = closed ? await trx(DIRTY_TABLE).where({ window_start: at, mark_seq: claimed.seq }).delete() : 0;
  if (deleted === 0) await trx(DIRTY_TABLE).where({ window_start: at }).update({ processed_seq: claimed.seq, processed_at: trx.fn.now() });
  await markDirty(trx, reached.filter((h) => h > w));
}
