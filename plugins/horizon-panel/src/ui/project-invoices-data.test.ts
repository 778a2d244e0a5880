import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProjectAccount, parseProjectInvoice, parseProjectInvoices, periodLabel } from './project-invoices-data.js';
import { ApiError } from './shape.js';

const item = { id: 'inv-1', account_id: 'a', period: { start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' }, status: 'draft', currency: 'EUR', total: '0.1', project_total: '0.02', policy: 'p', created_at: 'c', finalized_at: null, voided_at: null };

test('a project invoice list, account and detail are checked and kept as sent', () => {
  const l = parseProjectInvoices({ project_id: 'p1', account_id: 'a', shared: true, invoices: [item] });
  assert.equal(l.invoices[0]?.project_total, '0.02');
  assert.equal(parseProjectInvoices({ project_id: 'p1', account_id: null, shared: false, invoices: [] }).account_id, null);
  assert.equal(parseProjectAccount({ project_id: 'p1', id: 'a', name: 'A', scheme: 'postpaid', currency: 'EUR', balance: { wallet: '0', receivable: '1.5', available: '-1.5' }, shared: false }).balance.available, '-1.5');
  const d = parseProjectInvoice({ ...item, credited: '0', credit_notes: [], lines: [{ line_no: 1, rated_line_id: '9', project_id: 'p1', description: 'vm', amount: '0.02' }], scope: { project_id: 'p1', shared: true, project_total: '0.02' } });
  assert.equal(d.lines.length, 1);
});

test('a number where money belongs, or a missing list, is an error, never a zero bill', () => {
  assert.throws(() => parseProjectInvoices({ project_id: 'p1', account_id: 'a', invoices: [{ ...item, total: 0.1 }] }), ApiError);
  assert.throws(() => parseProjectInvoices({ project_id: 'p1', account_id: 'a', invoices: [{ ...item, project_total: undefined }] }), ApiError);
  assert.throws(() => parseProjectInvoices({ project_id: 'p1', account_id: 'a' }), ApiError);
  assert.throws(() => parseProjectAccount({ id: 'a', name: 'A', scheme: 'prepaid', balance: { wallet: '1', receivable: null, available: '1' } }), ApiError);
  assert.throws(() => parseProjectInvoice({ ...item }), /unexpected response \(invoice\)/);
  assert.throws(() => parseProjectInvoice({ ...item, lines: [{ amount: 2 }] }), ApiError);
});

test('a period shows its last day (the end is exclusive)', () => {
  assert.equal(periodLabel({ start: '2026-10-01T00:00:00.000Z', end: '2026-11-01T00:00:00.000Z' }), '2026-10-01 – 2026-10-31');
});
