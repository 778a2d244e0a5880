/**
 * The usage job in the Hadoop Streaming contract, pure: the mapper turns one raw DFS
 * line into `key\tvalue` lines, the framework sorts by key, and the reducer turns
 * each run of equal keys into usage lines. Keys: `I"<instance>"` (heartbeats),
 * `M["<resource>","<meter>"]` (measured series), `P"<project>"` (`[vm, first, last]`
 * VM lifetimes for the billing span, foldable by a combiner); keys and values are JSON, so tabs and newlines in ids are escaped.
 * Every runner (in-process, worker threads, `cat | mapper | sort | reducer`) calls
 * these functions, and each window's rows equal those of the window job.
 */
import { decodeSampleLine } from './decode.js';
import { hoursCovering } from './layout.js';
import { extract, instanceRows, map, type InstanceRecord, type Window } from './mapreduce.js';
import { extractMeter, normaliseSeries, type CounterType, type MeterRecord } from './meters.js';
import { foldLifetimes, unionIntervals, type Lifetime } from './span.js';
import { HOUR_US } from './timestamp.js';
import type { UsageRecord } from './usage.js';
import { meterRow, spanRows } from './window-usage.js';

/** Options of one job. */
export interface JobOptions {
  gapThresholdUs: number;
  /** Emit only windows starting in [fromUs, toUs); default: every window the data touches. */
  fromUs?: number;
  toUs?: number;
}

type InstanceValue = [number, string | null, string | null, string | null, number | null, number | null, string | null];
type MeterValue = [number, CounterType, string, string, string | null, string | null];

/** The mapper: one raw sample line to its key/value lines (none for a blank line). Throws ValidationError on a bad line. */
export function mapLine(line: string): string[] {
  if (line.trim() === '') return [];
  const s = decodeSampleLine(line);
  const out: string[] = [];
  const i = extract(s);
  if (i) {
    const v: InstanceValue = [i.timestampUs, i.projectId, i.userId, i.flavorName, i.vcpus, i.memoryMb, i.displayName];
    out.push(`I${JSON.stringify(i.resourceId)}\t${JSON.stringify(v)}`);
    if (i.projectId !== null) out.push(`P${JSON.stringify(i.projectId)}\t${JSON.stringify([i.resourceId, i.timestampUs, i.timestampUs])}`);
  }
  const m = extractMeter(s);
  if (m) {
    const v: MeterValue = [m.timestampUs, m.type, m.unit, m.volume, m.projectId, m.userId];
    out.push(`M${JSON.stringify([m.resourceId, m.meter])}\t${JSON.stringify(v)}`);
  }
  return out;
}

function windowsOf(firstUs: number, lastUs: number, gapThresholdUs: number, o: JobOptions): Window[] {
  // An interval ending at lastUs can reach into the window after the last sample's; T covers it.
  return hoursCovering(firstUs, lastUs + gapThresholdUs)
    .filter((h) => (o.fromUs === undefined || h >= o.fromUs) && (o.toUs === undefined || h < o.toUs))
    .map((h) => ({ startUs: h, endUs: h + HOUR_US }));
}

/** The reducer for one key and all its values: usage records of every window the group touches. */
export function reduceGroup(key: string, values: readonly string[], o: JobOptions): UsageRecord[] {
  const T = o.gapThresholdUs;
  const kind = key[0];
  const id = JSON.parse(key.slice(1)) as unknown;
  const out: UsageRecord[] = [];
  if (kind === 'I') {
    const resourceId = id as string;
    const recs: InstanceRecord[] = values.map((v) => {
      const [timestampUs, projectId, userId, flavorName, vcpus, memoryMb, displayName] = JSON.parse(v) as InstanceValue;
      return { resourceId, timestampUs, projectId, userId, flavorName, vcpus, memoryMb, displayName };
    });
    const g = map(recs).get(resourceId);
    if (!g) return out;
    for (const w of windowsOf(g.timestamps[0] as number, g.latest.timestampUs, T, o)) out.push(...instanceRows(resourceId, g.records, w, T));
  } else if (kind === 'M') {
    const [resourceId, meter] = id as [string, string];
    const recs: MeterRecord[] = values.map((v) => {
      const [timestampUs, type, unit, volume, projectId, userId] = JSON.parse(v) as MeterValue;
      return { resourceId, meter, type, unit, timestampUs, volume, projectId, userId };
    });
    const n = normaliseSeries(recs);
    const type = (n[n.length - 1] as MeterRecord).type;
    const series = n.filter((r) => r.type === type);
    for (const w of windowsOf((series[0] as MeterRecord).timestampUs, (series[series.length - 1] as MeterRecord).timestampUs, T, o)) {
      const row = meterRow(series, w, T);
      if (row) out.push(row);
    }
  } else if (kind === 'P') {
    const projectId = id as string;
    // Values are [vm, first, last]: a combiner may have folded many heartbeats into one.
    const lifetimes: Lifetime[] = [...foldLifetimes(new Map(), values.flatMap((v) => {
      const [resourceId, firstUs, lastUs] = JSON.parse(v) as [string, number, number];
      return [{ resourceId, projectId, timestampUs: firstUs }, { resourceId, projectId, timestampUs: lastUs }];
    })).values()];
    const seen = new Set<number>();
    for (const [lo, hi] of unionIntervals(lifetimes.map((l) => [l.firstUs, l.lastUs] as const))) {
      for (const w of windowsOf(lo, hi - T + 1, T, o)) {
        if (seen.has(w.startUs)) continue;
        seen.add(w.startUs);
        out.push(...spanRows(lifetimes, w));
      }
    }
  } else throw new Error(`reducer: unknown key kind in ${key.slice(0, 40)}`);
  return out;
}

