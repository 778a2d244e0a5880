/**
 * The polling agent: poll every `polling-interval`, publish one notification
 * per meter batch to the control exchange with routing key
 * `notifications.sample`, and wait for the broker's confirms.
 */
import { hostname } from 'node:os';
import { defineOptions, opt, type Bus, type ExchangeSpec, type Logger, type OptionValues } from '@tally/common';
import type { Hypervisor } from './hypervisor.js';
import { encodePollingNotification } from './envelope.js';
import { toWireDict } from './sample.js';
import { InstanceStateTracker, pollCycle, type PollSettings } from './poller.js';
import { AcceleratedClock, systemClock, type AgentClock } from './clock.js';
import { openLibvirt } from './libvirt.js';
import { SimulatedFleet, simOptions } from './simulated.js';

/** Options of `tally agent`. */
export const agentOptions = defineOptions('agent', 'the Ceilometer-compatible compute polling agent', {
  libvirtUri: opt.string({ name: 'libvirt-uri', default: '', help: "libvirt connection URI, opened read-only (e.g. qemu:///system, test:///abs/node.xml). Empty: a simulated fleet (see the agent-simulation options)." }),
  telemetrySecret: opt.string({ name: 'telemetry-secret', default: 'change this for valid signing', secret: true, help: "Secret for signing samples ([publisher] telemetry_secret). Empty disables signing (message_signature is \"\")." }),
  pollingInterval: opt.duration({ name: 'polling-interval', default: '300', minMs: 1000, help: 'Time between polling cycles (Ceilometer polling.yaml interval). In simulated mode this is simulated time.' }),
  batchSize: opt.int({ name: 'batch-size', default: 50, min: 0, help: 'Samples per notification ([polling] batch_size); 0 sends one notification per sample.' }),
  host: opt.string({ name: 'agent-host', default: '', help: "This compute host's name (conf.host): instance_host in samples and part of the hostId hash. Empty: this machine's hostname." }),
  sampleSource: opt.string({ name: 'sample-source', default: 'openstack', help: 'The source of samples ([DEFAULT] sample_source).' }),
  once: opt.bool({ name: 'once', default: false, cliOnly: true, help: 'Poll once, wait for every publish to be confirmed, and exit.' }),
});

/** Routing key of the polling agent's notifications (`<topic>.<priority>`). */
export const SAMPLE_ROUTING_KEY = 'notifications.sample';

/** What the agent runs with. */
export interface AgentDeps {
  hypervisor: Hypervisor;
  bus: Bus;
  log: Logger;
  /** The clock samples are stamped with; the simulated fleet must share it. Default: system clock. */
  clock?: AgentClock;
  /** The control exchange, e.g. `{name: 'ceilometer', type: 'topic', durable: false, autoDelete: false}`. */
  exchange: ExchangeSpec;
}

/** Agent settings, as read from {@link agentOptions}. */
export type AgentSettings = Omit<OptionValues<typeof agentOptions>, 'libvirtUri' | 'once'> & Pick<PollSettings, 'flavorId' | 'meters'>;

/** The topic exchange Ceilometer publishes to; flags must match the deployment's. */
export function controlExchange(name: string, durable = false): ExchangeSpec {
  return { name, type: 'topic', durable, autoDelete: false };
}

/** Outcome of one cycle. */
export interface CycleReport {
  messages: number;
  samples: number;
  instances: number;
  skippedDomains: number;
}

async function cycle(deps: AgentDeps, s: AgentSettings, tracker: InstanceStateTracker): Promise<CycleReport> {
  const clock = deps.clock ?? systemClock;
  const res = await pollCycle(deps.hypervisor, { host: s.host || hostname(), source: s.sampleSource, batchSize: s.batchSize, flavorId: s.flavorId, meters: s.meters }, clock, deps.log);
  tracker.observe(res.instances, deps.log);
  let samples = 0;
  for (const b of res.batches) {
    const enc = encodePollingNotification(b.map((x) => toWireDict(x, s.telemetrySecret)));
    // Sequential: each publish resolves on the broker's confirm, and order per meter is kept.
    await deps.bus.publish({ exchange: deps.exchange, routingKey: SAMPLE_ROUTING_KEY, body: enc.body, properties: enc.properties });
    samples += b.length;
  }
  const report = { messages: res.batches.length, samples, instances: res.instances.length, skippedDomains: res.skipped.length };
  deps.log.info('polling cycle published', { ...report, at: clock.now().toISOString() });
  return report;
}

/** One cycle (`tally agent --once`): resolves when every message has been confirmed. */
export function pollOnce(deps: AgentDeps, settings: AgentSettings): Promise<CycleReport> {
  return cycle(deps, settings, new InstanceStateTracker());
}

/** A running agent. */
export interface AgentHandle {
  /** Stop after the cycle in flight; resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Settles when the loop ends. */
  readonly done: Promise<void>;
}

/**
 * Poll every `pollingInterval` (on the injected clock) until stopped. A failed
 * cycle is logged and the next one runs on schedule.
 */
export function runAgent(deps: AgentDeps, settings: AgentSettings, onCycle?: (r: CycleReport) => void): AgentHandle {
  const clock = deps.clock ?? systemClock;
  const ctl = new AbortController();
  const tracker = new InstanceStateTracker();
  const done = (async () => {
    let next = clock.now().getTime();
    while (!ctl.signal.aborted) {
      try {
        // Not `onCycle?.(await cycle(…))`: an optional call skips its arguments, so without a
        // callback the cycle would never run.
        const report = await cycle(deps, settings, tracker);
        onCycle?.(report);
      } catch (e) {
        deps.log.error('polling cycle failed', { err: e });
      }
      next += settings.pollingInterval;
      // A cycle that overran its slot: skip the missed slots (no burst of catch-up polls) and
      // start counting a full interval from now, so consecutive cycles are never closer than that.
      if (next < clock.now().getTime()) next = clock.now().getTime() + settings.pollingInterval;
      await clock.sleepUntil(new Date(next), ctl.signal);
    }
  })();
  return { done, stop: async () => { ctl.abort(); await done; } };
}

/**
 * The hypervisor and clock the options select: libvirt at `libvirt-uri`
 * (system clock), or the simulated fleet on an accelerated clock.
 */
export async function openHypervisor(agent: Pick<OptionValues<typeof agentOptions>, 'libvirtUri'>, sim: OptionValues<typeof simOptions>): Promise<{ hypervisor: Hypervisor; clock: AgentClock }> {
  if (agent.libvirtUri !== '') return { hypervisor: await openLibvirt(agent.libvirtUri), clock: systemClock };
  const clock = new AcceleratedClock(sim.speed, sim.backfill);
  return { hypervisor: new SimulatedFleet({ vms: sim.vms, projects: sim.projects, seed: sim.seed, clock }), clock };
}
