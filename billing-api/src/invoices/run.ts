/**
 * Billing runs: one invoice per account and period, whoever starts the run
 * and however often. Each account's invoice is built in one database
 * transaction under a PostgreSQL advisory lock on (account, period), and the
 * invoice id is derived from them, so a rerun, a run killed halfway and rerun,
 * or two API replicas running at once all end with the same single invoice.
 *
 * One account can never stop the others: an account whose usage cannot be rated,
 * or whose bill does not fit its storage, gets no invoice, is listed in the run's
 * report with the reason and raises an alert; the run marks itself failed and the
 * next run retries it. A run that stops on an error marks itself failed too.
 */
import { createHash } from 'node:crypto';
import { raiseAlert, TallyError, type Knex, type Logger } from '@tally/common';
import { rateProjects, usageOf, type AccountUsage } from './rate-account.js';
import { chargeWallet } from '../accounts/charge.js';
import type { PolicyVersion, PricedLine, RatingResult } from '../pricing/index.js';
import { policyVersions } from '../policies/store.js';
import { Money } from '../rating.js';
import { guardOf, type UsageDeps } from '../usage.js';
import type { RunFailure, RunReport } from '../wire.js';

/** The invoice id of an account and period (stable across reruns and replicas). */
export function invoiceId(accountId: string, start: Date, end: Date): string {
  return 'inv_' + createHash('sha256').update(`${accountId}\u0000${start.toISOString()}\u0000${end.toISOString()}`).digest('hex').slice(0, 24);
}

function describe(l: PricedLine): string {
  const what = l.resourceId ? `${l.resourceType ?? l.event} ${l.resourceId}` : l.event;
  return `${l.kind}: ${what} (${l.start.toISOString()} to ${l.end.toISOString()})`;
}

/** What invoice amounts are stored as (numeric(24,6)): below 10^18. */
const MAX_STORED = new Money('1e18');

/** An amount of this bill does not fit its storage. */
class AmountOutOfRangeError extends TallyError {
  constructor(what: string, amount: Money) {
    super('amount_out_of_range', `${what} ${amount.toFixed(0)}… is beyond what an invoice holds (below 10^18); check the policy's prices and the usage quantities`);
  }
}

function checkStorable(rated: RatingResult): void {
  for (const l of rated.lines) if (l.amount.abs().gte(MAX_STORED)) throw new AmountOutOfRangeError(`the line ${describe(l)} amounts to`, l.amount);
  if (rated.total.abs().gte(MAX_STORED)) throw new AmountOutOfRangeError('the total', rated.total);
}

const failure = (accountId: string, err: unknown): RunFailure => err instanceof TallyError && err.code !== 'internal_error'
  ? { account_id: accountId, code: err.code, message: err.message }
  : { account_id: accountId, code: 'internal_error', message: 'the invoice could not be built (see the server log)' };

/** What a batch did: how many invoices it created, and the accounts it could not invoice. */
export interface BatchResult {
  created: number;
  failed: RunFailure[];
}

/**
 * Build the invoices of `accountIds` for the period, skipping those that exist,
 * in one transaction. Each invoice's advisory lock is taken in key order, so
 * batches of concurrent runs (other replicas) can wait for each other but
 * never deadlock. An account that cannot be invoiced is returned in `failed`;
 * when the batch's writes fail, each account is retried on its own.
 */
