/**
 * The instance rows of one window with Nova's timeline laid over the heartbeats,
 * pure. Samples stay the source of running time; Nova's events sharpen it:
 *
 * 1. Running intervals come from heartbeats as everywhere (neighbours closer than T).
 * 2. A start (create, power_on, unshelve; a resize first seen) extends running back
 *    from the first heartbeat after it to its instant, a stop (power_off, shelve,
 *    shelve_offload, delete) extends it from the last heartbeat before it to its
 *    instant, when that heartbeat is closer than T: the exact start and end.
 * 3. Nothing runs while Nova says the instance is off or deleted: a heartbeat after
 *    a delete (the agent's last poll racing it) or after a power_off adds nothing.
 * 4. The flavor in force is Nova's wherever Nova has told one, else the heartbeat's;
 *    the window is split at every flavor change inside it into rows
 *    [start, change), [change, end): a resize at 10:20 gives a 20-minute row at the
 *    old flavor and a 40-minute row at the new one.
 *
 * Nova's instants count to the millisecond (row windows are timestamps). With no
 * transitions the rows equal `instanceRows` exactly (tested).
 */
import { INSTANCE_METERS, lowerBound, type InstanceRecord, type Window } from '../mapreduce.js';
import { microsToSeconds } from '../timestamp.js';
import type { UsageRecord } from '../usage.js';
import { stateAt, type Transition } from './timeline.js';

type Interval = [number, number];

const STARTS = new Set(['create', 'power_on', 'unshelve', 'resize_finish', 'resize_revert', 'resize_confirm']);

/** Merge intervals into sorted, disjoint ones (touching ones merge). */
function union(iv: Interval[]): Interval[] {
  const s = iv.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: Interval[] = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** `run` minus `off` (both sorted and disjoint). */
function subtract(run: Interval[], off: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [a0, b] of run) {
    let a = a0;
    for (const [c, d] of off) {
      if (d <= a || c >= b) continue;
      if (c > a) out.push([a, c]);
      a = Math.max(a, d);
      if (a >= b) break;
    }
    if (a < b) out.push([a, b]);
  }
  return out;
}

/** Periods Nova calls off or deleted. */
function offPeriods(tl: readonly Transition[]): Interval[] {
  const out: Interval[] = [];
  let from: number | undefined;
  for (const t of tl) {
    const off = t.state === 'off' || t.state === 'deleted';
    if (off && from === undefined) from = t.atUs;
    else if (!off && from !== undefined) {
      out.push([from, t.atUs]);
      from = undefined;
    }
  }
  if (from !== undefined) out.push([from, Number.MAX_SAFE_INTEGER]);
  return out;
}

/** The running intervals of steps 1-3. */
export function runningIntervals(records: readonly InstanceRecord[], tl: readonly Transition[], thresholdUs: number): Interval[] {
  const iv: Interval[] = [];
  for (let i = 1; i < records.length; i++) {
    const a = (records[i - 1] as InstanceRecord).timestampUs;
    const b = (records[i] as InstanceRecord).timestampUs;
    if (b - a < thresholdUs) iv.push([a, b]);
  }
  let prev = 'unknown';
  for (const t of tl) {
    if (t.state === 'on' && prev !== 'on' && STARTS.has(t.action)) {
      const h = records[lowerBound(records, t.atUs)];
      if (h && h.timestampUs - t.atUs < thresholdUs) iv.push([t.atUs, h.timestampUs]);
    } else if ((t.state === 'off' || t.state === 'deleted') && (prev === 'on' || prev === 'unknown')) {
      const h = records[lowerBound(records, t.atUs + 1) - 1];
      if (h && t.atUs - h.timestampUs < thresholdUs) iv.push([h.timestampUs, t.atUs]);
    }
    prev = t.state;
  }
  return subtract(union(iv), offPeriods(tl));
}

interface Attrs {
  flavorName: string | null;
  vcpus: number | null;
  memoryMb: number | null;
}

/** The heartbeat whose attributes describe instant `x`: the latest at or before it within T, else the first after it. */
function heartbeatAt(records: readonly InstanceRecord[], x: number, thresholdUs: number): InstanceRecord | undefined {
  const before = records[lowerBound(records, x + 1) - 1];
  if (before && x - before.timestampUs < thresholdUs) return before;
  return records[lowerBound(records, x)] ?? before;
}

