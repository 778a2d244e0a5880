/**
 * Which members to remove on scale-in (pure). Only running members this scheduler
 * created are candidates: a part started by an operator (or devstack) is never removed.
 *
 * - `newest` (default): the most recently started first — the one with the least warm
 *   state, and the reverse of the order they were added in (Senlin's `YOUNGEST_FIRST`);
 * - `least-loaded`: the lowest process CPU first (node CPU when the process figure is
 *   missing), ties broken newest first.
 * Ties on start time are broken by name, descending, so the choice is deterministic.
 */
import type { MemberView } from './decide.js';
import type { VictimRule } from './policy/format.js';

const newestFirst = (a: MemberView, b: MemberView): number => b.startedAt - a.startedAt || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/** Up to `count` members to remove, in the order to remove them. */
export function chooseVictims(members: readonly MemberView[], count: number, rule: VictimRule): MemberView[] {
  const candidates = members.filter((m) => m.managed && m.state === 'running');
  const load = (m: MemberView): number => m.processCpuPercent ?? m.cpuPercent ?? Number.POSITIVE_INFINITY;
  candidates.sort(rule === 'least-loaded' ? (a, b) => load(a) - load(b) || newestFirst(a, b) : newestFirst);
  return candidates.slice(0, Math.max(0, count));
}
