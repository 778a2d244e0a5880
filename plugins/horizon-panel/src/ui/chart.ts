/**
 * The daily cost chart (Chart.js). Only the pieces used are registered, so the
 * bundle stays small.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import { formatMoney } from './format.js';
import type { ChartSeries } from './shape.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** Owns one bar chart on one canvas; `update` replaces its data in place. */
export class DailyChart {
  private chart: Chart<'bar'> | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Draw `series`; tooltips show the exact amount strings, not the floats. */
  update(series: ChartSeries, currency: string): void {
    if (this.chart) {
      this.chart.data.labels = series.labels;
      const ds = this.chart.data.datasets[0];
      if (ds) ds.data = series.values;
      this.amounts = series.amounts;
      this.currency = currency;
      this.chart.update('none');
      return;
    }
    this.amounts = series.amounts;
    this.currency = currency;
    this.chart = new Chart(this.canvas, {
      type: 'bar',
      data: { labels: series.labels, datasets: [{ label: 'cost per day', data: series.values, backgroundColor: '#3b7dd8' }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: currency } } },
        plugins: { tooltip: { callbacks: { label: (item) => formatMoney(this.amounts[item.dataIndex] ?? '0', this.currency, 6) } } },
      },
    });
  }

  /** Remove the chart (e.g. when an error replaces the view). */
  destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }

  private amounts: string[] = [];
  private currency = '';
}
