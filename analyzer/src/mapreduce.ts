/**
 * The seed-000 usage computation as pure functions (no IO), so the in-process
 * runner, a worker-thread runner and Hadoop Streaming give one result:
 * extract (sample -> record), map (group timestamps by instance), reduce (sum the
 * gaps below the threshold that fall inside one hourly window).
 */
import type { RawSample } from './decode.js';
import { isJsonObject, isLosslessNumber, type JsonObject, type JsonValue } from './json.js';
import { microsToSeconds } from './timestamp.js';
import type { InstanceAttributes, UsageRecord } from './usage.js';

/** The meter whose samples serve as the instance heartbeat: polled once per cycle while the VM runs. */
export const HEARTBEAT_METER = 'cpu';

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

function text(v: JsonValue | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function int(v: JsonValue | undefined): number | null {
  if (isLosslessNumber(v) && /^-?\d+$/.test(v.value)) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : null;
  }
  return null;
}

/**
 * Extract one instance heartbeat from a sample, or null for any other meter.
 * Flavor facts come from the polling agent's metadata (`flavor`, `vcpus`,
 * `memory_mb`), with the notification-derived keys (`flavor_name`) as fallback.
 */
export function extract(s: RawSample): InstanceRecord | null {
  if (s.counter_name !== HEARTBEAT_METER) return null;
  const md = s.resource_metadata;
  const flavor: JsonObject = isJsonObject(md['flavor']) ? md['flavor'] : {};
  return {
    resourceId: s.resource_id,
    timestampUs: s.timestampUs,
    projectId: s.project_id,
    userId: s.user_id,
    flavorName: text(flavor['name']) ?? text(md['instance_type']) ?? text(md['flavor_name']),
    vcpus: int(md['vcpus']) ?? int(flavor['vcpus']),
    memoryMb: int(md['memory_mb']) ?? int(flavor['ram']),
    displayName: text(md['display_name']),
  };
}

/** The map output for one instance. */
export interface ResourceGroup {
  /** Distinct timestamps, ascending. */
  timestamps: number[];
  /** The record with the greatest timestamp: the instance's latest known attributes. */
  latest: InstanceRecord;
}

/** Group heartbeat timestamps by instance; sorts and drops duplicate timestamps (redeliveries). */
export function map(records: Iterable<InstanceRecord>): Map<string, ResourceGroup> {
  const raw = new Map<string, { ts: number[]; latest: InstanceRecord }>();
  for (const r of records) {
    const g = raw.get(r.resourceId);
    if (!g) raw.set(r.resourceId, { ts: [r.timestampUs], latest: r });
    else {
      g.ts.push(r.timestampUs);
      if (r.timestampUs >= g.latest.timestampUs) g.latest = r;
    }
  }
  const out = new Map<string, ResourceGroup>();
  for (const [id, g] of raw) {
    g.ts.sort((a, b) => a - b);
    out.set(id, { timestamps: g.ts.filter((t, i) => i === 0 || t !== g.ts[i - 1]), latest: g.latest });
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

/**
 * Map and reduce a window's records into usage records: one per instance that has a
 * heartbeat inside the window or running time in it. Records should cover
 * [window.start − threshold, window.end + threshold) so intervals crossing either edge are seen.
 */
export function usageForWindow(records: readonly InstanceRecord[], window: Window, gapThresholdUs: number): UsageRecord[] {
  const out: UsageRecord[] = [];
  // Attributes come from the latest heartbeat before the window's end, so a rename in
  // the next hour does not rewrite this hour's row.
  const before = map(records.filter((r) => r.timestampUs < window.endUs));
  for (const [id, g] of map(records)) {
    const slice = reduce(id, g.timestamps, window, gapThresholdUs);
    if (slice.samples === 0 && slice.runningUs === 0) continue;
    const a = before.get(id)?.latest ?? g.latest;
    out.push({
      windowStart: new Date(window.startUs / 1000),
      windowEnd: new Date(window.endUs / 1000),
      resourceId: id,
      meter: 'instance',
      unit: 's',
      quantity: microsToSeconds(slice.runningUs),
      projectId: a.projectId,
      userId: a.userId,
      flavorName: a.flavorName,
      vcpus: a.vcpus,
      memoryMb: a.memoryMb,
      displayName: a.displayName,
      samples: slice.samples,
    });
  }
  return out.sort((x, y) => (x.resourceId < y.resourceId ? -1 : x.resourceId > y.resourceId ? 1 : 0));
}