export async function invoiceBatch(deps: Knex | UsageDeps, accountIds: readonly string[], period: { start: Date; end: Date }, runId: string | null, versions?: PolicyVersion[]): Promise<BatchResult> {
  const given: UsageDeps = typeof deps === 'function' ? { db: deps } : deps;
  // The guard is the pool's, not the transaction's: its alerts must outlive a failed batch.
  const d: UsageDeps = { ...given, usageGuard: guardOf(given) };
  const db = d.db as Knex;
  const failed: RunFailure[] = [];
  try {
    const created = await db.transaction(async (trx) => {
      // A draft lost to a database crash is rebuilt, identical, by the next run; no money moved yet. So
      // this transaction need not wait for its WAL flush (the flush, not the work, dominated run time).
      await trx.raw('SET LOCAL synchronous_commit TO OFF');
      const ids = new Map(accountIds.map((a) => [a, invoiceId(a, period.start, period.end)]));
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT unnest(?::text[]) AS k ORDER BY 1) keys', [[...ids.values()].map((i) => `invoice:${i}`)]);
      const existing = new Set(((await trx('invoices').whereIn('id', [...ids.values()]).select('id')) as { id: string }[]).map((r) => r.id));
      const todo = [...ids].filter(([, id]) => !existing.has(id));
      if (todo.length === 0) return 0;
      const accts = (await trx('accounts').whereIn('id', todo.map(([a]) => a)).select('id', 'currency')) as { id: string; currency: string }[];
      const currency = new Map(accts.map((a) => [a.id, a.currency]));
      const links = (await trx('account_projects').whereIn('account_id', todo.map(([a]) => a)).orderBy('project_id').select('account_id', 'project_id')) as { account_id: string; project_id: string }[];
      const projects = new Map<string, string[]>();
      for (const l of links) projects.set(l.account_id, [...(projects.get(l.account_id) ?? []), l.project_id]);
      const all = await usageOf({ ...d, db: trx }, links.map((l) => l.project_id), period);
      const byProject = new Map<string, AccountUsage>();
      const part = (p: string | null) => {
        let u = byProject.get(p ?? '');
        if (!u) byProject.set(p ?? '', (u = { usage: [], invalid: [] }));
        return u;
      };
      for (const u of all.usage) part(u.projectId).usage.push(u);
      for (const r of all.invalid) part(r.project_id).invalid.push(r);
      versions ??= await policyVersions(trx);
      const invoices: Record<string, unknown>[] = [];
      const lines: { invoiceId: string; no: number; line: PricedLine }[] = [];
      for (const [accountId, id] of todo) {
        const pids = projects.get(accountId) ?? [];
        const own = pids.map((p) => byProject.get(p) ?? { usage: [], invalid: [] });
        let rated: RatingResult;
        try {
          rated = await rateProjects(trx, pids, period, versions, { usage: own.flatMap((u) => u.usage), invalid: own.flatMap((u) => u.invalid) });
          checkStorable(rated);
        } catch (err) {
          failed.push(failure(accountId, err));
          continue;
        }
        const policies = [...new Set(rated.lines.map((l) => l.explanation.policyVersion ?? 'default'))].sort().join(', ');
        invoices.push({
          id, account_id: accountId, period_start: period.start, period_end: period.end, status: 'draft',
          currency: rated.lines.length > 0 ? rated.currency : currency.get(accountId), total: rated.total.toFixed(), policy: policies || 'none', run_id: runId,
        });
        rated.lines.forEach((line, i) => lines.push({ invoiceId: id, no: i + 1, line }));
      }
      if (invoices.length === 0) return 0;
      await trx.batchInsert('invoices', invoices, 1000);
      for (let i = 0; i < lines.length; i += 1000) {
        const chunk = lines.slice(i, i + 1000);
        const ratedRows = (await trx('rated_lines').insert(chunk.map(({ invoiceId: inv, no, line: l }) => ({
          invoice_id: inv, line_no: no, kind: l.kind, project_id: l.projectId, resource_id: l.resourceId, resource_type: l.resourceType,
          event: l.event, line_start: l.start, line_end: l.end, amount: l.amount.toFixed(), policy_version: l.explanation.policyVersion,
          explanation: JSON.stringify(l.explanation),
        }))).returning(['id', 'invoice_id', 'line_no'])) as { id: string; invoice_id: string; line_no: number }[];
        const ref = new Map(ratedRows.map((r) => [`${r.invoice_id}\u0000${r.line_no}`, r.id]));
        await trx('invoice_lines').insert(chunk.map(({ invoiceId: inv, no, line: l }) => ({
          invoice_id: inv, line_no: no, rated_line_id: ref.get(`${inv}\u0000${no}`), project_id: l.projectId, description: describe(l), amount: l.amount.toFixed(),
        })));
      }
      return invoices.length;
    });
    return { created, failed };
  } catch (err) {
    if (accountIds.length === 1) return { created: 0, failed: [failure(accountIds[0]!, err)] };
    // The batch's writes failed (nothing of it is stored): find the account at fault by invoicing each alone.
    d.log?.warn('an invoice batch failed; invoicing its accounts one by one', { err, accounts: accountIds.length });
    const out: BatchResult = { created: 0, failed: [] };
    for (const a of accountIds) {
      const r = await invoiceBatch(d, [a], period, runId, versions);
      out.created += r.created;
      out.failed.push(...r.failed);
    }
    return out;
  }
}

