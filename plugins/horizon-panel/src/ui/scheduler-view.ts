/**
 * Admin > Billing > Scheduler: the analyzer clusters (policy in force, size, queue), their
 * members with load, the scaling-policy editor (validate, store a new version), the
 * decision log, open alerts with an Acknowledge button, and every registered part.
 * Refreshes every few seconds; an error is shown in place and nothing stale is kept.
 */
import type { BillingClient } from './api.js';
import { bytesPerSecond, clock, describeDecision, parseAlerts, parseClusters, parseComponents, parseDecisions, percent, queueCell } from './scheduler-data.js';
import { ApiError, explainError } from './shape.js';
import type { ClusterView } from './types.js';
import { el, renderError } from './view.js';

const REFRESH_MS = 5000;

function table(id: string, headers: string[], rows: string[][]): HTMLTableElement {
  const t = el('table', undefined, { id });
  const head = t.createTHead().insertRow();
  for (const h of headers) head.appendChild(el('th', h));
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const c of r) tr.appendChild(el('td', c));
  }
  return t;
}

/** Build the scheduler section inside `root`. */
export function startScheduler(root: HTMLElement, client: BillingClient): void {
  const errorBox = el('section', undefined, { id: 'tally-sched-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  const clustersBox = el('div', undefined, { id: 'tally-sched-clusters-box' });
  const membersBox = el('div', undefined, { id: 'tally-sched-members-box' });
  const decisionsBox = el('div', undefined, { id: 'tally-sched-decisions-box' });
  const alertsBox = el('div', undefined, { id: 'tally-sched-alerts-box' });
  const componentsBox = el('div', undefined, { id: 'tally-sched-components-box' });
  const picker = el('select', undefined, { id: 'tally-sched-policy-cluster', class: 'form-control input-sm', 'aria-label': 'Cluster whose policy is edited' });
  const source = el('textarea', undefined, { id: 'tally-sched-policy-source', rows: '14', cols: '80', spellcheck: 'false', class: 'form-control' });
  const validate = el('button', 'Validate', { id: 'tally-sched-policy-validate', type: 'button', class: 'btn btn-default' });
  const save = el('button', 'Store as a new version', { id: 'tally-sched-policy-save', type: 'button', class: 'btn btn-primary' });
  const status = el('p', '', { id: 'tally-sched-policy-status', 'aria-live': 'polite' });
  root.replaceChildren(
    el('h3', 'Scheduler: analyzer clusters'), errorBox, clustersBox, el('h4', 'Members and their load'), membersBox,
    el('h4', 'Scaling policy'), picker, source, validate, save, status,
    el('h4', 'Decision log'), decisionsBox, el('h4', 'Alerts'), alertsBox, el('h4', 'Registered parts'), componentsBox,
  );
  root.hidden = false;
  let clusters: ClusterView[] = [];
  let editing = false;

  const showPolicy = (name: string): void => {
    const c = clusters.find((x) => x.cluster === name);
    if (c && !editing) source.value = c.policy.source;
  };
  source.addEventListener('input', () => { editing = true; });
  picker.addEventListener('change', () => {
    editing = false;
    showPolicy(picker.value);
    status.textContent = '';
  });
  const say = (text: string, cls: string): void => {
    status.textContent = text;
    status.className = cls;
  };
  validate.addEventListener('click', () => {
    void client.request('POST', '/v1/scaling-policies/validate', { source: source.value }).then((r) => {
      const v = r as { valid: boolean; field?: string; message?: string };
      if (v.valid) say('Valid.', 'valid');
      else say(`Not valid: ${v.message ?? ''}`, 'invalid');
    }, (err: unknown) => say(explainError(err).detail, 'invalid'));
  });
  save.addEventListener('click', () => {
    void client.request('PUT', `/v1/scaling-policies/${encodeURIComponent(picker.value)}`, { source: source.value }).then((r) => {
      const v = r as { cluster: string; version: number };
      editing = false;
      say(`Stored ${v.cluster} v${v.version}; the scheduler uses it from its next round.`, 'valid');
      void refresh();
    }, (err: unknown) => say(err instanceof ApiError && err.field ? `Not stored: ${err.message}` : explainError(err).detail, 'invalid'));
  });

  const renderClusters = (): void => {
    clustersBox.replaceChildren(table('tally-sched-clusters', ['Cluster', 'Policy', 'Size (min–max)', 'Queue', 'Last decision'], clusters.map((c) => [
      c.cluster, c.policy.label, `${c.size} (${c.policy.min_size}–${c.policy.max_size})`, queueCell(c), c.last_decision ? describeDecision(c.last_decision) : '—',
    ])));
    const rows = clusters.flatMap((c) => c.members.map((m) => [
      c.cluster, m.name, m.state, m.managed ? `${m.driver ?? ''} ${m.ref ?? ''}`.trim() : 'not created by the scheduler', m.node ?? '—',
      percent(m.load?.cpuPercent), percent(m.load?.memoryPercent), percent(m.load?.processCpuPercent),
      `${bytesPerSecond(m.load?.netInBytesPerS)} / ${bytesPerSecond(m.load?.netOutBytesPerS)}`, m.last_heartbeat_at ? clock(m.last_heartbeat_at) : 'never',
    ]));
    membersBox.replaceChildren(rows.length ? table('tally-sched-members', ['Cluster', 'Member', 'State', 'Driver', 'Node', 'CPU', 'Memory', 'Analyzer CPU', 'Net in / out', 'Heartbeat'], rows) : el('p', 'No members yet.'));
    const chosen = picker.value;
    picker.replaceChildren(...clusters.map((c) => el('option', c.cluster, { value: c.cluster })));
    picker.value = clusters.some((c) => c.cluster === chosen) ? chosen : clusters[0]?.cluster ?? '';
    showPolicy(picker.value);
  };

  const refresh = async (): Promise<void> => {
    try {
      const [c, d, a, comps] = await Promise.all([
        client.request('GET', '/v1/scheduler/clusters'), client.request('GET', '/v1/scheduler/decisions?limit=50'),
        client.request('GET', '/v1/alerts?state=open'), client.request('GET', '/v1/components'),
      ]);
      clusters = parseClusters(c);
      const decisions = parseDecisions(d);
      const alerts = parseAlerts(a);
      const components = parseComponents(comps);
      errorBox.hidden = true;
      renderClusters();
      const log = el('ul', undefined, { id: 'tally-sched-decisions' });
      for (const x of decisions) log.appendChild(el('li', `${x.cluster}: ${describeDecision(x)}`, { class: `decision-${x.action}` }));
      decisionsBox.replaceChildren(decisions.length ? log : el('p', 'No decisions yet.'));
      const at = table('tally-sched-alerts', ['Severity', 'Kind', 'What', 'Since', 'Times', 'Acknowledged', ''], alerts.map((x) => [
        x.severity, x.kind, x.message, clock(x.first_seen_at), x.occurrences, x.acknowledged_by ? `by ${x.acknowledged_by} at ${clock(x.acknowledged_at ?? x.last_seen_at)}` : 'no', '',
      ]));
      at.querySelectorAll('tbody tr').forEach((tr, i) => {
        const x = alerts[i]!;
        tr.setAttribute('data-alert', x.id);
        if (x.acknowledged_at) return;
        const b = el('button', 'Acknowledge', { type: 'button', class: 'btn btn-default btn-xs tally-sched-ack' });
        b.addEventListener('click', () => {
          void client.request('POST', `/v1/alerts/${encodeURIComponent(x.id)}/acknowledge`).then(() => refresh(), (err: unknown) => {
            renderError(errorBox, explainError(err));
            errorBox.hidden = false;
          });
        });
        tr.lastElementChild!.appendChild(b);
      });
      alertsBox.replaceChildren(alerts.length ? at : el('p', 'No open alerts.'));
      componentsBox.replaceChildren(table('tally-sched-components', ['Part', 'Role', 'Cluster', 'Node', 'Version', 'State', 'Heartbeat', 'CPU', 'Memory'], components.map((x) => [
        x.id, x.role, x.cluster, x.node, x.version, x.state, clock(x.last_heartbeat_at), percent(x.load?.cpuPercent), percent(x.load?.memoryPercent),
      ])));
    } catch (err) {
      // Stale figures next to an error would read as the present: clear them.
      for (const b of [clustersBox, membersBox, decisionsBox, alertsBox, componentsBox]) b.replaceChildren();
      renderError(errorBox, explainError(err));
      errorBox.hidden = false;
    }
  };
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}
