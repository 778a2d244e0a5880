/**
 * The seed-000 usage computation as pure functions (no IO), so the in-process
 * runner, a worker-thread runner and Hadoop Streaming give one result:
 * extract (sample -> record), map (group timestamps by instance), reduce (sum the
 * gaps below the threshold that fall inside one hourly window).
 */
import { HEARTBEAT_METER, heartbeatAttributes } from './attributes.js';
import type { RawSample } from './decode.js';
import { microsToSeconds } from './timestamp.js';
import type { InstanceAttributes, UsageRecord } from './usage.js';

export { HEARTBEAT_METER } from './attributes.js';

/** What the usage job needs from one heartbeat sample. */
export interface InstanceRecord extends InstanceAttributes {
  /** The instance uuid (the `cpu` sample's resource_id). */
  resourceId: string;
  timestampUs: number;
}

/** An hourly window [startUs, endUs) in microseconds. */
export interface Window {
  startUs: number;
  endUs: number;
}

/**
 * Extract one instance heartbeat from a sample, or null for any other meter. The
 * attributes are those validation read (see attributes.ts), or read here for a
 * sample built without validation.
 */
export function extract(s: RawSample): InstanceRecord | null {
  if (s.counter_name !== HEARTBEAT_METER) return null;
  const a = s.attributes ?? heartbeatAttributes(s.resource_metadata);
  return {
    resourceId: s.resource_id,
    timestampUs: s.timestampUs,
    projectId: s.project_id,
    userId: s.user_id,
    flavorName: a.flavorName,
    vcpus: a.vcpus,
    memoryMb: a.memoryMb,
    displayName: a.displayName,
  };
}

/** The map output for one instance. */
export interface ResourceGroup {
  /** Distinct timestamps, ascending. */
  timestamps: number[];
  /** One record per distinct timestamp, ascending (the attributes in effect from that instant). */
  records: InstanceRecord[];
  /** The record with the greatest timestamp: the instance's latest known attributes. */
  latest: InstanceRecord;
}

/** A total order on records of one instant, so duplicates resolve the same way in any order. */
function attrKey(r: InstanceRecord): string {
  return `${r.projectId}\u0000${r.userId}\u0000${r.flavorName}\u0000${r.vcpus}\u0000${r.memoryMb}\u0000${r.displayName}`;
}

/** Group heartbeats by instance; sorts and keeps one record per timestamp (redeliveries). */
export function map(records: Iterable<InstanceRecord>): Map<string, ResourceGroup> {
  const raw = new Map<string, InstanceRecord[]>();
  for (const r of records) {
    const g = raw.get(r.resourceId);
    if (!g) raw.set(r.resourceId, [r]);
    else g.push(r);
  }
  const out = new Map<string, ResourceGroup>();
  for (const [id, g] of raw) {
    g.sort((a, b) => a.timestampUs - b.timestampUs || (attrKey(a) < attrKey(b) ? -1 : attrKey(a) > attrKey(b) ? 1 : 0));
    const recs: InstanceRecord[] = [];
    for (const r of g) {
      const last = recs[recs.length - 1];
      if (last && last.timestampUs === r.timestampUs) recs[recs.length - 1] = r;
      else recs.push(r);
    }
    out.set(id, { timestamps: recs.map((r) => r.timestampUs), records: recs, latest: recs[recs.length - 1] as InstanceRecord });
  }
  return out;
}

/** The reduce output for one instance and one window. */
export interface WindowSlice {
  resourceId: string;
  /** Running microseconds inside the window. */
  runningUs: number;
  /** Distinct timestamps inside the window. */
  samples: number;
}

/**
 * Sum the gaps between neighbouring timestamps that are strictly below
 * `gapThresholdUs` (a gap at or above it is downtime), counting only the part of
 * each interval inside `window`, so the slices of consecutive windows add up to
 * the whole. `sortedTimestamps` must be ascending; equal neighbours add nothing.
 */
export function reduce(resourceId: string, sortedTimestamps: readonly number[], window: Window, gapThresholdUs: number): WindowSlice {
  let runningUs = 0;
  let samples = 0;
  for (let i = 0; i < sortedTimestamps.length; i++) {
    const b = sortedTimestamps[i] as number;
    const a = i > 0 ? (sortedTimestamps[i - 1] as number) : undefined;
    if (a !== undefined && b < a) throw new RangeError(`reduce: timestamps of ${resourceId} are not sorted`);
    if (b >= window.startUs && b < window.endUs && b !== a) samples++;
    if (a === undefined || b - a >= gapThresholdUs) continue;
    const lo = Math.max(a, window.startUs);
    const hi = Math.min(b, window.endUs);
    if (hi > lo) runningUs += hi - lo;
  }
  return { resourceId, runningUs, samples };
}

