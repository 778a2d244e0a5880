/**
 * Admin: accounts (payers) with their balances; one account's ledger and
 * invoices; an invoice's lines with a CSV download; and billing runs for a
 * closed period. Errors show in the section, with what to do.
 */
import type { BillingClient } from './api.js';
import { lastMonth, parseAccount, parseAccounts, parseInvoice, parseInvoices, parseLedger, parseRunReport, type AccountSummary } from './accounts-data.js';
import { formatMoney } from './format.js';
import { explainError } from './shape.js';
import { el, renderError } from './view.js';

function table(id: string, headers: string[], rows: string[][], numeric: number[] = []): HTMLTableElement {
  const t = el('table', undefined, { id });
  const head = t.createTHead().insertRow();
  headers.forEach((h, i) => head.appendChild(el('th', h, numeric.includes(i) ? { class: 'num' } : {})));
  const body = t.createTBody();
  for (const r of rows) {
    const row = body.insertRow();
    r.forEach((c, i) => row.appendChild(el('td', c, numeric.includes(i) ? { class: 'num' } : {})));
  }
  return t;
}

/** Build the section inside `root` and load the accounts. */
export function startAccounts(root: HTMLElement, client: BillingClient, now: () => Date = () => new Date()): void {
  const errorBox = el('section', undefined, { id: 'tally-accounts-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  const list = el('div', undefined, { id: 'tally-accounts-list' });
  const detail = el('div', undefined, { id: 'tally-account-detail' });
  const invoice = el('div', undefined, { id: 'tally-invoice-detail' });
  const period = lastMonth(now());
  const start = el('input', undefined, { id: 'tally-run-start', value: period.start, class: 'form-control input-sm', 'aria-label': 'Run start' });
  const end = el('input', undefined, { id: 'tally-run-end', value: period.end, class: 'form-control input-sm', 'aria-label': 'Run end' });
  const run = el('button', 'Run billing', { id: 'tally-run-go', type: 'button', class: 'btn btn-default' });
  const runResult = el('p', '', { id: 'tally-run-result', 'aria-live': 'polite' });
  const runBar = el('div', undefined, { class: 'policy-actions' });
  runBar.append(start, end, run);
  root.replaceChildren(el('h2', 'Accounts'), errorBox, list, detail, invoice, el('h3', 'Billing run (closed period, whole UTC hours; idempotent per account and period)'), runBar, runResult);
  root.hidden = false;
  const fail = (err: unknown): void => renderError(errorBox, explainError(err));

  let current: AccountSummary | undefined;
  const showInvoice = async (id: string): Promise<void> => {
    try {
      const inv = parseInvoice(await client.request('GET', `/v1/invoices/${encodeURIComponent(id)}`));
      const csv = el('button', 'Download CSV', { type: 'button', class: 'btn btn-default btn-xs', id: 'tally-invoice-csv' });
      csv.addEventListener('click', () => void client.text(`/v1/invoices/${encodeURIComponent(id)}/csv`).then((text) => {
        const a = el('a', undefined, { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `${inv.id}.csv` });
        a.click();
        URL.revokeObjectURL(a.href);
      }).catch(fail));
      // draft → finalized (a postpaid invoice becomes a receivable) → void (reversed); both need an authenticated admin.
      const actions = (inv.status === 'draft' ? ['finalize', 'void'] : inv.status === 'finalized' ? ['void'] : []).map((action) => {
        const b = el('button', action === 'finalize' ? 'Finalize' : 'Void', { type: 'button', class: 'btn btn-default btn-xs', id: `tally-invoice-${action}` });
        b.addEventListener('click', () => void client.request('POST', `/v1/invoices/${encodeURIComponent(id)}/${action}`, {})
          .then(async () => { if (current) await showAccount(current); await showInvoice(id); })
          .catch(fail));
        return b;
      });
      invoice.replaceChildren(
        el('h3', `Invoice ${inv.id} (${inv.status}): ${formatMoney(inv.total, inv.currency)}`), csv, ...actions,
        el('p', `${inv.period.start} – ${inv.period.end}; policy ${inv.policy}`, { class: 'meta' }),
        table('tally-invoice-lines', ['#', 'Project', 'Description', 'Amount'], (inv.lines ?? []).map((l) => [String(l.line_no), l.project_id ?? '', l.description, formatMoney(l.amount, inv.currency, 6)]), [3]),
      );
    } catch (err) {
      fail(err);
    }
  };

  const showAccount = async (summary: AccountSummary): Promise<void> => {
    current = summary;
    try {
      const [a, entries, invoices] = await Promise.all([
        client.request('GET', `/v1/accounts/${encodeURIComponent(summary.id)}`).then(parseAccount),
        client.request('GET', `/v1/accounts/${encodeURIComponent(summary.id)}/ledger`).then(parseLedger),
        client.request('GET', `/v1/accounts/${encodeURIComponent(summary.id)}/invoices`).then(parseInvoices),
      ]);
      const invTable = table('tally-invoices', ['Invoice', 'Period', 'Status', 'Total'], invoices.map((i) => [i.id, `${i.period.start.slice(0, 10)} – ${i.period.end.slice(0, 10)}`, i.status, formatMoney(i.total, i.currency)]), [3]);
      invTable.querySelectorAll('tbody tr').forEach((row, i) => {
        row.classList.add('selectable');
        row.addEventListener('click', () => void showInvoice(invoices[i]?.id ?? ''));
      });
      detail.replaceChildren(
        el('h3', `Account ${a.name} (${a.id}), ${a.scheme}`),
        table('tally-balance', ['Wallet', 'Receivable', 'Available', 'Low-balance alert'], [[
          formatMoney(a.balance.wallet, a.currency), formatMoney(a.balance.receivable, a.currency), formatMoney(a.balance.available, a.currency),
          a.low_balance_alert ? `since ${a.low_balance_alert.since} (${formatMoney(a.low_balance_alert.balance, a.currency)})` : 'none',
        ]], [0, 1, 2]),
        el('h3', 'Invoices'), invoices.length ? invTable : el('p', 'No invoices yet: run billing for a closed period.', { class: 'meta' }),
        el('h3', 'Ledger (newest first)'),
        table('tally-ledger', ['When', 'Kind', 'Book', 'Amount', 'Memo'], entries.map((e) => [e.at, e.kind, e.book, formatMoney(e.amount, a.currency, 6), e.memo]), [3]),
      );
      invoice.replaceChildren();
    } catch (err) {
      fail(err);
    }
  };

  const load = async (): Promise<void> => {
    try {
      const accounts = parseAccounts(await client.request('GET', '/v1/accounts'));
      errorBox.hidden = true;
      if (accounts.length === 0) {
        list.replaceChildren(el('p', 'No accounts yet (POST /v1/accounts creates one).', { class: 'meta' }));
        return;
      }
      const t = table('tally-accounts-table', ['Account', 'Scheme', 'Currency', 'Projects'], accounts.map((a) => [`${a.name} (${a.id})`, a.scheme, a.currency, a.projects.join(', ')]));
      t.querySelectorAll('tbody tr').forEach((row, i) => {
        row.classList.add('selectable');
        const a = accounts[i];
        if (a) row.addEventListener('click', () => void showAccount(a));
      });
      list.replaceChildren(t);
    } catch (err) {
      fail(err);
    }
  };

  run.addEventListener('click', () => void (async () => {
    run.disabled = true;
    try {
      const r = parseRunReport(await client.request('POST', '/v1/billing-runs', { start: start.value.trim(), end: end.value.trim() }));
      const failed = (r.failed_accounts ?? []).map((f) => `${f.account_id}: ${f.message}`);
      runResult.textContent = `Run ${r.run_id}: ${r.accounts} account(s), ${r.invoices_created} invoice(s) created, ${r.invoices_existing} already there.`
        + (failed.length > 0 ? ` Not invoiced (${failed.length}): ${failed.join('; ')}` : '');
      errorBox.hidden = true;
      await load();
    } catch (err) {
      fail(err);
    }
    run.disabled = false;
  })());

  void load();
}
