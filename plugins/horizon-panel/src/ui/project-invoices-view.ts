/**
 * Project > Billing: the account paying for the project and its invoices
 * (period, state, total; the project's part when the account pays for other
 * projects too), an invoice's lines, and its CSV through the same proxy. On an
 * error the section shows the error and what to do, and no amount.
 */
import type { BillingClient } from './api.js';
import { formatMoney } from './format.js';
import { parseProjectAccount, parseProjectInvoice, parseProjectInvoices, periodLabel } from './project-invoices-data.js';
import { explainError } from './shape.js';
import { el, renderError } from './view.js';

function table(id: string, headers: string[], rows: string[][], numeric: number[]): HTMLTableElement {
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

/** Build the invoices section of `projectId` inside `root` and load it. */
export function startProjectInvoices(root: HTMLElement, client: BillingClient, projectId: string): void {
  const errorBox = el('section', undefined, { id: 'tally-pinv-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  const list = el('div', undefined, { id: 'tally-pinv-list' });
  const detail = el('div', undefined, { id: 'tally-pinv-detail' });
  root.replaceChildren(el('h3', 'Invoices'), errorBox, list, detail);
  root.hidden = false;
  const base = `/v1/projects/${encodeURIComponent(projectId)}`;
  const fail = (err: unknown, clear: HTMLElement[]): void => {
    // No stale amount next to an error: it could be read as the bill.
    for (const c of clear) c.replaceChildren();
    renderError(errorBox, explainError(err));
    errorBox.hidden = false;
  };

  const showInvoice = async (id: string): Promise<void> => {
    try {
      const inv = parseProjectInvoice(await client.request('GET', `${base}/invoices/${encodeURIComponent(id)}`));
      errorBox.hidden = true;
      const csv = el('button', 'Download CSV', { type: 'button', class: 'btn btn-default btn-xs', id: 'tally-pinv-csv' });
      csv.addEventListener('click', () => void client.text(`${base}/invoices/${encodeURIComponent(id)}/csv`).then((text) => {
        const a = el('a', undefined, { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `${inv.id}.csv` });
        a.click();
        URL.revokeObjectURL(a.href);
      }).catch((err: unknown) => fail(err, [])));
      const part = inv.scope?.shared
        ? [el('p', `This account pays for other projects too: only this project's lines are shown; they come to ${formatMoney(inv.scope.project_total, inv.currency)} of the invoice's ${formatMoney(inv.total, inv.currency)}.`, { class: 'meta', id: 'tally-pinv-shared' })]
        : [];
      detail.replaceChildren(
        el('h4', `Invoice ${inv.id} (${inv.status}): ${formatMoney(inv.total, inv.currency)}`, { id: 'tally-pinv-title' }), csv,
        el('p', `${periodLabel(inv.period)}; policy ${inv.policy}`, { class: 'meta' }), ...part,
        table('tally-pinv-lines', ['#', 'Description', 'Amount'], inv.lines.map((l) => [String(l.line_no), l.description, formatMoney(l.amount, inv.currency, 6)]), [2]),
      );
    } catch (err) {
      fail(err, [detail]);
    }
  };

  const load = async (): Promise<void> => {
    try {
      const invoices = parseProjectInvoices(await client.request('GET', `${base}/invoices`));
      if (invoices.account_id === null) {
        errorBox.hidden = true;
        list.replaceChildren(el('p', 'No account pays for this project yet, so it has no invoices. Ask your cloud administrator to set one up (Admin > Billing > Accounts).', { class: 'meta', id: 'tally-pinv-none' }));
        return;
      }
      const account = parseProjectAccount(await client.request('GET', `${base}/account`));
      errorBox.hidden = true;
      const rows = invoices.invoices.map((i) => [i.id, periodLabel(i.period), i.status, formatMoney(i.total, i.currency), ...(invoices.shared ? [formatMoney(i.project_total, i.currency)] : [])]);
      const t = table('tally-pinv-table', ['Invoice', 'Period', 'State', 'Total', ...(invoices.shared ? ['This project'] : [])], rows, invoices.shared ? [3, 4] : [3]);
      t.querySelectorAll('tbody tr').forEach((row, i) => {
        row.classList.add('selectable');
        row.addEventListener('click', () => void showInvoice(invoices.invoices[i]?.id ?? ''));
      });
      list.replaceChildren(
        el('p', `Paid by account ${account.name} (${account.id}), ${account.scheme}; available balance ${formatMoney(account.balance.available, account.currency)}.`, { class: 'meta', id: 'tally-pinv-account' }),
        invoices.invoices.length ? t : el('p', 'No invoices yet: they are made when a month is billed.', { class: 'meta' }),
      );
    } catch (err) {
      fail(err, [list, detail]);
    }
  };
  void load();
}
