/**
 * The billing span of seed 000, pure: billing for a project starts when its first VM
 * starts and stops only when all its VMs are deleted. A VM exists from its first to
 * its last heartbeat (a stopped VM sends none, but it still exists if it sends one
 * later); the project's span is the union of its VMs' lifetimes.
 */
import type { Window } from './mapreduce.js';

/** When one VM was first and last seen, from its heartbeats (µs). */
export interface Lifetime {
  resourceId: string;
  projectId: string;
  firstUs: number;
  lastUs: number;
}

/** The project's span in one window: seconds inside the window covered by the union of its VMs' lifetimes. */
export interface SpanSlice {
  projectId: string;
  spanUs: number;
  /** VMs whose lifetime overlaps the window. */
  vms: number;
}

/** Merge lifetimes into the sorted, disjoint intervals of their union (touching intervals merge). */
export function unionIntervals(intervals: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Per project, the part of `window` inside the union of its VMs' lifetimes; projects with no overlap are left out. */
export function spanForWindow(lifetimes: readonly Lifetime[], window: Window): SpanSlice[] {
  const byProject = new Map<string, { iv: [number, number][]; vms: number }>();
  for (const l of lifetimes) {
    if (l.lastUs < window.startUs || l.firstUs >= window.endUs) continue;
    const g = byProject.get(l.projectId) ?? { iv: [], vms: 0 };
    g.iv.push([l.firstUs, l.lastUs]);
    g.vms++;
    byProject.set(l.projectId, g);
  }
  const out: SpanSlice[] = [];
  for (const [projectId, g] of byProject) {
    let spanUs = 0;
    for (const [lo, hi] of unionIntervals(g.iv)) spanUs += Math.max(0, Math.min(hi, window.endUs) - Math.max(lo, window.startUs));
    out.push({ projectId, spanUs, vms: g.vms });
  }
  return out.sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : 0));
}

/** Fold heartbeats into lifetimes (min first, max last): order and duplicates do not matter. */
export function foldLifetimes(into: Map<string, Lifetime>, beats: Iterable<{ resourceId: string; projectId: string | null; timestampUs: number }>): Map<string, Lifetime> {
  for (const b of beats) {
    if (b.projectId === null) continue;
    const l = into.get(b.resourceId);
    if (!l) into.set(b.resourceId, { resourceId: b.resourceId, projectId: b.projectId, firstUs: b.timestampUs, lastUs: b.timestampUs });
    else {
      l.firstUs = Math.min(l.firstUs, b.timestampUs);
      // The project of the latest heartbeat (the greater id on a tie), so order never matters.
      if (b.timestampUs > l.lastUs || (b.timestampUs === l.lastUs && b.projectId > l.projectId)) l.projectId = b.projectId;
      l.lastUs = Math.max(l.lastUs, b.timestampUs);
    }
  }
  return into;
}
