import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastMonth, parseAccount, parseAccounts, parseInvoice, parseInvoices, parseLedger, parseRunReport } from './accounts-data.js';
import { ApiError } from './shape.js';

const account = { id: 'acme', name: 'ACME', currency: 'EUR', scheme: 'prepaid', low_balance_threshold: '5', projects: ['p1'], balance: { wallet: '10.5', receivable: '0', available: '10.5' }, low_balance_alert: null };
const invoice = { id: 'inv-1', account_id: 'acme', period: { start: 's', end: 'e' }, status: 'draft', currency: 'EUR', total: '1.2300', policy: 'default v1' };

test('parsers accept what billing-api sends', () => {
  assert.equal(parseAccounts({ accounts: [{ id: 'acme', name: 'ACME', scheme: 'prepaid', currency: 'EUR', projects: ['p1'] }] })[0]?.id, 'acme');
  assert.equal(parseAccount(account).balance.available, '10.5');
  assert.equal(parseLedger({ account: 'acme', entries: [{ txn_id: '1', key: 'k', kind: 'topup', book: 'wallet', amount: '-10.5', memo: '', at: 't' }] }).length, 1);
  assert.equal(parseInvoices({ account: 'acme', invoices: [invoice] })[0]?.total, '1.2300');
  assert.equal(parseInvoice({ ...invoice, lines: [{ line_no: 1, rated_line_id: 'r', project_id: 'p1', description: 'd', amount: '1.23' }], credit_notes: [] }).lines?.length, 1);
  assert.equal(parseRunReport({ run_id: 'r', period: { start: 's', end: 'e' }, accounts: 1, invoices_created: 1, invoices_existing: 0 }).invoices_created, 1);
});

test('parsers refuse money that is not a decimal string', () => {
  assert.throws(() => parseAccount({ ...account, balance: { ...account.balance, wallet: 10.5 } }), ApiError);
  assert.throws(() => parseAccount({ ...account, balance: undefined }), ApiError);
  assert.throws(() => parseAccounts({ accounts: [{ id: 'acme' }] }), ApiError);
  assert.throws(() => parseLedger({ entries: [{ amount: 1 }] }), ApiError);
  assert.throws(() => parseInvoices({ invoices: [{ ...invoice, total: 1.23 }] }), ApiError);
  assert.throws(() => parseInvoice({ ...invoice, lines: [{ amount: null }] }), ApiError);
  assert.throws(() => parseRunReport({}), ApiError);
});

test('lastMonth: the previous whole UTC month, across a year', () => {
  assert.deepEqual(lastMonth(new Date('2026-11-22T00:10:00Z')), { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' });
  assert.deepEqual(lastMonth(new Date('2027-01-01T00:00:00Z')), { start: '2026-12-01T00:00:00.000Z', end: '2027-01-01T00:00:00.000Z' });
});