/** Build one account's invoice for the period unless it exists. Returns the id, whether this call created it, and why it could not. */
export async function invoiceAccount(db: Knex, accountId: string, period: { start: Date; end: Date }, runId: string | null, versions?: PolicyVersion[]): Promise<{ id: string; created: boolean; failure?: RunFailure }> {
  const r = await invoiceBatch(db, [accountId], period, runId, versions);
  return { id: invoiceId(accountId, period.start, period.end), created: r.created === 1, ...(r.failed[0] ? { failure: r.failed[0] } : {}) };
}

/** Accounts invoiced at once by one run (each holds a database connection meanwhile). */
export const RUN_CONCURRENCY = 4;
/** Accounts per batch transaction. */
export const RUN_BATCH = 100;

export type { RunReport } from '../wire.js';

/**
 * Run billing for a period: debit prepaid/continuous wallets up to its end,
 * then one invoice per account (postpaid: a bill; others: a statement).
 */
export async function runBilling(given: UsageDeps & { db: Knex; log: Logger }, startedBy: string, period: { start: Date; end: Date }, accountIds?: readonly string[], opts: { batchSize?: number } = {}): Promise<RunReport> {
  const deps = { ...given, usageGuard: guardOf(given) };
  const { db } = deps;
  const [run] = (await db('billing_runs').insert({ period_start: period.start, period_end: period.end, started_by: startedBy }).returning('id')) as { id: string }[];
  const runId = String(run!.id);
  let accounts: { id: string; scheme: string }[];
  let created = 0;
  const failed: RunFailure[] = [];
  try {
    const q = db('accounts').orderBy('id').select('id', 'scheme');
    if (accountIds) void q.whereIn('id', accountIds as string[]);
    accounts = (await q) as { id: string; scheme: string }[];
    const versions = await policyVersions(db);
    // Batches of accounts, a few batches at a time: each batch is one transaction with its own locks.
    const batches: { id: string; scheme: string }[][] = [];
    const size = opts.batchSize ?? RUN_BATCH;
    for (let i = 0; i < accounts.length; i += size) batches.push(accounts.slice(i, i + size));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const ready: string[] = [];
        for (const a of batch) {
          try {
            if (a.scheme !== 'postpaid') await chargeWallet(deps, a.id, period.end);
            ready.push(a.id);
          } catch (err) {
            failed.push(failure(a.id, err));
          }
        }
        const r = await invoiceBatch(deps, ready, period, runId, versions);
        created += r.created;
        failed.push(...r.failed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RUN_CONCURRENCY, batches.length) }, worker));
  } catch (err) {
    await db('billing_runs').where({ id: runId }).update({ finished_at: db.fn.now(), status: 'failed', error: String((err as Error)?.message ?? err).slice(0, 2000) })
      .catch((e: unknown) => deps.log.error('could not mark a billing run failed', { runId, err: e }));
    throw err;
  }
  failed.sort((a, b) => a.account_id.localeCompare(b.account_id));
  for (const f of failed) {
    deps.log.warn('billing run: an account was not invoiced', { runId, ...f });
    await raiseAlert(db, {
      key: `billing-account-failed:${f.account_id}:${period.start.toISOString()}:${period.end.toISOString()}`, kind: 'billing_account_failed', severity: 'critical', source: 'billing-api',
      message: `account ${f.account_id} was not invoiced for ${period.start.toISOString()} to ${period.end.toISOString()}: ${f.message}`, details: { run_id: runId, ...f },
    }).catch((e: unknown) => deps.log.error('could not raise the billing_account_failed alert', { err: e }));
  }
  const status = failed.length === 0 ? 'succeeded' : 'failed';
  await db('billing_runs').where({ id: runId }).update({ finished_at: db.fn.now(), status, accounts: accounts.length, invoices_created: created, failed_accounts: JSON.stringify(failed) });
  deps.log.info('billing run finished', { runId, status, accounts: accounts.length, created, failed: failed.length });
  return {
    run_id: runId, period: { start: period.start.toISOString(), end: period.end.toISOString() }, status, accounts: accounts.length,
    invoices_created: created, invoices_existing: accounts.length - created - failed.length, failed_accounts: failed,
  };
}
