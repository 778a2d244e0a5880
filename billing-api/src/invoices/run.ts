/**
 * Billing runs: one invoice per account and period, whoever starts the run
 * and however often. Each account's invoice is built in one database
 * transaction under a PostgreSQL advisory lock on (account, period), and the
 * invoice id is derived from them, so a rerun, a run killed halfway and rerun,
 * or two API replicas running at once all end with the same single invoice.
 */
import { createHash } from 'node:crypto';
import type { Knex, Logger } from '@tally/common';
import { rateProjects } from './rate-account.js';
import { accountProjects } from '../accounts/accounts.js';
import { chargeWallet } from '../accounts/charge.js';
import type { PricedLine } from '../pricing/index.js';

/** The invoice id of an account and period (stable across reruns and replicas). */
export function invoiceId(accountId: string, start: Date, end: Date): string {
  return 'inv_' + createHash('sha256').update(`${accountId}\u0000${start.toISOString()}\u0000${end.toISOString()}`).digest('hex').slice(0, 24);
}

function describe(l: PricedLine): string {
  const what = l.resourceId ? `${l.resourceType ?? l.event} ${l.resourceId}` : l.event;
  return `${l.kind}: ${what} (${l.start.toISOString()} to ${l.end.toISOString()})`;
}

/** Build the account's invoice for the period unless it exists. Returns the id and whether this call created it. */
export async function invoiceAccount(db: Knex, accountId: string, period: { start: Date; end: Date }, runId: string | null): Promise<{ id: string; created: boolean }> {
  const id = invoiceId(accountId, period.start, period.end);
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`invoice:${id}`]);
    const existing = (await trx('invoices').where({ id }).first('id')) as { id: string } | undefined;
    if (existing) return { id, created: false };
    const acct = (await trx('accounts').where({ id: accountId }).first('currency')) as { currency: string };
    const rated = await rateProjects(trx, await accountProjects(trx, accountId), period);
    const policies = [...new Set(rated.lines.map((l) => l.explanation.policyVersion ?? 'default'))].sort().join(', ');
    await trx('invoices').insert({
      id, account_id: accountId, period_start: period.start, period_end: period.end, status: 'draft',
      currency: rated.lines.length > 0 ? rated.currency : acct.currency, total: rated.total.toFixed(), policy: policies || 'none', run_id: runId,
    });
    if (rated.lines.length > 0) {
      const ratedRows = (await trx('rated_lines').insert(rated.lines.map((l, i) => ({
        invoice_id: id, line_no: i + 1, kind: l.kind, project_id: l.projectId, resource_id: l.resourceId, resource_type: l.resourceType,
        event: l.event, line_start: l.start, line_end: l.end, amount: l.amount.toFixed(), policy_version: l.explanation.policyVersion,
        explanation: JSON.stringify(l.explanation),
      }))).returning(['id', 'line_no'])) as { id: string; line_no: number }[];
      const byNo = new Map(ratedRows.map((r) => [r.line_no, r.id]));
      await trx('invoice_lines').insert(rated.lines.map((l, i) => ({
        invoice_id: id, line_no: i + 1, rated_line_id: byNo.get(i + 1), project_id: l.projectId, description: describe(l), amount: l.amount.toFixed(),
      })));
    }
    return { id, created: true };
  });
}

/** What a run did. */
export interface RunReport {
  run_id: string;
  period: { start: string; end: string };
  accounts: number;
  invoices_created: number;
  invoices_existing: number;
}

/**
 * Run billing for a period: debit prepaid/continuous wallets up to its end,
 * then one invoice per account (postpaid: a bill; others: a statement).
 */
export async function runBilling(deps: { db: Knex; log: Logger }, startedBy: string, period: { start: Date; end: Date }, accountIds?: readonly string[]): Promise<RunReport> {
  const { db } = deps;
  const [run] = (await db('billing_runs').insert({ period_start: period.start, period_end: period.end, started_by: startedBy }).returning('id')) as { id: string }[];
  const runId = String(run!.id);
  const q = db('accounts').orderBy('id').select('id', 'scheme');
  if (accountIds) void q.whereIn('id', accountIds as string[]);
  const accounts = (await q) as { id: string; scheme: string }[];
  let created = 0;
  for (const a of accounts) {
    if (a.scheme !== 'postpaid') await chargeWallet(db, a.id, period.end);
    if ((await invoiceAccount(db, a.id, period, runId)).created) created++;
  }
  await db('billing_runs').where({ id: runId }).update({ finished_at: db.fn.now(), accounts: accounts.length, invoices_created: created });
  deps.log.info('billing run finished', { runId, accounts: accounts.length, created });
  return { run_id: runId, period: { start: period.start.toISOString(), end: period.end.toISOString() }, accounts: accounts.length, invoices_created: created, invoices_existing: accounts.length - created };
}
