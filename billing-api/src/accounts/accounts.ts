/**
 * Accounts (payers): one account pays for one or many projects, under a
 * payment scheme. Top-ups credit the wallet; prepaid and continuous accounts
 * are debited from it as usage is rated (see charge.ts); a balance under the
 * account's threshold opens one low-balance alert until it is topped up again.
 * Resources are never interrupted.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from '@tally/common';
import { Money } from '../rating.js';
import { audit, type Actor } from '../audit.js';
import { ConflictError, NotFoundError } from '../http-errors.js';
import { balances, post } from './ledger.js';
import type { Scheme, AccountView } from '../wire.js';

export type { Scheme, AccountView } from '../wire.js';


export { ConflictError } from '../http-errors.js';

interface Row {
  id: string;
  name: string;
  currency: string;
  scheme: Scheme;
  low_balance_threshold: string;
  charged_until: Date | null;
}

/** The account paying for `projectId`, if any. */
export async function accountOfProject(db: Knex, projectId: string): Promise<string | undefined> {
  const r = (await db('account_projects').where({ project_id: projectId }).first('account_id')) as { account_id: string } | undefined;
  return r?.account_id;
}

/** The projects an account pays for, sorted. */
export async function accountProjects(db: Knex | Knex.Transaction, accountId: string): Promise<string[]> {
  return ((await db('account_projects').where({ account_id: accountId }).orderBy('project_id').select('project_id')) as { project_id: string }[]).map((r) => r.project_id);
}

/** One account with derived balances; NotFoundError when absent. */
export async function getAccount(db: Knex | Knex.Transaction, id: string): Promise<AccountView> {
  const row = (await db('accounts').where({ id }).first()) as Row | undefined;
  if (!row) throw new NotFoundError(`account ${id}`);
  const alert = (await db('low_balance_alerts').where({ account_id: id }).whereNull('cleared_at').first()) as { created_at: Date; balance: string } | undefined;
  return {
    id: row.id, name: row.name, currency: row.currency, scheme: row.scheme,
    low_balance_threshold: new Money(row.low_balance_threshold).toFixed(),
    projects: await accountProjects(db, id),
    balance: await balances(db, id),
    low_balance_alert: alert ? { since: alert.created_at.toISOString(), balance: new Money(alert.balance).toFixed() } : null,
    charged_until: row.charged_until?.toISOString() ?? null,
  };
}

/** Every account (id, name, scheme, projects), by id. */
export async function listAccounts(db: Knex): Promise<{ id: string; name: string; scheme: Scheme; currency: string; projects: string[] }[]> {
  const rows = (await db('accounts').orderBy('id').select('id', 'name', 'scheme', 'currency')) as Row[];
  const links = (await db('account_projects').select('account_id', 'project_id').orderBy('project_id')) as { account_id: string; project_id: string }[];
  const by = new Map<string, string[]>();
  for (const l of links) by.set(l.account_id, [...(by.get(l.account_id) ?? []), l.project_id]);
  return rows.map((r) => ({ id: r.id, name: r.name, scheme: r.scheme, currency: r.currency, projects: by.get(r.id) ?? [] }));
}

/** Input of create/update (already validated by the schema). */
export interface AccountInput {
  id?: string | undefined;
  name: string;
  currency: string;
  scheme: Scheme;
  lowBalanceThreshold: string;
  projects: string[];
}

/**
 * Link `projects` to the account, atomically: a project already paid for by another
 * account (committed, or being linked by a concurrent request, whose insert this one
 * waits for) is a 409 and the caller's transaction rolls back; none is dropped silently.
 */
async function linkProjects(trx: Knex.Transaction, accountId: string, projects: string[]): Promise<void> {
  if (projects.length === 0) return;
  const inserted = (await trx('account_projects').insert(projects.map((p) => ({ project_id: p, account_id: accountId })))
    .onConflict('project_id').ignore().returning('project_id')) as { project_id: string }[];
  if (inserted.length === projects.length) return;
  const got = new Set(inserted.map((r) => r.project_id));
  const taken = (await trx('account_projects').whereIn('project_id', projects.filter((p) => !got.has(p))).whereNot({ account_id: accountId })
    .orderBy('project_id').select('project_id', 'account_id')) as { project_id: string; account_id: string }[];
  if (taken.length > 0) throw new ConflictError('projects', `project ${taken[0]!.project_id} is already paid for by account ${taken[0]!.account_id}`);
}