/** Allocated capacity over running time in one window: vCPU·µs and MB·µs (exact BigInt). */
export interface Allocation {
  vcpuUs: bigint;
  memoryMbUs: bigint;
}

/**
 * Integrate the flavor's vCPUs and memory over the running intervals of one
 * instance inside `window`: each interval [a, b) with b − a < T counts with the
 * attributes of the heartbeat at a. `records` as from `map` (ascending, distinct).
 */
export function reduceAllocation(records: readonly InstanceRecord[], window: Window, gapThresholdUs: number): Allocation {
  let vcpuUs = 0n;
  let memoryMbUs = 0n;
  for (let i = 1; i < records.length; i++) {
    const a = records[i - 1] as InstanceRecord;
    const b = records[i] as InstanceRecord;
    if (b.timestampUs - a.timestampUs >= gapThresholdUs) continue;
    const us = Math.min(b.timestampUs, window.endUs) - Math.max(a.timestampUs, window.startUs);
    if (us <= 0) continue;
    if (a.vcpus !== null) vcpuUs += BigInt(a.vcpus) * BigInt(us);
    if (a.memoryMb !== null) memoryMbUs += BigInt(a.memoryMb) * BigInt(us);
  }
  return { vcpuUs, memoryMbUs };
}

/** Meter names of the rows derived from heartbeats. */
export const INSTANCE_METERS = { running: 'instance', vcpus: 'instance.vcpus', memory: 'instance.memory' } as const;

/** First index whose timestamp is at or after `us` (records ascending by time). */
export function lowerBound(sorted: readonly { timestampUs: number }[], us: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as { timestampUs: number }).timestampUs < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The rows of one instance in one window, from its records as `map` returns them
 * (ascending, one per instant). Only records in [W.start − T, W.end + T) are looked
 * at, so the window job (which reads just that range) and a job over all history
 * give the same rows. Attributes come from the latest heartbeat before the window's
 * end, so a rename in the next hour does not rewrite this hour's row.
 */
export function instanceRows(id: string, records: readonly InstanceRecord[], window: Window, gapThresholdUs: number): UsageRecord[] {
  const lo = lowerBound(records, window.startUs - gapThresholdUs);
  const end = lowerBound(records, window.endUs);
  const sub = records.slice(lo, lowerBound(records, window.endUs + gapThresholdUs));
  const slice = reduce(id, sub.map((r) => r.timestampUs), window, gapThresholdUs);
  if ((slice.samples === 0 && slice.runningUs === 0) || end <= lo) return [];
  const a = records[end - 1] as InstanceRecord;
  const base = {
    windowStart: new Date(window.startUs / 1000),
    windowEnd: new Date(window.endUs / 1000),
    resourceId: id,
    projectId: a.projectId,
    userId: a.userId,
    flavorName: a.flavorName,
    vcpus: a.vcpus,
    memoryMb: a.memoryMb,
    displayName: a.displayName,
    samples: slice.samples,
  };
  const out: UsageRecord[] = [{ ...base, meter: INSTANCE_METERS.running, unit: 's', quantity: microsToSeconds(slice.runningUs) }];
  const alloc = reduceAllocation(sub, window, gapThresholdUs);
  if (sub.some((r) => r.vcpus !== null)) out.push({ ...base, meter: INSTANCE_METERS.vcpus, unit: 'vCPU*s', quantity: microsToSeconds(alloc.vcpuUs) });
  if (sub.some((r) => r.memoryMb !== null)) out.push({ ...base, meter: INSTANCE_METERS.memory, unit: 'MB*s', quantity: microsToSeconds(alloc.memoryMbUs) });
  return out;
}

/**
 * Map and reduce a window's heartbeats into usage records: per instance that has a
 * heartbeat inside the window or running time in it, `instance` (running seconds),
 * and, where the flavor is known, `instance.vcpus` (vCPU·s) and `instance.memory`
 * (MB·s). Records should cover [window.start − threshold, window.end + threshold)
 * so intervals crossing either edge are seen.
 */
export function usageForWindow(records: readonly InstanceRecord[], window: Window, gapThresholdUs: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  for (const [id, g] of map(records)) out.push(...instanceRows(id, g.records, window, gapThresholdUs));
  return out.sort(compareUsage);
}

/** Order of usage records: resource, then meter. */
export function compareUsage(x: UsageRecord, y: UsageRecord): number {
  return x.resourceId < y.resourceId ? -1 : x.resourceId > y.resourceId ? 1 : x.meter < y.meter ? -1 : x.meter > y.meter ? 1 : 0;
}
