/**
 * The scheduler's API answers (`/v1/scheduler/clusters`, `/v1/scheduler/decisions`,
 * `/v1/alerts`, `/v1/components`) checked before use, and the sentences the page shows:
 * "added analyzer-3 at 12:04: queue depth 18,000 > 5,000 per replica for 5 min".
 */
import { ApiError } from './shape.js';
import type { Alert, ClusterView, ComponentView, DecisionView } from './types.js';

function fail(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} is not a list`);
  return v;
}
const str = (o: Record<string, unknown>, k: string, what: string): string => {
  if (typeof o[k] !== 'string') fail(`${what} ${k}`);
  return o[k];
};

export function parseClusters(body: unknown): ClusterView[] {
  return list(obj(body, 'body')['clusters'], 'clusters').map((c) => {
    const o = obj(c, 'cluster');
    str(o, 'cluster', 'cluster');
    obj(o['policy'], 'policy');
    list(o['members'], 'members').forEach((m) => str(obj(m, 'member'), 'name', 'member'));
    return o as unknown as ClusterView;
  });
}

export function parseDecisions(body: unknown): DecisionView[] {
  return list(obj(body, 'body')['decisions'], 'decisions').map((d) => {
    const o = obj(d, 'decision');
    for (const k of ['at', 'action', 'reason']) str(o, k, 'decision');
    list(o['members'], 'decision members');
    return o as unknown as DecisionView;
  });
}

export function parseAlerts(body: unknown): Alert[] {
  return list(obj(body, 'body')['alerts'], 'alerts').map((a) => {
    const o = obj(a, 'alert');
    for (const k of ['id', 'kind', 'severity', 'message', 'last_seen_at', 'occurrences']) str(o, k, 'alert');
    return o as unknown as Alert;
  });
}

export function parseComponents(body: unknown): ComponentView[] {
  return list(obj(body, 'body')['components'], 'components').map((c) => {
    const o = obj(c, 'component');
    for (const k of ['id', 'role', 'cluster', 'node', 'state', 'last_heartbeat_at']) str(o, k, 'component');
    return o as unknown as ComponentView;
  });
}

/** `12:04` (UTC) for today, else `12-03 12:04`. */
export function clock(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const hm = d.toISOString().slice(11, 16);
  return d.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? hm : `${d.toISOString().slice(5, 10)} ${hm}`;
}

const names = (ms: readonly string[]) => (ms.length === 0 ? 'a member' : ms.join(', '));

/** One decision log line. */
export function describeDecision(d: DecisionView, now: Date = new Date()): string {
  const at = clock(d.at, now);
  if (d.action === 'out') return `added ${names(d.members)} at ${at}: ${d.reason}`;
  if (d.action === 'in') return `removed ${names(d.members)} at ${at}: ${d.reason}`;
  return `held at ${at}: ${d.reason}`;
}

/** A rate in B/s as `1.2 MB/s`. */
export function bytesPerSecond(x: number | undefined): string {
  if (x === undefined) return '—';
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s'];
  let v = x;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}

/** `42.5 %` or `—`. */
export const percent = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(1)} %`);

/** The cluster table's "queue" cell: depth and per replica, from the latest observation. */
export function queueCell(c: ClusterView): string {
  const m = c.observation?.metrics;
  if (!m || m['queue_depth'] === undefined) return '—';
  return `${m['queue_depth'].toLocaleString('en-US')} (${(m['queue_depth_per_replica'] ?? 0).toLocaleString('en-US')} per replica)`;
}
