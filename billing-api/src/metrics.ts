/**
 * Prometheus metrics in the text exposition format, without a dependency:
 * request counts and latency histograms per route, plus gauges read at
 * scrape time (Keystone validation counters).
 */
import type { Context, Next } from 'koa';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The API's metrics. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly gauges: { name: string; help: string; read: () => number }[] = [];

  /** Koa middleware recording every request under its route pattern (unmatched paths share one label). */
  middleware() {
    return async (ctx: Context, next: Next): Promise<void> => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const key = `method="${esc(ctx.method)}",route="${esc(String(route))}",status="${ctx.status}"`;
        this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
        const hkey = `method="${esc(ctx.method)}",route="${esc(String(route))}"`;
        const h = this.durations.get(hkey) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
        BUCKETS.forEach((b, i) => {
          if (seconds <= b) h.counts[i]!++;
        });
        h.sum += seconds;
        h.count++;
        this.durations.set(hkey, h);
      }
    };
  }

  /** A counter or gauge read when scraped. */
  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push({ name, help, read });
  }

  /** The exposition text. */
  render(): string {
    const out: string[] = ['# HELP tally_api_requests_total HTTP requests by method, route and status.', '# TYPE tally_api_requests_total counter'];
    for (const [k, v] of this.requests) out.push(`tally_api_requests_total{${k}} ${v}`);
    out.push('# HELP tally_api_request_duration_seconds Request latency.', '# TYPE tally_api_request_duration_seconds histogram');
    for (const [k, h] of this.durations) {
      BUCKETS.forEach((b, i) => out.push(`tally_api_request_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`));
      out.push(`tally_api_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`tally_api_request_duration_seconds_sum{${k}} ${h.sum}`, `tally_api_request_duration_seconds_count{${k}} ${h.count}`);
    }
    for (const g of this.gauges) out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${g.read()}`);
    return out.join('\n') + '\n';
  }
}
