/**
 * Admin: the pricing-policy editor. Pick a policy (or a new name), edit its text
 * in either policy language with live validation, simulate the draft against
 * last month's usage beside the live policies, publish it as a new version, and
 * read the version history. Errors show in the section, with what to do.
 */
import type { BillingClient } from './api.js';
import { formatMoney } from './format.js';
import { compareSimulation, groupByName, parseSimulation, parseValidation, parseVersions, type PolicyVersionView } from './policies-data.js';
import { explainError } from './shape.js';
import { el, renderError } from './view.js';

const NEW = '\u0000new';
const VALIDATE_DELAY_MS = 300;
const PLACEHOLDER = 'EVENT = "VM Assignment", RESOURCE_TYPE = "m1.tiny", COST_PER_HOUR = 0.0100 (EUR), ACTIVATION_GROUP = "price list"';

/** Build the editor inside `root` and load the policies. */
export function startPolicyEditor(root: HTMLElement, client: BillingClient): void {
  const picker = el('select', undefined, { id: 'tally-policy-name', 'aria-label': 'Policy' });
  const newName = el('input', undefined, { id: 'tally-policy-new-name', placeholder: 'name of the new policy', 'aria-label': 'New policy name' });
  const source = el('textarea', undefined, { id: 'tally-policy-source', rows: '10', spellcheck: 'false', placeholder: PLACEHOLDER, 'aria-label': 'Policy text' });
  const status = el('p', '', { id: 'tally-policy-status', 'aria-live': 'polite', class: 'meta' });
  const simulate = el('button', 'Simulate against last month', { id: 'tally-policy-simulate', type: 'button', class: 'btn btn-default' });
  const publish = el('button', 'Publish as a new version', { id: 'tally-policy-publish', type: 'button', class: 'btn btn-primary' });
  const result = el('div', undefined, { id: 'tally-policy-result' });
  const errorBox = el('section', undefined, { id: 'tally-policy-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  const versions = el('div', undefined, { id: 'tally-policy-versions' });
  root.replaceChildren(
    el('h2', 'Pricing policies'),
    el('div', undefined, { class: 'policy-bar' }),
    source, status, el('div', undefined, { class: 'policy-actions' }), errorBox, result,
    el('h3', 'Versions'), versions,
  );
  root.children[1]?.append(picker, newName);
  root.querySelector('.policy-actions')?.append(simulate, publish);
  root.hidden = false;

  let byName = new Map<string, PolicyVersionView[]>();
  let valid = false;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const fail = (err: unknown): void => renderError(errorBox, explainError(err));
  const chosenName = (): string => (picker.value === NEW ? newName.value.trim() : picker.value);
  const setBusy = (busy: boolean): void => {
    simulate.disabled = busy || !valid;
    publish.disabled = busy || !valid || chosenName() === '';
  };

  const showVersions = (): void => {
    const list = byName.get(picker.value) ?? [];
    versions.replaceChildren();
    if (list.length === 0) {
      versions.appendChild(el('p', picker.value === NEW ? 'A new policy: publishing creates its version 1.' : 'No versions.', { class: 'meta' }));
      return;
    }
    const t = el('table');
    const head = t.createTHead().insertRow();
    for (const h of ['Version', 'Effective from', 'Published by', 'Published at', '']) head.appendChild(el('th', h));
    const body = t.createTBody();
    for (const v of list) {
      const row = body.insertRow();
      for (const text of [`v${v.version}`, v.effective_from, v.created_by, v.created_at]) row.appendChild(el('td', text));
      const load = el('button', 'Load into the editor', { type: 'button', class: 'btn btn-default btn-xs' });
      load.addEventListener('click', () => { source.value = v.source; scheduleValidation(0); });
      row.insertCell().appendChild(load);
    }
    versions.appendChild(t);
  };

  const validate = async (): Promise<void> => {
    const mine = ++seq;
    if (source.value.trim() === '') {
      valid = false;
      status.textContent = 'Write a policy in either language (one rule per line), or load a version.';
      setBusy(false);
      return;
    }
    try {
      const r = parseValidation(await client.request('POST', '/v1/pricing-policies/validate', { source: source.value }));
      if (mine !== seq) return; // a newer edit is being checked
      valid = r.valid;
      status.className = r.valid ? 'meta valid' : 'meta invalid';
      status.textContent = r.valid ? 'Valid: it can be simulated and published.' : `Not valid: ${r.issues.map((i) => i.text).join('; ')}`;
      errorBox.hidden = true;
    } catch (err) {
      if (mine !== seq) return;
      valid = false;
      status.textContent = 'Could not validate (see the error below).';
      fail(err);
    }
    setBusy(false);
  };
  const scheduleValidation = (delay = VALIDATE_DELAY_MS): void => {
    if (timer !== undefined) clearTimeout(timer);
    valid = false;
    setBusy(false);
    status.textContent = 'Checking…';
    timer = setTimeout(() => void validate(), delay);
  };

  const load = async (select?: string): Promise<void> => {
    try {
      byName = groupByName(parseVersions(await client.request('GET', '/v1/pricing-policies')));
      picker.replaceChildren(...[...byName.keys()].map((n) => el('option', n, { value: n })), el('option', 'New policy…', { value: NEW }));
      picker.value = select !== undefined && byName.has(select) ? select : (byName.keys().next().value ?? NEW);
      onPick();
    } catch (err) {
      fail(err);
    }
  };
  const onPick = (): void => {
    newName.hidden = picker.value !== NEW;
    source.value = byName.get(picker.value)?.[0]?.source ?? '';
    result.replaceChildren();
    showVersions();
    scheduleValidation(0);
  };

  picker.addEventListener('change', onPick);
  newName.addEventListener('input', () => setBusy(false));
  source.addEventListener('input', () => scheduleValidation());
  simulate.addEventListener('click', () => void (async () => {
    setBusy(true);
    try {
      const s = parseSimulation(await client.request('POST', '/v1/pricing-policies/simulate', { source: source.value }));
      const t = el('table', undefined, { id: 'tally-policy-simulation' });
      const head = t.createTHead().insertRow();
      for (const h of ['Project', 'Live policies', 'Draft', 'Change']) head.appendChild(el('th', h));
      const body = t.createTBody();
      for (const r of compareSimulation(s)) {
        const row = body.insertRow();
        row.appendChild(el('td', r.project));
        for (const [amount, currency] of [[r.live, s.live.currency], [r.draft, s.draft.currency]] as const) row.appendChild(el('td', formatMoney(amount, currency), { class: 'num' }));
        row.appendChild(el('td', `${r.change} ${s.draft.currency}`, { class: 'num' }));
      }
      result.replaceChildren(el('p', `Simulation over ${s.period.start} – ${s.period.end} (${s.usage_records} usage records):`, { class: 'meta' }), t);
      errorBox.hidden = true;
    } catch (err) {
      fail(err);
    }
    setBusy(false);
  })());
  publish.addEventListener('click', () => void (async () => {
    setBusy(true);
    const name = chosenName();
    try {
      const isNew = !byName.has(name);
      const body = isNew ? { name, source: source.value } : { source: source.value };
      const v = parseVersions({ policies: [await client.request(isNew ? 'POST' : 'PUT', isNew ? '/v1/pricing-policies' : `/v1/pricing-policies/${encodeURIComponent(name)}`, body)] })[0];
      errorBox.hidden = true;
      await load(name);
      if (v) result.replaceChildren(el('p', `Published ${v.name} v${v.version}, effective from ${v.effective_from}.`, { id: 'tally-policy-published', class: 'valid' }));
    } catch (err) {
      fail(err);
    }
    setBusy(false);
  })());

  void load();
}
