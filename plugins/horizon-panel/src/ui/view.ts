/**
 * DOM rendering. Text goes in through textContent only (display names come from
 * tenants), never innerHTML.
 */
import { formatHours, formatMoney, formatPeriod } from './format.js';
import { byFlavor, byMeter, explainLine, forecastMonth } from './breakdown.js';
import { describeContext, sortProjects, type ErrorNotice } from './shape.js';
import type { ProjectCharges, ProjectList } from './types.js';

/** Create an element with text and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function table(headers: string[], numeric: Set<number>): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const t = el('table');
  const head = t.createTHead().insertRow();
  headers.forEach((h, i) => head.appendChild(el('th', h, numeric.has(i) ? { class: 'num' } : {})));
  return { table: t, body: t.createTBody() };
}

function cell(row: HTMLTableRowElement, text: string, numeric = false): void {
  row.appendChild(el('td', text, numeric ? { class: 'num' } : {}));
}

/** The projects table; `onSelect` is called with a project id when a row is chosen. */
export function renderProjects(target: HTMLElement, list: ProjectList, selected: string | undefined, onSelect: (id: string) => void): void {
  target.replaceChildren();
  target.appendChild(el('p', `Month to date: ${formatPeriod(list.period.start, list.period.end)} (${describeContext(list)})`, { class: 'meta' }));
  // A project whose usage cannot be rated has no total: say what is wrong, never show it as zero.
  for (const u of list.unrated ?? []) target.appendChild(el('p', `Project ${u.project_id}: no total (${u.code}): ${u.message}`, { class: 'warning' }));
  if (list.projects.length === 0) {
    if ((list.unrated ?? []).length > 0) return;
    target.appendChild(el('p', 'No usage recorded in this period yet.'));
    return;
  }
  const { table: t, body } = table(['Project', 'Resources', 'Total'], new Set([1, 2]));
  for (const p of sortProjects(list.projects)) {
    const row = body.insertRow();
    row.tabIndex = 0;
    row.className = p.project_id === selected ? 'selectable selected' : 'selectable';
    cell(row, p.project_id);
    cell(row, String(p.resources), true);
    cell(row, formatMoney(p.total, list.currency), true);
    row.addEventListener('click', () => onSelect(p.project_id));
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') onSelect(p.project_id); });
  }
  target.appendChild(t);
}

/** One project's month to date, forecast, and breakdowns by resource (each line explained), flavor and meter. */
export function renderCharges(target: HTMLElement, c: ProjectCharges, title = `Project ${c.project_id}`): void {
  target.replaceChildren();
  target.appendChild(el('h2', title));
  target.appendChild(el('p', `Month to date: ${formatMoney(c.total, c.currency)}`, { class: 'total' }));
  const forecast = forecastMonth(c);
  if (forecast) target.appendChild(el('p', `Forecast for the month: ${formatMoney(forecast.amount, c.currency)} (${forecast.basis})`, { class: 'forecast' }));
  target.appendChild(el('p', `${formatPeriod(c.period.start, c.period.end)} (${describeContext(c)})`, { class: 'meta' }));
  if (c.unpriced_resources.length > 0) {
    target.appendChild(el('p', `Not priced (unknown flavor, no vCPU count): ${c.unpriced_resources.join(', ')}. Ask the operator to add the flavor to the pricing policy.`, { class: 'warning' }));
  }
  if (c.resources.length === 0) {
    target.appendChild(el('p', 'No usage in this period.'));
    return;
  }
  target.appendChild(el('h3', 'By resource'));
  const { table: t, body } = table(['Resource', 'Flavor', 'Mode', 'Hours', 'Price / h', 'Amount', 'How it was rated'], new Set([3, 4, 5]));
  t.id = 'tally-by-resource';
  for (const r of c.resources) {
    const row = body.insertRow();
    cell(row, r.display_name ? `${r.display_name} (${r.resource_id})` : r.resource_id);
    cell(row, `${r.flavor ?? 'unknown'}${r.price_basis === 'vcpu' ? ` (${r.vcpus ?? '?'} vCPU rate)` : ''}`);
    cell(row, r.billing_mode);
    cell(row, formatHours(r.hours), true);
    cell(row, formatMoney(r.unit_price, c.currency), true);
    cell(row, formatMoney(r.amount, c.currency, 6), true);
    row.appendChild(el('td', explainLine(r, c), { class: 'explain' }));
  }
  target.appendChild(t);
  for (const [heading, id, first, rows] of [
    ['By flavor', 'tally-by-flavor', 'Flavor', byFlavor(c.resources)],
    ['By meter', 'tally-by-meter', 'Meter', byMeter(c.resources)],
  ] as const) {
    target.appendChild(el('h3', heading));
    const g = table([first, 'Resources', 'Hours', 'Amount'], new Set([1, 2, 3]));
    g.table.id = id;
    for (const r of rows) {
      const row = g.body.insertRow();
      cell(row, r.key);
      cell(row, String(r.resources), true);
      cell(row, formatHours(r.hours), true);
      cell(row, formatMoney(r.amount, c.currency, 6), true);
    }
    target.appendChild(g.table);
  }
}

/** Replace `target`'s content with an error notice. */
export function renderError(target: HTMLElement, notice: ErrorNotice): void {
  target.replaceChildren(
    el('h2', notice.title),
    el('p', notice.detail, { class: 'detail' }),
    el('p', notice.advice, { class: 'advice' }),
  );
  target.hidden = false;
}
