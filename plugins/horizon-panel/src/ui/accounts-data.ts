/**
 * Accounts, ledgers, invoices and billing runs as billing-api answers them,
 * checked before use (money must be decimal strings). A run's report comes from
 * `@tally/billing-api/wire`; the account and invoice shapes here are the looser
 * forms the list and detail answers share (`lines` only in the detail).
 */
import { isDecimalString } from './format.js';
import { ApiError } from './shape.js';
import type { RunReport } from './types.js';

/** A payer as the list shows it (`GET /v1/accounts`: no balances). */
export interface AccountSummary {
  id: string;
  name: string;
  currency: string;
  scheme: string;
  projects: string[];
}

/** A payer with its derived balances (`GET /v1/accounts/{id}`). */
export interface AccountView {
  id: string;
  name: string;
  currency: string;
  scheme: string;
  low_balance_threshold: string;
  projects: string[];
  balance: { wallet: string; receivable: string; available: string };
  low_balance_alert: { since: string; balance: string } | null;
}

/** One ledger entry of an account. */
export interface LedgerEntryView {
  txn_id: string;
  key: string;
  kind: string;
  book: string;
  amount: string;
  memo: string;
  at: string;
}

/** An invoice; `lines` and `credit_notes` only in the detail. */
export interface InvoiceView {
  id: string;
  account_id: string;
  period: { start: string; end: string };
  status: string;
  currency: string;
  total: string;
  policy: string;
  lines?: { line_no: number; rated_line_id: string; project_id: string | null; description: string; amount: string }[];
  credit_notes?: { id: string; amount: string; reason: string; created_at: string }[];
}

/** What a billing run did (the API's contract). */
export type { RunReport };

function bad(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const money = (v: unknown, what: string): void => { if (!isDecimalString(v)) bad(`${what} is not a decimal string`); };

function checkSummary(a: unknown): AccountSummary {
  if (!obj(a) || typeof a['id'] !== 'string' || typeof a['name'] !== 'string' || typeof a['currency'] !== 'string' || !Array.isArray(a['projects'])) bad('account');
  return a as unknown as AccountSummary;
}

/** `GET /v1/accounts`. */
export function parseAccounts(body: unknown): AccountSummary[] {
  if (!obj(body) || !Array.isArray(body['accounts'])) bad('accounts');
  return body['accounts'].map(checkSummary);
}

/** `GET /v1/accounts/{id}`. */
export function parseAccount(body: unknown): AccountView {
  checkSummary(body);
  const b = (body as Record<string, unknown>)['balance'];
  if (!obj(b)) bad('account balance');
  for (const k of ['wallet', 'receivable', 'available']) money(b[k], `balance.${k}`);
  return body as AccountView;
}

/** `GET /v1/accounts/{id}/ledger`. */
export function parseLedger(body: unknown): LedgerEntryView[] {
  if (!obj(body) || !Array.isArray(body['entries'])) bad('ledger');
  for (const e of body['entries'] as unknown[]) {
    if (!obj(e)) bad('ledger entry');
    money(e['amount'], 'ledger amount');
  }
  return body['entries'] as LedgerEntryView[];
}

function checkInvoice(i: unknown): InvoiceView {
  if (!obj(i) || typeof i['id'] !== 'string' || !obj(i['period']) || typeof i['status'] !== 'string') bad('invoice');
  money(i['total'], 'invoice total');
  if (i['lines'] !== undefined) {
    if (!Array.isArray(i['lines'])) bad('invoice lines');
    for (const l of i['lines'] as unknown[]) { if (!obj(l)) bad('invoice line'); money(l['amount'], 'line amount'); }
  }
  return i as unknown as InvoiceView;
}

/** `GET /v1/accounts/{id}/invoices`. */
export function parseInvoices(body: unknown): InvoiceView[] {
  if (!obj(body) || !Array.isArray(body['invoices'])) bad('invoices');
  return body['invoices'].map(checkInvoice);
}

/** `GET /v1/invoices/{id}`. */
export function parseInvoice(body: unknown): InvoiceView {
  return checkInvoice(body);
}

/** `POST /v1/billing-runs`. */
export function parseRunReport(body: unknown): RunReport {
  if (!obj(body) || typeof body['run_id'] !== 'string' || typeof body['invoices_created'] !== 'number') bad('billing run');
  return body as unknown as RunReport;
}

/** The last whole UTC month before `now`: the default billing-run period. */
export function lastMonth(now: Date): { start: string; end: string } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { start: start.toISOString(), end: end.toISOString() };
}
