/**
 * The page: projects with month-to-date totals; click one for its breakdown and
 * daily chart. Refreshes every few seconds. On an error it shows the error and
 * hides every amount, so a failure never reads as a zero bill.
 */
import { BillingClient } from './api.js';
import { DailyChart } from './chart.js';
import { dailySeries, explainError } from './shape.js';
import { renderCharges, renderError, renderProjects } from './view.js';

const REFRESH_MS = 5000;

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
}

function start(): void {
  // In Horizon the API sits behind a proxy path; standalone it is the same origin.
  const base = document.querySelector<HTMLMetaElement>('meta[name="tally-api-base"]')?.content ?? '';
  const client = new BillingClient(base.replace(/\/$/, ''));
  const errorBox = byId('error');
  const content = byId('content');
  const projectsBox = byId('projects');
  const detailBox = byId('detail');
  const chartBox = byId('chart-box');
  const updated = byId('updated');
  const chart = new DailyChart(byId<HTMLCanvasElement>('chart'));
  let selected: string | undefined = new URLSearchParams(location.search).get('project') ?? undefined;
  let running = false;

  const refresh = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const list = await client.projects();
      const charges = selected === undefined ? undefined : await client.charges(selected);
      errorBox.hidden = true;
      content.hidden = false;
      renderProjects(projectsBox, list, selected, (id) => {
        selected = id;
        history.replaceState(null, '', `?project=${encodeURIComponent(id)}`);
        void refresh();
      });
      if (charges) {
        renderCharges(detailBox, charges);
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

start();
