/**
 * The state watch: between polling cycles, read every domain's state every
 * `state-poll-interval` (one cheap listing, no stats) and log each change with
 * the instance id. An instance that becomes active is polled at once, so its
 * usage starts being recorded without waiting for the next cycle. (libvirt
 * lifecycle events would need libvirt's event loop running in a thread of its
 * own through koffi; the short state-poll loop gives the same effect with
 * read-only calls every driver supports.)
 */
import type { Logger } from '@tally/common';
import { DomainState, type Hypervisor } from './hypervisor.js';
import type { InstanceStateTracker } from './poller.js';
import type { AgentClock } from './clock.js';

/** States in which a domain runs and is metered (Ceilometer polls everything but SHUTOFF). */
export function isActive(state: number): boolean {
  return state !== DomainState.SHUTOFF && state !== DomainState.CRASHED && state !== DomainState.NOSTATE;
}

/** What the watch needs. */
export interface WatchDeps {
  hypervisor: Hypervisor;
  tracker: InstanceStateTracker;
  log: Logger;
  clock: AgentClock;
}

/**
 * One look at the states: logs changes of known instances (unknown domains are
 * left to the next cycle's discovery, which tells Nova instances from others)
 * and returns the ids that went from inactive to active.
 */
export async function checkStates(d: Omit<WatchDeps, 'clock'>): Promise<string[]> {
  const states = d.hypervisor.listStates ? await d.hypervisor.listStates() : await d.hypervisor.listDomains();
  const started: string[] = [];
  for (const { uuid, state } of states) {
    const before = d.tracker.stateOf(uuid);
    if (before === undefined) continue;
    if (d.tracker.update(uuid, state, d.log, { via: 'state watch' }) && !isActive(before) && isActive(state)) started.push(uuid);
  }
  return started;
}

/** Run {@link checkStates} every `intervalMs` until `signal` aborts; `onStarted` polls the started instances. */
export async function watchStates(d: WatchDeps, intervalMs: number, signal: AbortSignal, onStarted: (ids: string[]) => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    await d.clock.sleepUntil(new Date(d.clock.now().getTime() + intervalMs), signal);
    if (signal.aborted) break;
    try {
      const started = await checkStates(d);
      if (started.length > 0) await onStarted(started);
    } catch (err) {
      d.log.warn('state watch failed', { err });
    }
  }
}
