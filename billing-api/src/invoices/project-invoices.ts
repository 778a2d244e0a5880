/**
 * A project's view of the account paying for it and of that account's
 * invoices, for the project's own members and readers (Project → Billing).
 *
 * Scope: when the account pays only for this project, the project sees the
 * whole invoice. When it pays for several, a non-admin caller sees only the
 * lines of its own project (lines without a project, such as account-level
 * fees, are left out too) plus `project_total`, their sum; `total` stays the
 * invoice's total so the figure matches what the payer is billed. No other
 * project's line (id, description or amount) is ever shown.
 */
import type { Knex } from '@tally/common';
import { Money } from '../rating.js';
import { NotFoundError } from '../http-errors.js';
import { accountOfProject, accountProjects, getAccount } from '../accounts/accounts.js';
import { getInvoice, listInvoices } from './invoices.js';
import type { InvoiceView, ProjectAccountView, ProjectInvoiceList } from '../wire.js';

/** The account paying for `projectId`: id, name, scheme, currency, balances, whether it pays for other projects too. */
export async function projectAccount(db: Knex, projectId: string): Promise<ProjectAccountView> {
  const id = await accountOfProject(db, projectId);
  if (id === undefined) throw new NotFoundError(`account paying for project ${projectId} (an admin must create one: POST /v1/accounts)`);
  const a = await getAccount(db, id);
  return { project_id: projectId, id: a.id, name: a.name, scheme: a.scheme, currency: a.currency, balance: a.balance, shared: a.projects.length > 1 };
}

/**
 * Limit an invoice to one project's lines (see the module comment). `project_total`
 * is the sum of the lines kept, exact.
 */
export function scopeInvoice(inv: InvoiceView, projectId: string, shared: boolean): InvoiceView {
  const lines = shared ? inv.lines.filter((l) => l.project_id === projectId) : inv.lines;
  const projectTotal = lines.reduce((s, l) => s.plus(l.amount), new Money(0));
  return { ...inv, lines, scope: { project_id: projectId, shared, project_total: projectTotal.toFixed() } };
}

/** The invoices of the account paying for `projectId`, newest first, each with this project's part. */
export async function projectInvoices(db: Knex, projectId: string): Promise<ProjectInvoiceList> {
  const accountId = await accountOfProject(db, projectId);
  if (accountId === undefined) return { project_id: projectId, account_id: null, shared: false, invoices: [] };
  const shared = (await accountProjects(db, accountId)).length > 1;
  const list = await listInvoices(db, accountId);
  const parts = new Map<string, Money>();
  if (list.length > 0) {
    const rows = (await db('invoice_lines').whereIn('invoice_id', list.map((i) => i.id)).modify((q) => { if (shared) void q.where({ project_id: projectId }); })
      .select('invoice_id', 'amount')) as { invoice_id: string; amount: string }[];
    for (const r of rows) parts.set(r.invoice_id, (parts.get(r.invoice_id) ?? new Money(0)).plus(r.amount));
  }
  return {
    project_id: projectId, account_id: accountId, shared,
    invoices: list.map((i) => ({ ...i, project_total: (parts.get(i.id) ?? new Money(0)).toFixed() })),
  };
}

/** An invoice as a caller of `projectId` may see it: NotFound unless the invoice's account pays for that project. */
export async function projectInvoice(db: Knex, projectId: string, invoiceId: string): Promise<InvoiceView> {
  const inv = await getInvoice(db, invoiceId);
  const projects = await accountProjects(db, inv.account_id);
  if (!projects.includes(projectId)) throw new NotFoundError(`invoice ${invoiceId}`);
  return scopeInvoice(inv, projectId, projects.length > 1);
}

/**
 * `GET /v1/invoices/{id}` as a caller sees it: an admin (or a caller without a project) the whole
 * invoice; a member or reader of a project the account pays for, that project's scope.
 */
export async function invoiceForCaller(db: Knex, invoiceId: string, caller: { admin: boolean; projectId: string | null }): Promise<InvoiceView> {
  const inv = await getInvoice(db, invoiceId);
  if (caller.admin || caller.projectId === null) return inv;
  const projects = await accountProjects(db, inv.account_id);
  return projects.includes(caller.projectId) ? scopeInvoice(inv, caller.projectId, projects.length > 1) : inv;
}