function attrsAt(records: readonly InstanceRecord[], tl: readonly Transition[], x: number, thresholdUs: number): Attrs {
  const f = stateAt(tl, x).flavor;
  if (f) return { flavorName: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb };
  const h = heartbeatAt(records, x, thresholdUs);
  return { flavorName: h?.flavorName ?? null, vcpus: h?.vcpus ?? null, memoryMb: h?.memoryMb ?? null };
}

/**
 * The rows of one instance in `window`: `instance`, and `instance.vcpus` /
 * `instance.memory` where the flavor is known, one set per flavor span of the window.
 * `records`: its heartbeats in [W.start − T, W.end + T), ascending and distinct (as `map` gives them);
 * `tl`: its timeline with instants in whole milliseconds.
 */
export function novaInstanceRows(id: string, records: readonly InstanceRecord[], tl: readonly Transition[], window: Window, thresholdUs: number): UsageRecord[] {
  const running = runningIntervals(records, tl, thresholdUs);
  const cuts = new Set<number>([window.startUs, window.endUs]);
  for (const t of tl) if (t.flavorChanged && t.atUs > window.startUs && t.atUs < window.endUs) cuts.add(t.atUs);
  const bounds = [...cuts].sort((a, b) => a - b);
  // Attributes are constant between these points, so each elementary piece is priced by its start.
  const points = new Set<number>(bounds);
  for (const [a, b] of running) for (const p of [a, b]) if (p > window.startUs && p < window.endUs) points.add(p);
  for (const r of records) if (r.timestampUs > window.startUs && r.timestampUs < window.endUs) points.add(r.timestampUs);
  for (const t of tl) if (t.atUs > window.startUs && t.atUs < window.endUs) points.add(t.atUs);
  const pts = [...points].sort((a, b) => a - b);
  const covered = (x: number) => running.some(([a, b]) => a <= x && x < b);
  const anyVcpus = records.some((r) => r.vcpus !== null);
  const anyMemory = records.some((r) => r.memoryMb !== null);
  const out: UsageRecord[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const s = bounds[k] as number;
    const e = bounds[k + 1] as number;
    let runUs = 0;
    let vcpuUs = 0n;
    let memUs = 0n;
    let novaVcpus = false;
    let novaMemory = false;
    for (let i = 0; i + 1 < pts.length; i++) {
      const x = pts[i] as number;
      const y = pts[i + 1] as number;
      if (x < s || y > e) continue;
      const f = stateAt(tl, x).flavor;
      if (f?.vcpus !== null && f?.vcpus !== undefined) novaVcpus = true;
      if (f?.memoryMb !== null && f?.memoryMb !== undefined) novaMemory = true;
      if (!covered(x)) continue;
      const a = attrsAt(records, tl, x, thresholdUs);
      runUs += y - x;
      if (a.vcpus !== null) vcpuUs += BigInt(a.vcpus) * BigInt(y - x);
      if (a.memoryMb !== null) memUs += BigInt(a.memoryMb) * BigInt(y - x);
    }
    const samples = records.filter((r) => r.timestampUs >= s && r.timestampUs < e).length;
    if (runUs === 0 && samples === 0) continue;
    const h = records[lowerBound(records, e) - 1] ?? records[lowerBound(records, s)];
    if (!h) continue;
    const nova = stateAt(tl, e - 1).flavor;
    const base = {
      windowStart: new Date(s / 1000), windowEnd: new Date(e / 1000), resourceId: id, projectId: h.projectId, userId: h.userId,
      flavorName: nova ? nova.name : h.flavorName, vcpus: nova ? nova.vcpus : h.vcpus, memoryMb: nova ? nova.memoryMb : h.memoryMb, displayName: h.displayName, samples,
    };
    out.push({ ...base, meter: INSTANCE_METERS.running, unit: 's', quantity: microsToSeconds(runUs) });
    if (anyVcpus || novaVcpus) out.push({ ...base, meter: INSTANCE_METERS.vcpus, unit: 'vCPU*s', quantity: microsToSeconds(vcpuUs) });
    if (anyMemory || novaMemory) out.push({ ...base, meter: INSTANCE_METERS.memory, unit: 'MB*s', quantity: microsToSeconds(memUs) });
  }
  return out;
}