/** One usage record as a reducer output line: `<window>|<resource>|<meter>\t<json>`. */
export function formatUsageLine(r: UsageRecord): string {
  const key = `${r.windowStart.toISOString()}|${JSON.stringify(r.resourceId)}|${JSON.stringify(r.meter)}`;
  return `${key}\t${JSON.stringify({ ...r, windowStart: r.windowStart.toISOString(), windowEnd: r.windowEnd.toISOString() })}`;
}

/** Parse a reducer output line back into a usage record. */
export function parseUsageLine(line: string): UsageRecord {
  const tab = line.indexOf('\t');
  const v = JSON.parse(line.slice(tab + 1)) as Omit<UsageRecord, 'windowStart' | 'windowEnd'> & { windowStart: string; windowEnd: string };
  return { ...v, windowStart: new Date(v.windowStart), windowEnd: new Date(v.windowEnd) };
}

/**
 * The reducer over sorted `key\tvalue` lines (what Hadoop feeds a streaming reducer):
 * consecutive lines with one key form a group. Yields output lines.
 */
export function* reduceSortedLines(lines: Iterable<string>, o: JobOptions): Generator<string> {
  let key: string | undefined;
  let values: string[] = [];
  const flush = function* (): Generator<string> {
    if (key !== undefined) for (const r of reduceGroup(key, values, o)) yield formatUsageLine(r);
  };
  for (const line of lines) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const k = tab < 0 ? line : line.slice(0, tab);
    const v = tab < 0 ? '' : line.slice(tab + 1);
    if (k !== key) {
      yield* flush();
      key = k;
      values = [];
    }
    values.push(v);
  }
  yield* flush();
}

/** Usage records in one canonical order: window, resource, meter. */
export function sortUsage(records: UsageRecord[]): UsageRecord[] {
  const keyed = records.map((r) => ({ r, t: r.windowStart.getTime(), k: `${r.resourceId}\u0000${r.meter}` }));
  keyed.sort((a, b) => a.t - b.t || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  for (let i = 0; i < keyed.length; i++) records[i] = (keyed[i] as { r: UsageRecord }).r;
  return records;
}

/** Group mapper output by key (no sort needed in memory). */
export function groupMapped(mapped: Iterable<string>, into = new Map<string, string[]>()): Map<string, string[]> {
  for (const line of mapped) {
    const tab = line.indexOf('\t');
    const k = line.slice(0, tab);
    const g = into.get(k);
    if (g) g.push(line.slice(tab + 1));
    else into.set(k, [line.slice(tab + 1)]);
  }
  return into;
}

/** The in-process runner: map every line (unreadable ones are skipped, as by the window job), group by key, reduce each group. */
export function runInProcess(lines: Iterable<string>, o: JobOptions): UsageRecord[] {
  const groups = new Map<string, string[]>();
  for (const line of lines) {
    let mapped: string[];
    try {
      mapped = mapLine(line);
    } catch {
      continue;
    }
    groupMapped(mapped, groups);
  }
  const out: UsageRecord[] = [];
  for (const [k, vs] of groups) out.push(...reduceGroup(k, vs, o));
  return sortUsage(out);
}

/** A combiner for `P` lines: fold `[vm, first, last]` values per project and VM (min/max). */
export function combineSpanLines(lines: Iterable<string>, into = new Map<string, Map<string, [number, number]>>()): Map<string, Map<string, [number, number]>> {
  for (const line of lines) {
    const tab = line.indexOf('\t');
    const key = line.slice(0, tab);
    const [vm, first, last] = JSON.parse(line.slice(tab + 1)) as [string, number, number];
    let g = into.get(key);
    if (!g) into.set(key, (g = new Map()));
    const l = g.get(vm);
    if (!l) g.set(vm, [first, last]);
    else {
      l[0] = Math.min(l[0], first);
      l[1] = Math.max(l[1], last);
    }
  }
  return into;
}

/** Combined span state back to `P` lines. */
export function spanLines(combined: Map<string, Map<string, [number, number]>>): string[] {
  const out: string[] = [];
  for (const [key, g] of combined) for (const [vm, [f, l]] of g) out.push(`${key}\t${JSON.stringify([vm, f, l])}`);
  return out;
}
