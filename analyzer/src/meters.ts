/**
 * Usage of measured meters, pure: gauges integrated over their running intervals
 * (value × time, e.g. MB·s), cumulative counters as deltas with reset detection,
 * delta meters summed. Every quantity is exact decimal text (decimal.js, never a
 * JS number), and each window counts exactly its part, so windows add up to the whole.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import type { RawSample } from './decode.js';
import type { Window } from './mapreduce.js';
import { microsToSeconds } from './timestamp.js';

/** Enough digits for sums of counters far above 2^64 with 6 decimals. */
const Dec = DecimalJs.clone({ precision: 80, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 60 });
type Dec = InstanceType<typeof Dec>;

/** Ceilometer's three sample types. */
export type CounterType = 'gauge' | 'cumulative' | 'delta';

/** What the usage job needs from one measured sample of any meter. */
export interface MeterRecord {
  resourceId: string;
  meter: string;
  type: CounterType;
  /** The sample's unit (`MB`, `ns`, `B`). */
  unit: string;
  timestampUs: number;
  /** Exact decimal text. */
  volume: string;
  projectId: string | null;
  userId: string | null;
}

const TYPES = new Set<string>(['gauge', 'cumulative', 'delta']);

/** Extract a measured sample, or null for a counter type other than gauge/cumulative/delta. */
export function extractMeter(s: RawSample): MeterRecord | null {
  if (!TYPES.has(s.counter_type)) return null;
  return {
    resourceId: s.resource_id, meter: s.counter_name, type: s.counter_type as CounterType, unit: s.counter_unit,
    timestampUs: s.timestampUs, volume: s.counter_volume, projectId: s.project_id, userId: s.user_id,
  };
}

/** The key of one series: resource and meter (NUL cannot occur in either). */
export function seriesKey(r: Pick<MeterRecord, 'resourceId' | 'meter'>): string {
  return `${r.resourceId}\u0000${r.meter}`;
}

/**
 * Sort one series by time and keep one sample per timestamp (redeliveries; two
 * different values at one instant keep the greater, so the result never depends on order).
 */
export function normaliseSeries(series: readonly MeterRecord[]): MeterRecord[] {
  const sorted = [...series].sort((a, b) => a.timestampUs - b.timestampUs || new Dec(a.volume).cmp(b.volume));
  const out: MeterRecord[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.timestampUs === r.timestampUs) out[out.length - 1] = r; // the greater volume sorts last
    else out.push(r);
  }
  return out;
}

/** The usage of one series in one window. */
export interface MeterSlice {
  /** `<unit>*s` for gauges (integral over time), the sample unit otherwise. */
  unit: string;
  /** Exact decimal text. */
  quantity: string;
  /** Distinct timestamps inside the window. */
  samples: number;
  /** Counter resets seen inside the window (cumulative only). */
  resets: number;
}

function plain(d: Dec): string {
  return d.toFixed();
}

/**
 * Reduce one normalised series (see normaliseSeries) for one window.
 * - gauge: Σ value(a) × |[a, b) ∩ W| over neighbours a < b with b − a < T: the value
 *   holds until the next sample; a gap at or above T is downtime.
 * - cumulative: Σ over neighbours with b in W and b − a < T of (v_b − v_a), or v_b when
 *   v_b < v_a (the counter restarted from zero). The first sample after a gap is a new
 *   baseline: a window job must be able to judge each pair from [W.start − T, W.end).
 * - delta: Σ of the volumes stamped inside W.
 */
export function reduceMeter(series: readonly MeterRecord[], window: Window, gapThresholdUs: number): MeterSlice {
  const first = series[0];
  if (!first) throw new RangeError('reduceMeter: empty series');
  let samples = 0;
  let resets = 0;
  let sum = new Dec(0);
  const inW = (t: number): boolean => t >= window.startUs && t < window.endUs;
  if (first.type === 'gauge') {
    // Integer µs per distinct value first: one decimal multiplication per value, not per interval.
    const byValue = new Map<string, number>();
    for (let i = 0; i < series.length; i++) {
      const b = series[i] as MeterRecord;
      if (inW(b.timestampUs)) samples++;
      const a = series[i - 1];
      if (!a || b.timestampUs - a.timestampUs >= gapThresholdUs) continue;
      const lo = Math.max(a.timestampUs, window.startUs);
      const hi = Math.min(b.timestampUs, window.endUs);
      if (hi > lo) byValue.set(a.volume, (byValue.get(a.volume) ?? 0) + (hi - lo));
    }
    for (const [v, us] of byValue) sum = sum.plus(new Dec(v).times(microsToSeconds(us)));
    return { unit: `${first.unit}*s`, quantity: plain(sum), samples, resets };
  }
  for (let i = 0; i < series.length; i++) {
    const b = series[i] as MeterRecord;
    if (!inW(b.timestampUs)) continue;
    samples++;
    if (first.type === 'delta') {
      sum = sum.plus(b.volume);
      continue;
    }
    const a = series[i - 1];
    if (!a || b.timestampUs - a.timestampUs >= gapThresholdUs) continue;
    const vb = new Dec(b.volume);
    const d = vb.minus(a.volume);
    if (d.isNegative()) {
      resets++;
      sum = sum.plus(vb);
    } else sum = sum.plus(d);
  }
  return { unit: first.unit, quantity: plain(sum), samples, resets };
}

/** Group records into normalised series by (resource, meter); a series mixing types keeps its latest type. */
export function mapMeters(records: Iterable<MeterRecord>): Map<string, MeterRecord[]> {
  const raw = new Map<string, MeterRecord[]>();
  for (const r of records) {
    const k = seriesKey(r);
    const g = raw.get(k);
    if (g) g.push(r);
    else raw.set(k, [r]);
  }
  const out = new Map<string, MeterRecord[]>();
  for (const [k, g] of raw) {
    const n = normaliseSeries(g);
    const type = (n[n.length - 1] as MeterRecord).type;
    out.set(k, n.filter((r) => r.type === type));
  }
  return out;
}

/** Exact decimal product of a decimal and an integer µs duration, in value·seconds. */
export function timesSeconds(value: string, us: number | bigint): string {
  return plain(new Dec(value).times(microsToSeconds(us)));
}

/** Exact sum of decimal strings. */
export function sumDecimals(values: Iterable<string>): string {
  let s = new Dec(0);
  for (const v of values) s = s.plus(v);
  return plain(s);
}
