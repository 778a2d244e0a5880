/**
 * The scaling decision: a pure function of (series, policy, members, last action, now)
 * to the action wanted now, with the reason in words. No IO; table-tested.
 *
 * How triggers combine (documented in the README):
 * 1. While a member is being created, drained or deleted, hold (one action at a time per
 *    cluster, as Senlin serialises cluster actions).
 * 2. Below `min_size`: add up to it; above `max_size`: remove down to it (no rule needed,
 *    no cooldown).
 * 3. Scale out when ANY scale-out rule holds; scale in only when ALL scale-in rules hold
 *    and no scale-out rule does: adding wins, so a cluster under pressure by one measure
 *    is never shrunk because another looks idle.
 * 4. The move is the direction's `step`, clipped to the size bounds; at `max_size` with a
 *    scale-out rule holding, hold and say so (the caller raises the alert).
 * 5. Cooldown (Senlin): no move in a direction until its cooldown has passed since the last
 *    action of either direction (a failed action counts: a refusal is not retried at once).
 * 6. Stabilisation (Kubernetes HPA): a move happens only if the same recommendation held at
 *    every observation within the direction's stabilisation window, so one quiet sample
 *    between busy ones never removes a member.
 * A rule is judged only once the series reaches back a whole window (else: no data yet).
 */
import { METRICS, type Direction, type Metric, type Rule, type ScalingPolicy } from './policy/format.js';

/** One observation of a cluster (ms since the epoch; metrics may be missing). */
export interface Observation {
  at: number;
  values: Partial<Record<Metric, number>>;
}

export type MemberState = 'creating' | 'running' | 'draining' | 'deleting';

/** A member as the decision sees it. `managed`: created by this scheduler's driver (only those can be removed). */
export interface MemberView {
  name: string;
  state: MemberState;
  startedAt: number;
  managed: boolean;
  cpuPercent?: number;
  processCpuPercent?: number;
}

export interface LastAction {
  direction: 'out' | 'in';
  at: number;
  /** It failed (e.g. the cloud refused): even the size bounds wait for the cooldown before retrying. */
  failed?: boolean;
}

export interface DecisionInput {
  /** Oldest first. */
  series: readonly Observation[];
  policy: ScalingPolicy;
  members: readonly MemberView[];
  lastAction: LastAction | undefined;
  now: number;
}

export type Block = 'in_progress' | 'max' | 'min' | 'cooldown' | 'stabilization' | 'no_managed_member';

/** One rule's verdict: the aggregate over its window (null: not enough data yet). */
export interface RuleResult {
  rule: Rule;
  value: number | null;
  holds: boolean;
  text: string;
}

