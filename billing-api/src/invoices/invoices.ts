/**
 * Invoices after a run: read them (with lines referencing rated lines),
 * finalize (draft → finalized: a postpaid account's receivable is debited),
 * void (a finalized invoice's entry is reversed), credit notes (corrections
 * after finalizing) and the CSV export. Every change is audited and every
 * ledger move idempotent.
 */
import { createHash } from 'node:crypto';
import { ValidationError, type Knex } from '@tally/common';
import { Money } from '../rating.js';
import { audit, type Actor } from '../audit.js';
import { ConflictError, NotFoundError } from '../http-errors.js';
import { IdempotencyConflictError, post } from '../accounts/ledger.js';
import type { InvoiceStatus, InvoiceView } from '../wire.js';

export type { InvoiceStatus, InvoiceView } from '../wire.js';


interface Row {
  id: string; account_id: string; period_start: Date; period_end: Date; status: InvoiceStatus; currency: string; total: string; policy: string;
  created_at: Date; finalized_at: Date | null; voided_at: Date | null;
}

const iso = (d: Date | null): string | null => d?.toISOString() ?? null;

/** The account an invoice belongs to (for the policy target), or undefined. */
export async function invoiceAccountId(db: Knex, id: string): Promise<string | undefined> {
  return ((await db('invoices').where({ id }).first('account_id')) as { account_id: string } | undefined)?.account_id;
}

/** One invoice with its lines and credit notes. */
export async function getInvoice(db: Knex | Knex.Transaction, id: string): Promise<InvoiceView> {
  const r = (await db('invoices').where({ id }).first()) as Row | undefined;
  if (!r) throw new NotFoundError(`invoice ${id}`);
  const lines = (await db('invoice_lines').where({ invoice_id: id }).orderBy('line_no')) as { line_no: number; rated_line_id: string; project_id: string | null; description: string; amount: string }[];
  const notes = (await db('credit_notes').where({ invoice_id: id }).orderBy('created_at')) as { id: string; amount: string; reason: string; created_at: Date }[];
  const credited = notes.reduce((s, n) => s.plus(n.amount), new Money(0));
  return {
    id: r.id, account_id: r.account_id, period: { start: r.period_start.toISOString(), end: r.period_end.toISOString() }, status: r.status,
    currency: r.currency.trim(), total: new Money(r.total).toFixed(), credited: credited.toFixed(), policy: r.policy,
    created_at: r.created_at.toISOString(), finalized_at: iso(r.finalized_at), voided_at: iso(r.voided_at),
    lines: lines.map((l) => ({ ...l, rated_line_id: String(l.rated_line_id), amount: new Money(l.amount).toFixed() })),
    credit_notes: notes.map((n) => ({ id: n.id, amount: new Money(n.amount).toFixed(), reason: n.reason, created_at: n.created_at.toISOString() })),
  };
}

/** An account's invoices (without lines), newest period first. */
export async function listInvoices(db: Knex, accountId: string): Promise<Omit<InvoiceView, 'lines' | 'credit_notes' | 'credited'>[]> {
  const rows = (await db('invoices').where({ account_id: accountId }).orderBy('period_start', 'desc')) as Row[];
  return rows.map((r) => ({
    id: r.id, account_id: r.account_id, period: { start: r.period_start.toISOString(), end: r.period_end.toISOString() }, status: r.status,
    currency: r.currency.trim(), total: new Money(r.total).toFixed(), policy: r.policy, created_at: r.created_at.toISOString(),
    finalized_at: iso(r.finalized_at), voided_at: iso(r.voided_at),
  }));
}

async function lockInvoice(trx: Knex.Transaction, id: string): Promise<Row & { scheme: string }> {
  const r = (await trx('invoices as i').join('accounts as a', 'a.id', 'i.account_id').where('i.id', id).forUpdate('i').first('i.*', 'a.scheme')) as (Row & { scheme: string }) | undefined;
  if (!r) throw new NotFoundError(`invoice ${id}`);
  return r;
}

/** draft → finalized. A postpaid account owes the total from now on. Finalizing twice is a no-op. */
export async function finalizeInvoice(db: Knex, actor: Actor, id: string): Promise<InvoiceView> {
  return db.transaction(async (trx) => {
    const r = await lockInvoice(trx, id);
    if (r.status === 'finalized') return getInvoice(trx, id);
    if (r.status !== 'draft') throw new ConflictError('status', `invoice ${id} is ${r.status}; only a draft can be finalized`);
    const total = new Money(r.total);
    if (r.scheme === 'postpaid' && !total.isZero()) {
      await post(trx, `invoice:${id}:finalize`, 'invoice', r.account_id, `invoice ${id}`, [
        { book: 'receivable', accountId: r.account_id, amount: total },
        { book: 'revenue', accountId: null, amount: total.neg() },
      ]);
    }
    await trx('invoices').where({ id }).update({ status: 'finalized', finalized_at: trx.fn.now() });
    const after = await getInvoice(trx, id);
    await audit(trx, actor, 'invoice.finalize', 'invoice', id, { status: r.status }, { status: after.status });
    return after;
  });
}

