/**
 * Admin > Billing: pools with their free capacity and the dynamic factor the live
 * policy gives at each sample, in a table and a Chart.js line chart over time.
 */
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { BillingClient } from './api.js';
import { parsePools, poolSeries, poolSource, shortTime } from './modes-data.js';
import { explainError } from './shape.js';
import type { PoolView } from './types.js';
import { el, renderError } from './view.js';

Chart.register(LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

/** Build the pools section inside `root`. */
export function startPools(root: HTMLElement, client: BillingClient): void {
  const list = el('div', undefined, { id: 'tally-pools-list' });
  const picker = el('select', undefined, { id: 'tally-pools-pick', class: 'form-control input-sm', 'aria-label': 'Pool shown in the chart' });
  const box = el('div', undefined, { class: 'chart', id: 'tally-pools-chart-box' });
  const canvas = el('canvas', undefined, { id: 'tally-pools-chart' });
  box.appendChild(canvas);
  box.hidden = true;
  const errorBox = el('section', undefined, { id: 'tally-pools-error', class: 'error', role: 'alert' });
  errorBox.hidden = true;
  root.replaceChildren(el('h3', 'Pools: free capacity and dynamic factor'), errorBox, list, picker, box);
  root.hidden = false;
  let chart: Chart<'line'> | undefined;
  let pools: PoolView[] = [];

  const draw = (pool: PoolView): void => {
    const s = poolSeries(pool);
    chart?.destroy();
    box.hidden = false;
    chart = new Chart(canvas, {
      type: 'line',
      data: {
        labels: s.labels,
        datasets: [
          { label: 'free capacity (%)', data: s.free, borderColor: '#3b7dd8', backgroundColor: '#3b7dd8', stepped: 'before' },
          { label: 'dynamic factor (% of the on-demand price)', data: s.factor, borderColor: '#d8783b', backgroundColor: '#d8783b', stepped: 'before' },
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: 100, title: { display: true, text: '%' } } },
        plugins: { tooltip: { callbacks: { label: (item) => (item.datasetIndex === 0 ? `free ${s.freeText[item.dataIndex] ?? ''}` : `factor ${s.factorText[item.dataIndex] ?? ''}`) } } },
      },
    });
  };

  picker.addEventListener('change', () => {
    const p = pools.find((x) => x.name === picker.value);
    if (p) draw(p);
  });

  void client.request('GET', '/v1/pools').then((body) => {
    pools = parsePools(body);
    if (pools.length === 0) {
      list.replaceChildren(el('p', 'No pools yet: an admin feeds free capacity with POST /v1/pools/{name}/capacity.'));
      picker.hidden = true;
      return;
    }
    const t = el('table', undefined, { id: 'tally-pools-table' });
    const head = t.createTHead().insertRow();
    for (const h of ['Pool', 'Resources', 'Free now', 'Dynamic factor now', 'Since', 'Source']) head.appendChild(el('th', h));
    const tb = t.createTBody();
    for (const p of pools) {
      const row = tb.insertRow();
      for (const text of [p.name, String(p.resources), p.latest?.free ?? '—', p.latest?.dynamic_factor ?? '—', p.latest ? shortTime(p.latest.at) : '—', poolSource(p)]) row.appendChild(el('td', text));
      picker.appendChild(el('option', p.name, { value: p.name }));
    }
    list.replaceChildren(t);
    draw(pools[0]!);
  }).catch((err: unknown) => {
    renderError(errorBox, explainError(err));
    errorBox.hidden = false;
  });
}
