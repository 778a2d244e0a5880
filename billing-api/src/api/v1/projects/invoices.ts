/**
 * Project → Billing's invoices: the account paying for a project and that
 * account's invoices, readable by the project's own members and readers
 * (`billing:project_account:get`, `billing:project_invoices:get`). Lines are
 * limited to the project when the account pays for several (see
 * invoices/project-invoices.ts).
 */
import { ValidationError, type Knex } from '@tally/common';
import { invoiceCsv } from '../../../invoices/invoices.js';
import { projectAccount, projectInvoice, projectInvoices } from '../../../invoices/project-invoices.js';
import type { Context } from 'koa';
import type { Target } from '../../../auth/rules.js';
import type { RouteSet } from '../route.js';
import { parseProjectId } from './schemas.js';

const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const invoiceId = (v: string | undefined): string => {
  if (v === undefined || !ID.test(v)) throw new ValidationError('invoice_id', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return v;
};

/** Mount the routes. */
export function projectInvoiceRoutes(routes: RouteSet, deps: { db: Knex }): void {
  const { db } = deps;
  const target = (ctx: Context): Target => ({ project_id: parseProjectId(ctx.params['id'] ?? '') });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/account', rule: 'billing:project_account:get',
    summary: 'The account paying for a project: id, name, scheme, currency, balances (404 when none pays for it yet)',
    target, parse: (ctx) => parseProjectId(ctx.params['id'] ?? ''),
    handle: (projectId) => projectAccount(db, projectId),
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/invoices', rule: 'billing:project_invoices:get',
    summary: "The invoices of the account paying for a project, newest first, each with the project's part (project_total)",
    target, parse: (ctx) => parseProjectId(ctx.params['id'] ?? ''),
    handle: (projectId) => projectInvoices(db, projectId),
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/invoices/:invoice_id', rule: 'billing:project_invoices:get',
    summary: "One invoice as the project sees it: the project's lines only when its account pays for other projects too",
    target, parse: (ctx) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), id: invoiceId(ctx.params['invoice_id']) }),
    handle: (input) => projectInvoice(db, input.projectId, input.id),
  });
  routes.add({
    method: 'GET', path: '/v1/projects/:id/invoices/:invoice_id/csv', rule: 'billing:project_invoices:get',
    summary: 'That invoice as CSV (same scope)',
    target, parse: (ctx) => ({ projectId: parseProjectId(ctx.params['id'] ?? ''), id: invoiceId(ctx.params['invoice_id']) }),
    handle: async (input, _c, ctx) => {
      const inv = await projectInvoice(db, input.projectId, input.id);
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`${inv.id}.csv`);
      return invoiceCsv(inv);
    },
  });
}
