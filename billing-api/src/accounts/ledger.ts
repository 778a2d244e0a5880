/**
 * The double-entry ledger. A transaction is a set of entries summing to zero
 * (PostgreSQL checks it at commit), posted once per idempotency key: posting
 * the same key again returns the first transaction and changes nothing.
 * Balances are always derived from the entries.
 *
 * Books, per account: `wallet` (prepaid funds; a liability, so a top-up credits
 * it) and `receivable` (what a postpaid account owes; an asset). Global books:
 * `cash` and `revenue`. Amounts: positive = debit, negative = credit.
 */
import { TallyError, type Knex } from '@tally/common';
import { Money } from '../rating.js';
import type { Balances } from '../wire.js';

/** A ledger book. */
export type Book = 'cash' | 'revenue' | 'wallet' | 'receivable';

/** One leg of a transaction. `amount` is a decimal string or Money. */
export interface Entry {
  book: Book;
  accountId: string | null;
  amount: Money;
}

/** An idempotency key was used before for a different transaction (another amount, account or kind): 409. */
export class IdempotencyConflictError extends TallyError {
  constructor(key: string) {
    super('conflict', `idempotency key ${key.replace(/^[a-z-]+:[^:]+:/, '')} was already used for a different request; use a new key`, { field: 'idempotency_key' });
  }
}

const amountText = (trx: Knex | Knex.Transaction) => trx.raw('amount::text AS amount');

/** A posted (or previously posted) transaction. */
export interface Posted {
  txnId: string;
  /** false when the idempotency key had been posted before (nothing changed). */
  created: boolean;
}

/**
 * Post a balanced transaction under `key`, inside `trx` (the caller's database
 * transaction, so the ledger moves with the change that caused it).
 */
export async function post(trx: Knex.Transaction | Knex, key: string, kind: string, accountId: string | null, memo: string, entries: Entry[]): Promise<Posted> {
  const total = entries.reduce((s, e) => s.plus(e.amount), new Money(0));
  if (!total.isZero()) throw new TallyError('ledger_unbalanced', `transaction ${key} does not balance (${total.toFixed()})`);
  const legs = entries.filter((e) => !e.amount.isZero());
  const inserted = (await trx('ledger_transactions')
    .insert({ idempotency_key: key, kind, account_id: accountId, memo })
    .onConflict('idempotency_key').ignore()
    .returning('id')) as { id: string }[];
  if (inserted.length === 0) {
    const prior = (await trx('ledger_transactions').where({ idempotency_key: key }).first('id', 'kind', 'account_id')) as { id: string; kind: string; account_id: string | null };
    // A replay must be the same transaction: the same kind, account and legs. Anything else reuses the key by mistake.
    const legsOf = (rows: { book: string; account_id: string | null; amount: string }[]) => rows.map((r) => `${r.book}\u0000${r.account_id ?? ''}\u0000${new Money(r.amount).toFixed()}`).sort().join('\n');
    const priorLegs = (await trx('ledger_entries').where({ txn_id: prior.id }).select('book', 'account_id', amountText(trx))) as { book: string; account_id: string | null; amount: string }[];
    const same = prior.kind === kind && prior.account_id === accountId
      && legsOf(priorLegs) === legsOf(legs.map((e) => ({ book: e.book, account_id: e.accountId, amount: e.amount.toFixed() })));
    if (!same) throw new IdempotencyConflictError(key);
    return { txnId: String(prior.id), created: false };
  }
  const txnId = String(inserted[0]!.id);
  if (legs.length > 0) {
    await trx('ledger_entries').insert(legs.map((e) => ({ txn_id: txnId, account_id: e.accountId, book: e.book, amount: e.amount.toFixed() })));
  }
  return { txnId, created: true };
}

export type { Balances } from '../wire.js';

/** Balances of one account, from its entries. */
export async function balances(db: Knex | Knex.Transaction, accountId: string): Promise<Balances> {
  const rows = (await db('ledger_entries').where({ account_id: accountId }).groupBy('book')
    .select('book', db.raw('sum(amount)::text AS s'))) as { book: Book; s: string }[];
  const of = (b: Book) => new Money(rows.find((r) => r.book === b)?.s ?? '0');
  const wallet = of('wallet').neg();
  const receivable = of('receivable');
  return { wallet: wallet.toFixed(), receivable: receivable.toFixed(), available: wallet.minus(receivable).toFixed() };
}

/** The sum of every entry in the ledger (zero when every transaction balances). */
export async function ledgerSum(db: Knex): Promise<string> {
  const row = (await db('ledger_entries').first(db.raw('coalesce(sum(amount), 0)::text AS s'))) as { s: string };
  return new Money(row.s).toFixed();
}

/** An account's entries, newest first. */
export async function accountEntries(db: Knex, accountId: string, limit: number): Promise<{ txn_id: string; key: string; kind: string; book: Book; amount: string; memo: string; at: string }[]> {
  const rows = (await db('ledger_entries as e').join('ledger_transactions as t', 't.id', 'e.txn_id')
    .where('e.account_id', accountId).orderBy('e.id', 'desc').limit(limit)
    .select('t.id as txn_id', 't.idempotency_key as key', 't.kind', 'e.book', db.raw('e.amount::text as amount'), 't.memo', 't.created_at')) as
    { txn_id: string; key: string; kind: string; book: Book; amount: string; memo: string; created_at: Date }[];
  return rows.map((r) => ({ txn_id: String(r.txn_id), key: r.key, kind: r.kind, book: r.book, amount: new Money(r.amount).toFixed(), memo: r.memo, at: r.created_at.toISOString() }));
}
