/**
 * All usage of one hourly window, pure: the heartbeat rows (`instance`,
 * `instance.vcpus`, `instance.memory`), one row per measured series (gauges,
 * cumulative counters, deltas) and one `project.span` row per project.
 */
import { compareUsage, usageForWindow, type InstanceRecord, type Window } from './mapreduce.js';
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

/** Every usage record of `window`, sorted by resource then meter. */
export function windowUsage(input: WindowInput, window: Window, gapThresholdUs: number): UsageRecord[] {
  const out = usageForWindow(input.instances, window, gapThresholdUs);
  const windowStart = new Date(window.startUs / 1000);
  const windowEnd = new Date(window.endUs / 1000);
  const none = { flavorName: null, vcpus: null, memoryMb: null, displayName: null };
  for (const series of mapMeters(input.meters).values()) {
    const slice = reduceMeter(series, window, gapThresholdUs);
    if (slice.samples === 0 && /^0(\.0*)?$/.test(slice.quantity)) continue;
    // Owner from the latest sample before the window's end (as for instances).
    const owner = [...series].reverse().find((r) => r.timestampUs < window.endUs) ?? (series[0] as MeterRecord);
    out.push({
      windowStart, windowEnd, resourceId: owner.resourceId, meter: owner.meter, unit: slice.unit, quantity: slice.quantity,
      projectId: owner.projectId, userId: owner.userId, ...none, samples: slice.samples,
    });
  }
  for (const s of spanForWindow(input.lifetimes, window)) {
    out.push({ windowStart, windowEnd, resourceId: s.projectId, meter: SPAN_METER, unit: 's', quantity: microsToSeconds(s.spanUs), projectId: s.projectId, userId: null, ...none, samples: s.vms });
  }
  return out.sort(compareUsage);
}
