/**
 * Debiting wallets: prepaid and continuous accounts pay from their wallet for
 * every closed hour of rated usage. Each debit covers `[charged_until, hour)`,
 * is posted under an idempotency key naming that span, and moves
 * `charged_until` in the same transaction, so a crash or a second replica
 * can neither skip nor repeat an hour.
 */
import type { Knex } from '@tally/common';
import { Money } from '../rating.js';
import { rateProjects } from '../invoices/rate-account.js';
import { post } from './ledger.js';
import { accountProjects, checkLowBalance } from './accounts.js';

const HOUR = 3_600_000;

/** The start of the UTC hour containing `t`. */
export const floorHour = (t: Date): Date => new Date(Math.floor(t.getTime() / HOUR) * HOUR);

/** Debit one account's wallet for its usage up to the last closed hour before `upTo`. Returns the amount (0 when nothing was due). */
export async function chargeWallet(db: Knex, accountId: string, upTo: Date): Promise<string> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`charge:${accountId}`]);
    const acct = (await trx('accounts').where({ id: accountId }).first('scheme', 'charged_until', 'created_at')) as
      { scheme: string; charged_until: Date | null; created_at: Date } | undefined;
    if (!acct || acct.scheme === 'postpaid') return '0';
    const from = acct.charged_until ?? floorHour(acct.created_at);
    const to = floorHour(upTo);
    if (to.getTime() <= from.getTime()) return '0';
    const rated = await rateProjects(trx, await accountProjects(trx, accountId), { start: from, end: to });
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

/** Debit every prepaid and continuous account up to `now` (the hourly schedule calls this). */
export async function chargeWallets(db: Knex, now: Date): Promise<{ accounts: number; total: string }> {
  const ids = ((await db('accounts').whereIn('scheme', ['prepaid', 'continuous']).orderBy('id').select('id')) as { id: string }[]).map((r) => r.id);
  let total = new Money(0);
  for (const id of ids) total = total.plus(await chargeWallet(db, id, now));
  return { accounts: ids.length, total: total.toFixed() };
}
