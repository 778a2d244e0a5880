/**
 * The page. Standalone (and in Horizon's Admin panel): projects with
 * month-to-date totals; click one for its breakdown and daily chart. In
 * Horizon's Project panel: the current project only. Refreshes every few
 * seconds. On an error it shows the error and hides every amount, so a failure
 * never reads as a zero bill.
 */
import { BillingClient } from './api.js';
import { DailyChart } from './chart.js';
import { readConfig, type PageConfig } from './config.js';
import { startAccounts } from './accounts-view.js';
import { startPolicyEditor } from './policies-view.js';
import { startQuoteCalculator } from './quote-view.js';
import { startModes } from './modes-view.js';
import { startPools } from './pools-view.js';
import { startScheduler } from './scheduler-view.js';
import { startProjectInvoices } from './project-invoices-view.js';
import { dailySeries, explainError } from './shape.js';
import { renderCharges, renderError, renderProjects } from './view.js';

const REFRESH_MS = 5000;

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
}

function start(config: PageConfig): void {
  const client = new BillingClient(config.apiBase);
  const errorBox = byId('tally-error');
  const content = byId('tally-content');
  const projectsBox = byId('tally-projects');
  const detailBox = byId('tally-detail');
  const chartBox = byId('tally-chart-box');
  const updated = byId('tally-updated');
  const chart = new DailyChart(byId<HTMLCanvasElement>('tally-chart'));
  let selected: string | undefined = config.mode === 'project' ? config.projectId : new URLSearchParams(location.search).get('project') ?? undefined;
  let running = false;
  const schedulerBox = byId('tally-scheduler');
  if (config.mode === 'scheduler') {
    // Admin > Billing > Scheduler: the scheduler is the page.
    content.hidden = true;
    updated.hidden = true;
    startScheduler(schedulerBox, client);
    return;
  }
  if (config.schedulerInline) startScheduler(schedulerBox, client);
  projectsBox.hidden = config.mode === 'project';
  // Managers' tools: only on the every-project page (Admin > Billing, or standalone).
  if (config.mode === 'all') {
    startPolicyEditor(byId('tally-policies'), client);
    startAccounts(byId('tally-accounts'), client);
    startPools(byId('tally-pools'), client);
  }
  if (config.mode === 'project' && config.projectId) {
    startModes(byId('tally-modes'), client, config.projectId);
    startQuoteCalculator(byId('tally-quote'), client, config.projectId);
    startProjectInvoices(byId('tally-invoices'), client, config.projectId);
  }

  const refresh = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      // A project member must not ask for every project: only the admin view lists them.
      const list = config.mode === 'all' ? await client.projects() : undefined;
      const charges = selected === undefined ? undefined : await client.charges(selected);
      errorBox.hidden = true;
      content.hidden = false;
      if (list) {
        renderProjects(projectsBox, list, selected, (id) => {
          selected = id;
          history.replaceState(null, '', `?project=${encodeURIComponent(id)}`);
          void refresh();
        });
      }
      if (charges) {
        renderCharges(detailBox, charges, config.projectName ? `Project ${config.projectName} (${charges.project_id})` : undefined);
        chartBox.hidden = false;
        chart.update(dailySeries(charges.daily), charges.currency);
      } else {
        detailBox.replaceChildren();
        chartBox.hidden = true;
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    } catch (err) {
      // Hide every amount: stale or partial numbers next to an error could be read as the bill.
      content.hidden = true;
      chart.destroy();
      renderError(errorBox, explainError(err));
      updated.textContent = `Last attempt ${new Date().toLocaleTimeString()} failed; retrying every ${REFRESH_MS / 1000} s.`;
    } finally {
      running = false;
    }
  };

  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

const root = byId('tally-root');
try {
  start(readConfig({ ...root.dataset }));
} catch (err) {
  renderError(byId('tally-error'), { title: 'The billing page is misconfigured', detail: err instanceof Error ? err.message : String(err), advice: 'Tell the operator: the page template sets these attributes.' });
}
