/**
 * An instance's life as Nova tells it, pure: from its events (any order, with
 * duplicates), the state and the flavor in force at every instant.
 *
 * - `on` after create, power_on and unshelve; `off` after power_off, shelve and
 *   shelve_offload; `deleted` after delete (final). A resize (finish, confirm,
 *   revert) keeps the state: Nova powers a running instance back on at the finish
 *   and leaves a stopped one stopped (an instance first seen resizing is `on`).
 *   Before the first event: `unknown`.
 * - The flavor of every event's payload is in force from its instant.
 * - Where one action is reported in both formats (Nova's `notification_format =
 *   both`), the versioned event wins: a legacy event with a versioned twin of the
 *   same action within {@link TWIN_WINDOW_US} is dropped.
 */
import type { NovaAction, NovaFlavor } from './decode.js';

/** What the timeline needs of an event (a stored row or a decoded event). */
export interface TimelineEvent {
  messageId: string;
  action: NovaAction;
  format: 'versioned' | 'legacy';
  atUs: number;
  flavor: NovaFlavor | null;
}

export type NovaState = 'unknown' | 'on' | 'off' | 'deleted';

/** A change of state or flavor at `atUs` (state and flavor from then on). */
export interface Transition {
  atUs: number;
  action: NovaAction;
  state: NovaState;
  /** The flavor in force from then on (null: none known yet). */
  flavor: NovaFlavor | null;
  /** Whether the flavor differs from the one in force just before. */
  flavorChanged: boolean;
}

/** Twins of one action in the two formats are emitted milliseconds apart; a minute is ample. */
export const TWIN_WINDOW_US = 60_000_000;

const STATE: Record<NovaAction, NovaState | null> = {
  create: 'on', power_on: 'on', unshelve: 'on', resize_finish: null, resize_revert: null,
  power_off: 'off', shelve: 'off', shelve_offload: 'off', delete: 'deleted', resize_confirm: null,
};

const flavorKey = (f: NovaFlavor | null): string => (f === null ? '' : `${f.name}\u0000${f.flavorId}\u0000${f.vcpus}\u0000${f.memoryMb}\u0000${f.rootGb}\u0000${f.ephemeralGb}`);

/** Events in a total order (time, then format, action and id), so equal inputs give one timeline in any order. */
function ordered(events: readonly TimelineEvent[]): TimelineEvent[] {
  const seen = new Map<string, TimelineEvent>();
  for (const e of events) seen.set(e.messageId, e);
  return [...seen.values()].sort((a, b) => a.atUs - b.atUs || (a.format < b.format ? 1 : a.format > b.format ? -1 : 0) || (a.action < b.action ? -1 : a.action > b.action ? 1 : 0) || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
}

/** The events that count: duplicates (by message id) once, a legacy twin of a versioned event dropped. */
export function effectiveEvents(events: readonly TimelineEvent[]): TimelineEvent[] {
  const all = ordered(events);
  const versioned = all.filter((e) => e.format === 'versioned');
  return all.filter((e) => e.format === 'versioned' || !versioned.some((v) => v.action === e.action && Math.abs(v.atUs - e.atUs) <= TWIN_WINDOW_US));
}

/** The transitions of an instance, in time order; nothing follows a delete. */
export function timeline(events: readonly TimelineEvent[]): Transition[] {
  const out: Transition[] = [];
  let state: NovaState = 'unknown';
  let flavor: NovaFlavor | null = null;
  for (const e of effectiveEvents(events)) {
    if (state === 'deleted') break;
    const next: NovaState = STATE[e.action] ?? (state === 'unknown' ? 'on' : state);
    const f: NovaFlavor | null = e.flavor ?? flavor;
    // The first flavor Nova tells of is no change: before it the heartbeats' flavor stood.
    out.push({ atUs: e.atUs, action: e.action, state: next, flavor: f, flavorChanged: flavor !== null && flavorKey(f) !== flavorKey(flavor) });
    state = next;
    flavor = f;
  }
  return out;
}

/** State and flavor in force at `us` (the latest transition at or before it). */
export function stateAt(tl: readonly Transition[], us: number): { state: NovaState; flavor: NovaFlavor | null } {
  let lo = 0;
  let hi = tl.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((tl[mid] as Transition).atUs <= us) lo = mid + 1;
    else hi = mid;
  }
  const t = tl[lo - 1];
  return t ? { state: t.state, flavor: t.flavor } : { state: 'unknown', flavor: null };
}