export interface Decision {
  action: 'out' | 'in' | 'hold';
  count: number;
  fromSize: number;
  toSize: number;
  reason: string;
  blockedBy?: Block;
  /** At max size with a scale-out rule holding: an operator should look. */
  overThresholdAtMax: boolean;
  outRules: RuleResult[];
  inRules: RuleResult[];
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** `5 min`, `30 s`, `2 h`. */
export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${NUMBER.format(ms / 1000)} s`;
}

const AGG_WORD = { avg: '', min: 'lowest ', max: 'highest ', last: 'latest ' } as const;

/** "queue depth 18,000 > 5,000 per replica for 5 min", "CPU 82.5 % > 70 % for 5 min". */
export function describeRule(rule: Rule, value: number | null): string {
  const m = METRICS[rule.metric];
  const after = m.unit === '' ? '' : m.unit === 'per replica' ? '' : ` ${m.unit}`;
  const tail = m.unit === '' ? '' : ` ${m.unit}`;
  const v = value === null ? 'no data' : `${NUMBER.format(value)}${after}`;
  return `${AGG_WORD[rule.aggregate]}${m.label} ${v} ${rule.op} ${NUMBER.format(rule.threshold)}${tail} for ${formatWindow(rule.windowMs)}`;
}

/** First index whose `at` is > t (series sorted by `at`). */
function upperBound(series: readonly Observation[], t: number): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]!.at <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rule's aggregate over (t − window, t], or null when the series does not reach back a whole window. */
export function aggregateAt(series: readonly Observation[], rule: Rule, t: number): number | null {
  const first = series[0];
  if (!first || first.at > t - rule.windowMs) return null;
  const end = upperBound(series, t);
  const start = upperBound(series, t - rule.windowMs);
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let last: number | null = null;
  for (let i = start; i < end; i++) {
    const v = series[i]!.values[rule.metric];
    if (v === undefined) continue;
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    last = v;
  }
  if (n === 0) return null;
  switch (rule.aggregate) {
    case 'avg': return sum / n;
    case 'min': return min;
    case 'max': return max;
    case 'last': return last;
  }
}

function holds(rule: Rule, value: number | null): boolean {
  return value !== null && (rule.op === '>' ? value > rule.threshold : value < rule.threshold);
}

function judge(series: readonly Observation[], rules: readonly Rule[], t: number): RuleResult[] {
  return rules.map((rule) => {
    const value = aggregateAt(series, rule, t);
    return { rule, value, holds: holds(rule, value), text: describeRule(rule, value) };
  });
}

type Recommendation = 'out' | 'in' | 'hold';

// Re-judged at every observation of a stabilisation window: no reason text (a quarter of a round's CPU when it was made here).
function recommend(series: readonly Observation[], p: ScalingPolicy, t: number): Recommendation {
  if (p.scaleOut.rules.some((r) => holds(r, aggregateAt(series, r, t)))) return 'out';
  if (p.scaleIn.rules.length > 0 && p.scaleIn.rules.every((r) => holds(r, aggregateAt(series, r, t)))) return 'in';
  return 'hold';
}

/** True when `want` was the recommendation at every observation of (now − window, now], and the series reaches back that far. */
function stable(series: readonly Observation[], p: ScalingPolicy, d: Direction, want: Recommendation, now: number): boolean {
  if (d.stabilizationMs <= 0) return true;
  const from = now - d.stabilizationMs;
  if (!series[0] || series[0].at > from) return false;
  for (let i = upperBound(series, from); i < series.length && series[i]!.at <= now; i++) {
    if (recommend(series, p, series[i]!.at) !== want) return false;
  }
  return true;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The action wanted now. */
export function decide(input: DecisionInput): Decision {
  const { series, policy: p, members, lastAction, now } = input;
  const counted = members.filter((m) => m.state === 'creating' || m.state === 'running');
  const size = counted.length;
  const outRules = judge(series, p.scaleOut.rules, now);
  const inRules = judge(series, p.scaleIn.rules, now);
  const base = { fromSize: size, outRules, inRules, overThresholdAtMax: false };
  const hold = (reason: string, blockedBy?: Block, atMax = false): Decision =>
    ({ ...base, action: 'hold', count: 0, toSize: size, reason, ...(blockedBy ? { blockedBy } : {}), overThresholdAtMax: atMax });
  const move = (action: 'out' | 'in', count: number, reason: string): Decision =>
    ({ ...base, action, count, toSize: action === 'out' ? size + count : size - count, reason });

  const busy = members.find((m) => m.state !== 'running');
  if (busy) return hold(`waiting for ${busy.name} (${busy.state})`, 'in_progress');
  if (lastAction?.failed && (size < p.minSize || size > p.maxSize)) {
    const d = lastAction.direction === 'out' ? p.scaleOut : p.scaleIn;
    if (now - lastAction.at < d.cooldownMs) return hold(`cooldown after a failed scale-${lastAction.direction} until ${new Date(lastAction.at + d.cooldownMs).toISOString()}`, 'cooldown');
  }
  if (size < p.minSize) return move('out', p.minSize - size, `below min size ${p.minSize} (${plural(size, 'member')})`);
  if (size > p.maxSize) return move('in', size - p.maxSize, `above max size ${p.maxSize} (${plural(size, 'member')})`);

  const hits = outRules.filter((r) => r.holds);
  const since = (d: Direction) => (lastAction ? now - lastAction.at < d.cooldownMs : false);
  if (hits.length > 0) {
    const why = hits.map((r) => r.text).join('; ');
    if (size >= p.maxSize) return hold(`at max size ${p.maxSize} while ${why}`, 'max', true);
    if (since(p.scaleOut)) return hold(`cooldown until ${new Date(lastAction!.at + p.scaleOut.cooldownMs).toISOString()}: ${why}`, 'cooldown');
    if (!stable(series, p, p.scaleOut, 'out', now)) return hold(`not yet stable for ${formatWindow(p.scaleOut.stabilizationMs)}: ${why}`, 'stabilization');
    return move('out', Math.min(p.scaleOut.step, p.maxSize - size), why);
  }
  if (inRules.length > 0 && inRules.every((r) => r.holds)) {
    const why = inRules.map((r) => r.text).join(' and ');
    if (size <= p.minSize) return hold(`at min size ${p.minSize} while ${why}`, 'min');
    if (since(p.scaleIn)) return hold(`cooldown until ${new Date(lastAction!.at + p.scaleIn.cooldownMs).toISOString()}: ${why}`, 'cooldown');
    if (!stable(series, p, p.scaleIn, 'in', now)) return hold(`not yet stable for ${formatWindow(p.scaleIn.stabilizationMs)}: ${why}`, 'stabilization');
    if (!counted.some((m) => m.managed)) return hold(`no member this scheduler created can be removed: ${why}`, 'no_managed_member');
    return move('in', Math.min(p.scaleIn.step, size - p.minSize, counted.filter((m) => m.managed).length), why);
  }
  const noData = [...outRules, ...inRules].filter((r) => r.value === null).length;
  return hold(noData > 0 ? `within thresholds (${plural(noData, 'rule')} without a whole window of data yet)` : 'within thresholds');
}
