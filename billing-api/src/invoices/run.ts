/**
 * Billing runs: one invoice per account and period, whoever starts the run
 * and however often. Each account's invoice is built in one database
 * transaction under a PostgreSQL advisory lock on (account, period), and the
 * invoice id is derived from them, so a rerun, a run killed halfway and rerun,
 * or two API replicas running at once all end with the same single invoice.
 */
import { createHash } from 'node:crypto';
import type { Knex, Logger } from '@tally/common';
import { rateProjects, usageOf } from './rate-account.js';
import { chargeWallet } from '../accounts/charge.js';
import type { PolicyVersion, PricedLine, UsageInput } from '../pricing/index.js';
import { policyVersions } from '../policies/store.js';
import type { RunReport } from '../wire.js';

/** The invoice id of an account and period (stable across reruns and replicas). */
export function invoiceId(accountId: string, start: Date, end: Date): string {
  return 'inv_' + createHash('sha256').update(`${accountId}\u0000${start.toISOString()}\u0000${end.toISOString()}`).digest('hex').slice(0, 24);
}

function describe(l: PricedLine): string {
  const what = l.resourceId ? `${l.resourceType ?? l.event} ${l.resourceId}` : l.event;
  return `${l.kind}: ${what} (${l.start.toISOString()} to ${l.end.toISOString()})`;
}

/**
 * Build the invoices of `accountIds` for the period, skipping those that exist,
 * in one transaction. Each invoice's advisory lock is taken in key order, so
 * batches of concurrent runs (other replicas) can wait for each other but
 * never deadlock. Returns how many this call created.
 */
export async function invoiceBatch(db: Knex, accountIds: readonly string[], period: { start: Date; end: Date }, runId: string | null, versions?: PolicyVersion[]): Promise<number> {
  const ids = new Map(accountIds.map((a) => [a, invoiceId(a, period.start, period.end)]));
  return db.transaction(async (trx) => {
    // A draft lost to a database crash is rebuilt, identical, by the next run; no money moved yet. So
    // this transaction need not wait for its WAL flush (the flush, not the work, dominated run time).
    await trx.raw('SET LOCAL synchronous_commit TO OFF');
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT unnest(?::text[]) AS k ORDER BY 1) keys', [[...ids.values()].map((i) => `invoice:${i}`)]);
    const existing = new Set(((await trx('invoices').whereIn('id', [...ids.values()]).select('id')) as { id: string }[]).map((r) => r.id));
    const todo = [...ids].filter(([, id]) => !existing.has(id));
    if (todo.length === 0) return 0;
    const accts = (await trx('accounts').whereIn('id', todo.map(([a]) => a)).select('id', 'currency')) as { id: string; currency: string }[];
    const currency = new Map(accts.map((a) => [a.id, a.currency]));
    const links = (await trx('account_projects').whereIn('account_id', todo.map(([a]) => a)).orderBy('project_id').select('account_id', 'project_id')) as { account_id: string; project_id: string }[];
    const projects = new Map<string, string[]>();
    for (const l of links) projects.set(l.account_id, [...(projects.get(l.account_id) ?? []), l.project_id]);
    const usage = await usageOf(trx, links.map((l) => l.project_id), period);
    const byProject = new Map<string, UsageInput[]>();
    for (const u of usage) if (u.projectId !== null) byProject.set(u.projectId, [...(byProject.get(u.projectId) ?? []), u]);
    versions ??= await policyVersions(trx);
    const invoices: Record<string, unknown>[] = [];
    const lines: { invoiceId: string; no: number; line: PricedLine }[] = [];
    for (const [accountId, id] of todo) {
      const pids = projects.get(accountId) ?? [];
      const rated = await rateProjects(trx, pids, period, versions, pids.flatMap((p) => byProject.get(p) ?? []));
      const policies = [...new Set(rated.lines.map((l) => l.explanation.policyVersion ?? 'default'))].sort().join(', ');
      invoices.push({
        id, account_id: accountId, period_start: period.start, period_end: period.end, status: 'draft',
        currency: rated.lines.length > 0 ? rated.currency : currency.get(accountId), total: rated.total.toFixed(), policy: policies || 'none', run_id: runId,
      });
      rated.lines.forEach((line, i) => lines.push({ invoiceId: id, no: i + 1, line }));
    }
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
    return todo.length;
  });
}

/** Build one account's invoice for the period unless it exists. Returns the id and whether this call created it. */
export async function invoiceAccount(db: Knex, accountId: string, period: { start: Date; end: Date }, runId: string | null, versions?: PolicyVersion[]): Promise<{ id: string; created: boolean }> {
  const created = await invoiceBatch(db, [accountId], period, runId, versions);
  return { id: invoiceId(accountId, period.start, period.end), created: created === 1 };
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
export async function runBilling(deps: { db: Knex; log: Logger }, startedBy: string, period: { start: Date; end: Date }, accountIds?: readonly string[], opts: { batchSize?: number } = {}): Promise<RunReport> {
  const { db } = deps;
  const [run] = (await db('billing_runs').insert({ period_start: period.start, period_end: period.end, started_by: startedBy }).returning('id')) as { id: string }[];
  const runId = String(run!.id);
  const q = db('accounts').orderBy('id').select('id', 'scheme');
  if (accountIds) void q.whereIn('id', accountIds as string[]);
  const accounts = (await q) as { id: string; scheme: string }[];
  const versions = await policyVersions(db);
  let created = 0;
  // Batches of accounts, a few batches at a time: each batch is one transaction with its own locks.
  const batches: { id: string; scheme: string }[][] = [];
  const size = opts.batchSize ?? RUN_BATCH;
  for (let i = 0; i < accounts.length; i += size) batches.push(accounts.slice(i, i + size));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      for (const a of batch) if (a.scheme !== 'postpaid') await chargeWallet(db, a.id, period.end);
      const n = await invoiceBatch(db, batch.map((a) => a.id), period, runId, versions);
      created += n;
    }
  };
  await Promise.all(Array.from({ length: Math.min(RUN_CONCURRENCY, batches.length) }, worker));
  await db('billing_runs').where({ id: runId }).update({ finished_at: db.fn.now(), accounts: accounts.length, invoices_created: created });
  deps.log.info('billing run finished', { runId, accounts: accounts.length, created });
  return { run_id: runId, period: { start: period.start.toISOString(), end: period.end.toISOString() }, accounts: accounts.length, invoices_created: created, invoices_existing: accounts.length - created };
}
