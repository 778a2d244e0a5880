/**
 * Debiting wallets: prepaid and continuous accounts pay from their wallet for
 * every closed hour of rated usage. Each debit covers `[charged_until, hour)`,
 * is posted under an idempotency key naming that span, and moves
 * `charged_until` in the same transaction, so a crash or a second replica
 * can neither skip nor repeat an hour.
 */
import type { Knex, Logger } from '@tally/common';
import { Money } from '../rating.js';
import { guardOf, type UsageDeps } from '../usage.js';
import { rateProjects } from '../invoices/rate-account.js';
import { post } from './ledger.js';
import { accountProjects, checkLowBalance } from './accounts.js';

const HOUR = 3_600_000;

/** The start of the UTC hour containing `t`. */
export const floorHour = (t: Date): Date => new Date(Math.floor(t.getTime() / HOUR) * HOUR);

/**
 * Debit one account's wallet for its usage up to the last closed hour before `upTo`. Returns the
 * amount (0 when nothing was due). Throws UsageInvalidError, debiting nothing and leaving
 * `charged_until` where it was, when a project's stored usage in the span cannot be rated.
 */
export async function chargeWallet(deps: Knex | (UsageDeps & { db: Knex }), accountId: string, upTo: Date): Promise<string> {
  const d = typeof deps === 'function' ? { db: deps } : deps;
  const db = d.db;
  const usageGuard = guardOf(d);
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`charge:${accountId}`]);
    const acct = (await trx('accounts').where({ id: accountId }).first('scheme', 'charged_until', 'created_at')) as
      { scheme: string; charged_until: Date | null; created_at: Date } | undefined;
    if (!acct || acct.scheme === 'postpaid') return '0';
    const from = acct.charged_until ?? floorHour(acct.created_at);
    const to = floorHour(upTo);
    if (to.getTime() <= from.getTime()) return '0';
    const rated = await rateProjects({ db: trx, usageGuard }, await accountProjects(trx, accountId), { start: from, end: to });
    const amount = new Money(rated.total);
    if (!amount.isZero()) {
      await post(trx, `usage:${accountId}:${from.toISOString()}:${to.toISOString()}`, 'usage', accountId, `usage ${from.toISOString()} to ${to.toISOString()}`, [
        { book: 'wallet', accountId, amount },
        { book: 'revenue', accountId: null, amount: amount.neg() },
      ]);
    }
    await trx('accounts').where({ id: accountId }).update({ charged_until: to });
    await checkLowBalance(trx, accountId);
    return amount.toFixed();
  });
}

/**
 * Debit every prepaid and continuous account up to `now` (the hourly schedule calls this). An
 * account that cannot be debited is logged and skipped (and retried at the next tick); the others are debited.
 */
export async function chargeWallets(deps: Knex | (UsageDeps & { db: Knex; log?: Logger }), now: Date): Promise<{ accounts: number; total: string; failed: string[] }> {
  const d = typeof deps === 'function' ? { db: deps } : deps;
  const ids = ((await d.db('accounts').whereIn('scheme', ['prepaid', 'continuous']).orderBy('id').select('id')) as { id: string }[]).map((r) => r.id);
  let total = new Money(0);
  const failed: string[] = [];
  for (const id of ids) {
    try {
      total = total.plus(await chargeWallet(d, id, now));
    } catch (err) {
      failed.push(id);
      d.log?.warn('wallet debit skipped; retried at the next tick', { accountId: id, err });
    }
  }
  return { accounts: ids.length, total: total.toFixed(), failed };
}
