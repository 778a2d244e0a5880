/**
 * The age bound of Placement readings, pure: a reading prices nothing once it is
 * older than `maxAgeMs`. Where the next reading comes later than that (Placement
 * was unreachable), an "unknown" sample is put at reading + bound, so a dynamic
 * line in that gap pays the on-demand price and its explanation says why.
 */
import type { CapacitySample } from '../pricing/index.js';
import { Money } from '../rating.js';

/** The note of an unknown sample: what was last read, when, and the bound. */
export function staleNote(pool: string, last: CapacitySample, maxAgeMs: number): string {
  const free = last.free === null ? 'unknown' : new Money(last.free).toFixed();
  return `pool ${pool}: the last Placement reading (free ${free} at ${last.at.toISOString()}) is older than ${maxAgeMs / 1000} s`;
}

/** `series` (any order) with an unknown sample after every reading that is followed by none within `maxAgeMs`, the last one included. */
export function boundSeries(pool: string, series: readonly CapacitySample[], maxAgeMs: number): CapacitySample[] {
  const sorted = [...series].sort((a, b) => a.at.getTime() - b.at.getTime());
  const out: CapacitySample[] = [];
  sorted.forEach((s, i) => {
    out.push(s);
    if (s.free === null) return;
    const next = sorted[i + 1];
    const expires = s.at.getTime() + maxAgeMs;
    if (!next || next.at.getTime() > expires) out.push({ at: new Date(expires), free: null, note: staleNote(pool, s, maxAgeMs) });
  });
  return out;
}
