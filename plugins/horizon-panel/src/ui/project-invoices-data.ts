/**
 * Project > Billing's invoices as billing-api answers them
 * (`GET /v1/projects/{id}/invoices`, `…/account`, `…/invoices/{invoice_id}`),
 * checked before use: money must be decimal strings, or the page shows an
 * error instead of a bill.
 */
import type { InvoiceView, ProjectAccountView, ProjectInvoiceList } from '@tally/billing-api/wire';
import { isDecimalString } from './format.js';
import { ApiError } from './shape.js';

export type { InvoiceView, ProjectAccountView, ProjectInvoiceList } from '@tally/billing-api/wire';

function bad(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const money = (v: unknown, what: string): void => { if (!isDecimalString(v)) bad(`${what} is not a decimal string`); };
const period = (v: unknown): void => { if (!obj(v) || typeof v['start'] !== 'string' || typeof v['end'] !== 'string') bad('invoice period'); };

/** `GET /v1/projects/{id}/invoices`. */
export function parseProjectInvoices(body: unknown): ProjectInvoiceList {
  if (!obj(body) || typeof body['project_id'] !== 'string' || !Array.isArray(body['invoices'])) bad('project invoices');
  if (body['account_id'] !== null && typeof body['account_id'] !== 'string') bad('project invoices account_id');
  for (const i of body['invoices'] as unknown[]) {
    if (!obj(i) || typeof i['id'] !== 'string' || typeof i['status'] !== 'string' || typeof i['currency'] !== 'string') bad('invoice');
    period(i['period']);
    money(i['total'], 'invoice total');
    money(i['project_total'], 'invoice project_total');
  }
  return body as unknown as ProjectInvoiceList;
}

/** `GET /v1/projects/{id}/account`. */
export function parseProjectAccount(body: unknown): ProjectAccountView {
  if (!obj(body) || typeof body['id'] !== 'string' || typeof body['name'] !== 'string' || typeof body['scheme'] !== 'string' || !obj(body['balance'])) bad('project account');
  for (const k of ['wallet', 'receivable', 'available']) money(body['balance'][k], `balance.${k}`);
  return body as unknown as ProjectAccountView;
}

/** `GET /v1/projects/{id}/invoices/{invoice_id}`: lines required, each amount decimal. */
export function parseProjectInvoice(body: unknown): InvoiceView {
  if (!obj(body) || typeof body['id'] !== 'string' || typeof body['status'] !== 'string' || !Array.isArray(body['lines'])) bad('invoice');
  period(body['period']);
  money(body['total'], 'invoice total');
  for (const l of body['lines'] as unknown[]) { if (!obj(l)) bad('invoice line'); money(l['amount'], 'line amount'); }
  if (body['scope'] !== undefined) { if (!obj(body['scope'])) bad('invoice scope'); money(body['scope']['project_total'], 'scope.project_total'); }
  return body as unknown as InvoiceView;
}

/** `2026-10-01T00:00:00.000Z`, `2026-11-01T00:00:00.000Z` → `2026-10-01 – 2026-10-31` (the end is exclusive). */
export function periodLabel(p: { start: string; end: string }): string {
  const last = new Date(Date.parse(p.end) - 1);
  return `${p.start.slice(0, 10)} – ${Number.isNaN(last.getTime()) ? p.end.slice(0, 10) : last.toISOString().slice(0, 10)}`;
}