/** Create an account paying for `projects`. Audited. */
export async function createAccount(db: Knex, actor: Actor, input: AccountInput): Promise<AccountView> {
  const id = input.id ?? randomUUID();
  return db.transaction(async (trx) => {
    const inserted = await trx('accounts').insert({
      id, name: input.name, currency: input.currency, scheme: input.scheme, low_balance_threshold: input.lowBalanceThreshold,
    }).onConflict('id').ignore().returning('id');
    if (inserted.length === 0) throw new ConflictError('id', `account ${id} already exists`);
    await linkProjects(trx, id, input.projects);
    const after = await getAccount(trx, id);
    await audit(trx, actor, 'account.create', 'account', id, null, after);
    return after;
  });
}

/** Change name, scheme, threshold or the set of projects. Audited with before and after. */
export async function updateAccount(db: Knex, actor: Actor, id: string, patch: Partial<Omit<AccountInput, 'id' | 'currency'>>): Promise<AccountView> {
  return db.transaction(async (trx) => {
    await trx('accounts').where({ id }).forUpdate().first();
    const before = await getAccount(trx, id);
    const set: Record<string, unknown> = {};
    if (patch.name !== undefined) set['name'] = patch.name;
    if (patch.scheme !== undefined) set['scheme'] = patch.scheme;
    if (patch.lowBalanceThreshold !== undefined) set['low_balance_threshold'] = patch.lowBalanceThreshold;
    if (Object.keys(set).length > 0) await trx('accounts').where({ id }).update({ ...set, updated_at: trx.fn.now() });
    if (patch.projects !== undefined) {
      await trx('account_projects').where({ account_id: id }).whereNotIn('project_id', patch.projects).delete();
      await linkProjects(trx, id, patch.projects);
    }
    await checkLowBalance(trx, id);
    const after = await getAccount(trx, id);
    await audit(trx, actor, 'account.update', 'account', id, before, after);
    return after;
  });
}

/**
 * Open a low-balance alert when the available balance is under the threshold
 * (one open alert per account), close it when it is not.
 */
export async function checkLowBalance(trx: Knex | Knex.Transaction, accountId: string): Promise<void> {
  const row = (await trx('accounts').where({ id: accountId }).first('low_balance_threshold', 'scheme')) as { low_balance_threshold: string; scheme: Scheme };
  const available = new Money((await balances(trx, accountId)).available);
  const low = row.scheme !== 'postpaid' && available.lt(row.low_balance_threshold);
  if (low) {
    await trx('low_balance_alerts').insert({ account_id: accountId, balance: available.toFixed(), threshold: row.low_balance_threshold })
      .onConflict(trx.raw('(account_id) WHERE cleared_at IS NULL')).ignore();
  } else {
    await trx('low_balance_alerts').where({ account_id: accountId }).whereNull('cleared_at').update({ cleared_at: trx.fn.now() });
  }
}

/**
 * A top-up (or, for a postpaid account, a payment): cash in, credited to the
 * wallet (prepaid, continuous) or against the receivable (postpaid). Idempotent
 * by `idempotencyKey`. Audited.
 */
export async function topUp(db: Knex, actor: Actor, accountId: string, input: { amount: string; idempotencyKey: string }): Promise<{ account: AccountView; created: boolean }> {
  return db.transaction(async (trx) => {
    const acct = (await trx('accounts').where({ id: accountId }).forUpdate().first('scheme')) as { scheme: Scheme } | undefined;
    if (!acct) throw new NotFoundError(`account ${accountId}`);
    const amount = new Money(input.amount);
    const credited = acct.scheme === 'postpaid' ? 'receivable' : 'wallet';
    const posted = await post(trx, `topup:${accountId}:${input.idempotencyKey}`, 'topup', accountId, `top-up by ${actor.creds.user_name}`, [
      { book: 'cash', accountId: null, amount },
      { book: credited, accountId, amount: amount.neg() },
    ]);
    await checkLowBalance(trx, accountId);
    const account = await getAccount(trx, accountId);
    if (posted.created) await audit(trx, actor, 'account.topup', 'account', accountId, null, { amount: amount.toFixed(), key: input.idempotencyKey, txn: posted.txnId });
    return { account, created: posted.created };
  });
}
