/**
 * Project > Billing: each resource's billing mode, with a control to change it.
 * billing-api decides who may (a member, not a reader): a refusal is shown as an
 * error next to the table, and the table is reloaded from the API after every try.
 */
import type { BillingClient } from './api.js';
import { MODE_HELP, MODES, modeRequest, parseModes, parsePools, parseResourceMode } from './modes-data.js';
import { explainError } from './shape.js';
import type { BillingMode, ResourceModeView } from './types.js';
import { el, renderError } from './view.js';

/** Build the billing-modes section of `projectId` inside `root`. */
export function startModes(root: HTMLElement, client: BillingClient, projectId: string): void {
  const table = el('div', undefined, { id: 'tally-modes-list' });
  const status = el('p', '', { id: 'tally-modes-status', 'aria-live': 'polite' });
  const errorBox = el('section', undefined, { id: 'tally-modes-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  root.replaceChildren(el('h3', 'Billing modes'), el('p', `${MODE_HELP['on-demand']}; ${MODE_HELP.dynamic}.`, { class: 'meta' }), errorBox, table, status);
  root.hidden = false;
  const base = `/v1/projects/${encodeURIComponent(projectId)}`;

  const showError = (err: unknown): void => {
    renderError(errorBox, explainError(err));
    errorBox.hidden = false;
  };

  const render = (resources: ResourceModeView[], pools: string[]): void => {
    if (resources.length === 0) {
      table.replaceChildren(el('p', 'No resources with usage in the last 31 days.'));
      return;
    }
    const t = el('table', undefined, { id: 'tally-modes-table' });
    const head = t.createTHead().insertRow();
    for (const h of ['Resource', 'Mode', 'Pool', '']) head.appendChild(el('th', h));
    const body = t.createTBody();
    for (const r of resources) {
      const row = body.insertRow();
      row.dataset['resource'] = r.resource_id;
      row.appendChild(el('td', r.display_name ? `${r.display_name} (${r.resource_id})` : r.resource_id));
      const mode = el('select', undefined, { class: 'tally-mode-select form-control input-sm', 'aria-label': `Billing mode of ${r.resource_id}` });
      for (const m of MODES) mode.appendChild(el('option', m, { value: m }));
      mode.value = r.mode;
      const pool = el('select', undefined, { class: 'tally-pool-select form-control input-sm', 'aria-label': `Pool of ${r.resource_id}` });
      pool.appendChild(el('option', '(none)', { value: '' }));
      for (const p of new Set([...pools, ...(r.pool === null ? [] : [r.pool])])) pool.appendChild(el('option', p, { value: p }));
      pool.value = r.pool ?? '';
      const save = el('button', 'Save', { class: 'tally-mode-save btn btn-default btn-sm', type: 'button' });
      for (const control of [mode, pool]) {
        const td = el('td');
        td.appendChild(control);
        row.appendChild(td);
      }
      const td = el('td');
      td.appendChild(save);
      row.appendChild(td);
      save.addEventListener('click', () => {
        save.disabled = true;
        status.textContent = '';
        void client.request('PUT', `${base}/resources/${encodeURIComponent(r.resource_id)}/billing-mode`, modeRequest(mode.value as BillingMode, pool.value))
          .then((b) => {
            const saved = parseResourceMode(b);
            errorBox.hidden = true;
            status.textContent = `Saved: ${saved.resource_id} is billed ${saved.mode}${saved.pool ? ` in pool ${saved.pool}` : ''}.`;
          })
          .catch(showError)
          .finally(() => void load());
      });
    }
    table.replaceChildren(t);
  };

  const load = async (): Promise<void> => {
    try {
      const [modes, pools] = await Promise.all([client.request('GET', `${base}/billing-modes`), client.request('GET', '/v1/pools')]);
      render(parseModes(modes), parsePools(pools).map((p) => p.name));
    } catch (err) {
      showError(err);
    }
  };
  void load();
}
