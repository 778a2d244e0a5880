/**
 * All usage of one hourly window, pure: the heartbeat rows (`instance`,
 * `instance.vcpus`, `instance.memory`), one row per measured series (gauges,
 * cumulative counters, deltas) and one `project.span` row per project.
 */
import { compareUsage, lowerBound, usageForWindow, type InstanceRecord, type Window } from './mapreduce.js';
import { mapMeters, reduceMeter, type MeterRecord } from './meters.js';
import { spanForWindow, type Lifetime } from './span.js';
import { microsToSeconds } from './timestamp.js';
import type { UsageRecord } from './usage.js';

/** The meter of the per-project billing span rows (resource id = project id). */
export const SPAN_METER = 'project.span';

/** What one window job has read: heartbeats and measured samples from [W.start − T, W.end + T), and the lifetimes overlapping W. */
export interface WindowInput {
  instances: readonly InstanceRecord[];
  meters: readonly MeterRecord[];
  lifetimes: readonly Lifetime[];
}

/**
 * The row of one normalised series (see `mapMeters`) in one window, or null when it
 * has neither samples nor usage there. Only samples in [W.start − T, W.end + T)
 * are looked at; the owner is the latest sample before the window's end.
 */
export function meterRow(series: readonly MeterRecord[], window: Window, gapThresholdUs: number): UsageRecord | null {
  const sub = series.slice(lowerBound(series, window.startUs - gapThresholdUs), lowerBound(series, window.endUs + gapThresholdUs));
  if (sub.length === 0) return null;
  const slice = reduceMeter(sub, window, gapThresholdUs);
  if (slice.samples === 0 && /^0(\.0*)?$/.test(slice.quantity)) return null;
  const end = lowerBound(sub, window.endUs);
  const owner = sub[Math.max(0, end - 1)] as MeterRecord;
  return {
    windowStart: new Date(window.startUs / 1000), windowEnd: new Date(window.endUs / 1000), resourceId: owner.resourceId, meter: owner.meter,
    unit: slice.unit, quantity: slice.quantity, projectId: owner.projectId, userId: owner.userId, flavorName: null, vcpus: null, memoryMb: null, displayName: null,
    samples: slice.samples,
  };
}

/** The `project.span` rows of one window. */
export function spanRows(lifetimes: readonly Lifetime[], window: Window): UsageRecord[] {
  const windowStart = new Date(window.startUs / 1000);
  const windowEnd = new Date(window.endUs / 1000);
  return spanForWindow(lifetimes, window).map((s) => ({
    windowStart, windowEnd, resourceId: s.projectId, meter: SPAN_METER, unit: 's', quantity: microsToSeconds(s.spanUs), projectId: s.projectId, userId: null,
    flavorName: null, vcpus: null, memoryMb: null, displayName: null, samples: s.vms,
  }));
}

/** Every usage record of `window`, sorted by resource then meter. */
export function windowUsage(input: WindowInput, window: Window, gapThresholdUs: number): UsageRecord[] {
  const out = usageForWindow(input.instances, window, gapThresholdUs);
  for (const series of mapMeters(input.meters).values()) {
    const row = meterRow(series, window, gapThresholdUs);
    if (row) out.push(row);
  }
  out.push(...spanRows(input.lifetimes, window));
  return out.sort(compareUsage);
}
