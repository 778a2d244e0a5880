/**
 * Scaling policies as text (YAML; JSON is YAML too): size bounds, the victim rule, and
 * per direction a step, a cooldown, a stabilisation window and threshold rules over time
 * windows. Parsing is pure and reports the first bad field by its path
 * (`scale_out.when_any[1].over`), so a 400 or a CLI error names it.
 *
 * A rule is written `[avg|min|max|last] METRIC > NUMBER over DURATION` (or `<`), e.g.
 * `avg queue_depth_per_replica > 5000 over 5m`, or as a mapping
 * `{metric, above | below, over, aggregate}`.
 */
import { parse as parseYaml } from 'yaml';
import { parseDuration, ValidationError } from '@tally/common';

/** Metrics a rule can name: cluster figures, computed each round from the registry and the broker. */
export const METRICS = {
  cpu_percent: { label: 'CPU', unit: '%', help: "average over the cluster's members of their node's CPU busy share" },
  memory_percent: { label: 'memory', unit: '%', help: "average of the members' node memory in use" },
  process_cpu_percent: { label: 'analyzer CPU', unit: '%', help: "average of the members' own process CPU (share of one core)" },
  disk_read_bytes_per_s: { label: 'disk reads', unit: 'B/s', help: 'average per member' },
  disk_write_bytes_per_s: { label: 'disk writes', unit: 'B/s', help: 'average per member' },
  net_in_bytes_per_s: { label: 'network in', unit: 'B/s', help: 'average per member' },
  net_out_bytes_per_s: { label: 'network out', unit: 'B/s', help: 'average per member' },
  queue_depth: { label: 'queue depth', unit: '', help: "messages ready in the cluster's queue" },
  queue_depth_per_replica: { label: 'queue depth', unit: 'per replica', help: 'queue depth divided by the running members (at least 1)' },
  publish_rate: { label: 'publish rate', unit: 'msg/s', help: 'messages arriving on the queue per second (ack rate + depth change)' },
  ack_rate: { label: 'ack rate', unit: 'msg/s', help: "messages the members took and acknowledged per second (their counters)" },
  processing_lag_seconds: { label: 'processing lag', unit: 's', help: 'largest member lag (wall clock − newest sample ingested) while the queue is not empty; 0 when it is' },
  dead_letters: { label: 'dead letters', unit: '', help: 'messages in the dead-letter queue' },
} as const;
export type Metric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as Metric[];