/** draft or finalized → void. A finalized postpaid invoice's debit (less credit notes) is reversed. */
export async function voidInvoice(db: Knex, actor: Actor, id: string): Promise<InvoiceView> {
  return db.transaction(async (trx) => {
    const r = await lockInvoice(trx, id);
    if (r.status === 'void') return getInvoice(trx, id);
    if (r.status === 'finalized' && r.scheme === 'postpaid') {
      const view = await getInvoice(trx, id);
      const open = new Money(view.total).minus(view.credited);
      if (!open.isZero()) {
        await post(trx, `invoice:${id}:void`, 'void', r.account_id, `void of invoice ${id}`, [
          { book: 'receivable', accountId: r.account_id, amount: open.neg() },
          { book: 'revenue', accountId: null, amount: open },
        ]);
      }
    }
    await trx('invoices').where({ id }).update({ status: 'void', voided_at: trx.fn.now() });
    const after = await getInvoice(trx, id);
    await audit(trx, actor, 'invoice.void', 'invoice', id, { status: r.status }, { status: after.status });
    return after;
  });
}

/**
 * A credit note on a finalized invoice: at most what is left uncredited;
 * idempotent by the caller's key. Credited to the receivable (postpaid) or
 * back to the wallet (prepaid, continuous).
 */
export async function creditNote(db: Knex, actor: Actor, invoiceId: string, input: { amount: string; reason: string; idempotencyKey: string }): Promise<InvoiceView> {
  return db.transaction(async (trx) => {
    const r = await lockInvoice(trx, invoiceId);
    const id = 'cn_' + createHash('sha256').update(`${invoiceId}\u0000${input.idempotencyKey}`).digest('hex').slice(0, 24);
    const prior = (await trx('credit_notes').where({ id }).first('amount', 'reason')) as { amount: string; reason: string } | undefined;
    if (prior) {
      // A replay returns the invoice; the same key with another amount or reason is a mistake, not a replay.
      if (!new Money(prior.amount).eq(input.amount) || prior.reason !== input.reason) throw new IdempotencyConflictError(input.idempotencyKey);
      return getInvoice(trx, invoiceId);
    }
    if (r.status !== 'finalized') throw new ConflictError('status', `invoice ${invoiceId} is ${r.status}; credit notes apply to finalized invoices`);
    const before = await getInvoice(trx, invoiceId);
    const amount = new Money(input.amount);
    const left = new Money(before.total).minus(before.credited);
    if (amount.gt(left)) throw new ValidationError('amount', `at most ${left.toFixed()} is left to credit on this invoice`);
    await trx('credit_notes').insert({ id, invoice_id: invoiceId, amount: amount.toFixed(), reason: input.reason, created_by: actor.creds.user_id });
    await post(trx, `credit-note:${id}`, 'credit-note', r.account_id, `credit note ${id} on ${invoiceId}: ${input.reason}`, [
      { book: r.scheme === 'postpaid' ? 'receivable' : 'wallet', accountId: r.account_id, amount: amount.neg() },
      { book: 'revenue', accountId: null, amount },
    ]);
    const after = await getInvoice(trx, invoiceId);
    await audit(trx, actor, 'invoice.credit_note', 'invoice', invoiceId, { credited: before.credited }, { credited: after.credited, credit_note: id });
    return after;
  });
}

function csvField(v: string): string {
  // Quote always; a leading =,+,-,@ is prefixed so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d/.test(v) ? `'${v}` : v;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** The invoice as CSV: one row per line, then (a project's view of a shared account's invoice) the project's total, then the total. */
export function invoiceCsv(inv: InvoiceView): string {
  const rows = [['invoice_id', 'line_no', 'rated_line_id', 'project_id', 'description', 'amount', 'currency']];
  for (const l of inv.lines) rows.push([inv.id, String(l.line_no), l.rated_line_id, l.project_id ?? '', l.description, l.amount, inv.currency]);
  if (inv.scope?.shared) rows.push([inv.id, '', '', inv.scope.project_id, 'project total (lines of this project only)', inv.scope.project_total, inv.currency]);
  rows.push([inv.id, '', '', '', 'total', inv.total, inv.currency]);
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