export const AGGREGATES = ['avg', 'min', 'max', 'last'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

/** One threshold over a time window. */
export interface Rule {
  metric: Metric;
  op: '>' | '<';
  threshold: number;
  windowMs: number;
  aggregate: Aggregate;
}

/** One direction: how far to move, how long to wait, when. */
export interface Direction {
  step: number;
  /** After any action on the cluster, no action in this direction for this long (Senlin's cooldown). */
  cooldownMs: number;
  /** The recommendation must have held at every observation of this window (Kubernetes HPA's stabilisation). */
  stabilizationMs: number;
  rules: Rule[];
}

export const VICTIMS = ['newest', 'least-loaded'] as const;
export type VictimRule = (typeof VICTIMS)[number];

/** A validated scaling policy. */
export interface ScalingPolicy {
  minSize: number;
  maxSize: number;
  victim: VictimRule;
  /** The broker queue whose depth the cluster drains; empty: the analyzer queue the scheduler is configured with. */
  queue: string;
  /** Scale out when ANY of its rules holds. */
  scaleOut: Direction;
  /** Scale in when ALL of its rules hold (and no scale-out rule does). */
  scaleIn: Direction;
}

/** The largest text accepted. */
export const MAX_POLICY_CHARS = 32 * 1024;

/** The built-in policy of a cluster that has none stored (shown as `default v0`). */
export const DEFAULT_SCALING_POLICY_TEXT = `# Built-in scaling policy (default v0): used until one is stored for the cluster.
min_size: 1
max_size: 3
victim: newest
scale_out:
  step: 1
  cooldown: 1m
  stabilization: 0s
  when_any:
    - avg queue_depth_per_replica > 5000 over 2m
    - avg processing_lag_seconds > 900 over 5m
scale_in:
  step: 1
  cooldown: 5m
  stabilization: 5m
  when_all:
    - avg queue_depth_per_replica < 500 over 5m
`;

const RULE_TEXT = /^\s*(?:(avg|min|max|last)\s+)?([a-z_]+)\s*(>|<)\s*(-?\d+(?:\.\d+)?)\s+(?:over|for)\s+(\S+)\s*$/;

function duration(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' && typeof v !== 'number') throw new ValidationError(field, 'must be a duration such as 30s, 5m or 1h');
  let ms: number;
  try {
    ms = parseDuration(String(v));
  } catch {
    throw new ValidationError(field, `must be a duration such as 30s, 5m or 1h, got ${JSON.stringify(v)}`);
  }
  if (ms > 7 * 86_400_000) throw new ValidationError(field, 'must be at most 7d');
  return ms;
}

function int(v: unknown, field: string, dflt: number | undefined, min: number, max: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ValidationError(field, `must be a whole number from ${min} to ${max}`);
  return v;
}

function only(o: Record<string, unknown>, prefix: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ValidationError(`${prefix}${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

function mapping(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError(field, 'must be a mapping');
  return v as Record<string, unknown>;
}

function metricName(v: unknown, field: string): Metric {
  if (typeof v !== 'string' || !(METRIC_NAMES as string[]).includes(v)) throw new ValidationError(field, `must be one of ${METRIC_NAMES.join(', ')}`);
  return v as Metric;
}

function rule(v: unknown, field: string): Rule {
  if (typeof v === 'string') {
    const m = RULE_TEXT.exec(v);
    if (!m) throw new ValidationError(field, 'must read like "avg queue_depth_per_replica > 5000 over 5m" ([avg|min|max|last] METRIC > or < NUMBER over DURATION)');
    const windowMs = duration(m[5], `${field}.over`, 0);
    if (windowMs <= 0) throw new ValidationError(`${field}.over`, 'must be longer than 0');
    return { aggregate: (m[1] ?? 'avg') as Aggregate, metric: metricName(m[2], `${field}.metric`), op: m[3] as '>' | '<', threshold: Number(m[4]), windowMs };
  }
  const o = mapping(v, field);
  only(o, `${field}.`, ['metric', 'above', 'below', 'over', 'aggregate']);
  const metric = metricName(o['metric'], `${field}.metric`);
  if ((o['above'] === undefined) === (o['below'] === undefined)) throw new ValidationError(`${field}.above`, 'give exactly one of above or below');
  const t = o['above'] ?? o['below'];
  const which = o['above'] !== undefined ? 'above' : 'below';
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new ValidationError(`${field}.${which}`, 'must be a number');
  const aggregate = o['aggregate'] ?? 'avg';
  if (!AGGREGATES.includes(aggregate as Aggregate)) throw new ValidationError(`${field}.aggregate`, `must be one of ${AGGREGATES.join(', ')}`);
  const windowMs = duration(o['over'], `${field}.over`, 0);
  if (windowMs <= 0) throw new ValidationError(`${field}.over`, 'is required: a duration longer than 0');
  return { metric, op: which === 'above' ? '>' : '<', threshold: t, windowMs, aggregate: aggregate as Aggregate };
}

function direction(v: unknown, field: string, listKey: 'when_any' | 'when_all', dflt: { cooldownMs: number; stabilizationMs: number }): Direction {
  if (v === undefined || v === null) return { step: 1, ...dflt, rules: [] };
  const o = mapping(v, field);
  only(o, `${field}.`, ['step', 'cooldown', 'stabilization', listKey]);
  const list = o[listKey] ?? [];
  if (!Array.isArray(list) || list.length > 20) throw new ValidationError(`${field}.${listKey}`, 'must be a list of at most 20 rules');
  return {
    step: int(o['step'], `${field}.step`, 1, 1, 100),
    cooldownMs: duration(o['cooldown'], `${field}.cooldown`, dflt.cooldownMs),
    stabilizationMs: duration(o['stabilization'], `${field}.stabilization`, dflt.stabilizationMs),
    rules: list.map((r, i) => rule(r, `${field}.${listKey}[${i}]`)),
  };
}

/** Parse and validate a policy text. Throws ValidationError naming the field. */
export function parseScalingPolicy(source: string): ScalingPolicy {
  if (source.length > MAX_POLICY_CHARS) throw new ValidationError('source', `must be at most ${MAX_POLICY_CHARS} characters`);
  let doc: unknown;
  try {
    doc = parseYaml(source);
  } catch (e) {
    throw new ValidationError('source', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const o = mapping(doc ?? {}, 'source');
  only(o, '', ['min_size', 'max_size', 'victim', 'queue', 'scale_out', 'scale_in']);
  const minSize = int(o['min_size'], 'min_size', 1, 0, 1000);
  const maxSize = int(o['max_size'], 'max_size', undefined, 1, 1000);
  if (maxSize < minSize) throw new ValidationError('max_size', `must be at least min_size (${minSize})`);
  const victim = o['victim'] ?? 'newest';
  if (!VICTIMS.includes(victim as VictimRule)) throw new ValidationError('victim', `must be one of ${VICTIMS.join(', ')}`);
  const queue = o['queue'] ?? '';
  if (typeof queue !== 'string' || (queue !== '' && !/^[A-Za-z0-9._:-]{1,200}$/.test(queue))) throw new ValidationError('queue', 'must be a queue name (letters, digits, ._:-)');
  return {
    minSize, maxSize, victim: victim as VictimRule, queue,
    scaleOut: direction(o['scale_out'], 'scale_out', 'when_any', { cooldownMs: 60_000, stabilizationMs: 0 }),
    scaleIn: direction(o['scale_in'], 'scale_in', 'when_all', { cooldownMs: 300_000, stabilizationMs: 300_000 }),
  };
}

/** Check a text: the policy, or the error with its field. */
export function checkScalingPolicy(source: string): { ok: true; policy: ScalingPolicy } | { ok: false; field: string; message: string } {
  try {
    return { ok: true, policy: parseScalingPolicy(source) };
  } catch (e) {
    if (e instanceof ValidationError) return { ok: false, field: e.field ?? 'source', message: e.message };
    throw e;
  }
}
