/**
 * The polling agent: poll every `polling-interval`, append one message per
 * meter batch to the journal (the local billing file), and let the sender
 * publish the journal in order to the control exchange with routing key
 * `notifications.sample`, each record leaving the journal on the broker's confirm.
 */
import { hostname } from 'node:os';
import { defineOptions, opt, type Bus, type ExchangeSpec, type Logger, type OptionValues } from '@tally/common';
import type { Hypervisor, InterfaceStats } from './hypervisor.js';
import { toWireDict } from './sample.js';
import { Journal } from './journal.js';
import { JournalSender, SAMPLE_ROUTING_KEY, type SenderSettings } from './sender.js';
import { InstanceStateTracker, pollCycle, type PollSettings } from './poller.js';
import { METERS } from './meters.js';
import type { PollingGroup } from './polling.js';
import { watchStates } from './watch.js';
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
  statePollInterval: opt.duration({ name: 'state-poll-interval', default: '5s', minMs: 0, help: 'Between cycles, how often domain states are read (one listing, no stats): each change is logged with the instance id, and an instance that becomes active is polled at once. 0 disables the watch. Real time, also in simulated mode.' }),
  pollingConfig: opt.string({ name: 'polling-config', default: '', help: "A Ceilometer polling.yaml (sources: name, interval, meters with wildcards and !exclusions) giving per-meter intervals. Empty: every meter each polling-interval. With --once, every meter the file names is polled once." }),
  once: opt.bool({ name: 'once', default: false, cliOnly: true, help: 'Poll once, wait for every publish to be confirmed, and exit.' }),
});

export { SAMPLE_ROUTING_KEY };

/** What the agent runs with. */
export interface AgentDeps {
  hypervisor: Hypervisor;
  bus: Bus;
  log: Logger;
  /** The clock samples are stamped with; the simulated fleet must share it. Default: system clock. */
  clock?: AgentClock;
  /** The control exchange, e.g. `{name: 'ceilometer', type: 'topic', durable: false, autoDelete: false}`. */
  exchange: ExchangeSpec;
  /** The journal; default: an in-memory one (nothing survives a restart — tests and benchmarks only). */
  journal?: Journal;
}

/** Agent settings, as read from {@link agentOptions}. */
export type AgentSettings = Omit<OptionValues<typeof agentOptions>, 'libvirtUri' | 'once' | 'pollingConfig'> & Pick<PollSettings, 'flavorId' | 'meters'> & Partial<SenderSettings> & {
  /** Per-meter intervals from a polling.yaml ({@link pollingGroups}); default: every meter each `pollingInterval`. */
  schedule?: PollingGroup[];
};

const DEFAULT_SENDER: SenderSettings = { publishTimeout: 30_000, retryInterval: 5_000 };

function journalOf(deps: AgentDeps): Journal {
  return deps.journal ?? Journal.open({ maxBytes: 256 * 1024 * 1024, retentionMs: 0 }, deps.log);
}

function senderOf(deps: AgentDeps, journal: Journal, s: AgentSettings): JournalSender {
  return new JournalSender({ journal, bus: deps.bus, exchange: deps.exchange, log: deps.log }, {
    publishTimeout: s.publishTimeout ?? DEFAULT_SENDER.publishTimeout, retryInterval: s.retryInterval ?? DEFAULT_SENDER.retryInterval, publishWindow: s.publishWindow ?? 32,
  });
}

/** The topic exchange Ceilometer publishes to; flags must match the deployment's. */
export function controlExchange(name: string, durable = false): ExchangeSpec {
  return { name, type: 'topic', durable, autoDelete: false };
}

/** Outcome of one cycle. */
export interface CycleReport {
  /** Messages journaled this cycle. */
  messages: number;
  /** Samples journaled this cycle. */
  samples: number;
  instances: number;
  skippedDomains: number;
  /** Samples refused this cycle because the journal was full. */
  droppedSamples: number;
  /** Messages in the journal not yet confirmed, after journaling this cycle. */
  pendingMessages: number;
}

/** What a running agent remembers between cycles. */
interface RunState {
  tracker: InstanceStateTracker;
  nicHistory: Map<string, InterfaceStats>;
}

const newRunState = (): RunState => ({ tracker: new InstanceStateTracker(), nicHistory: new Map() });

async function cycle(deps: AgentDeps, s: AgentSettings, state: RunState, journal: Journal, only?: ReadonlySet<string>): Promise<CycleReport> {
  const clock = deps.clock ?? systemClock;
  const { tracker, nicHistory } = state;
  const res = await pollCycle(deps.hypervisor, { host: s.host || hostname(), source: s.sampleSource, batchSize: s.batchSize, flavorId: s.flavorId, meters: s.meters, nicHistory, ...(only ? { only } : {}) }, clock, deps.log);
  if (!only) tracker.observe(res.instances, deps.log);
  const { appended, droppedSamples } = journal.append(res.batches.map((b) => b.map((x) => toWireDict(x, s.telemetrySecret))));
  journal.prune(clock.now());
  const samples = res.batches.reduce((n, b) => n + b.length, 0) - droppedSamples;
  const report = { messages: appended, samples, instances: res.instances.length, skippedDomains: res.skipped.length, droppedSamples, pendingMessages: journal.depth.messages };
  deps.log.info('polling cycle journaled', { ...report, at: clock.now().toISOString() });
  return report;
}

/**
 * One cycle (`tally agent --once`): journal it, then publish the whole journal
 * (earlier unconfirmed records first); resolves when every message has been
 * confirmed, rejects at the first failure (what is left stays journaled).
 */
export async function pollOnce(deps: AgentDeps, settings: AgentSettings): Promise<CycleReport> {
  const journal = journalOf(deps);
  const meters = settings.schedule ? [...new Set(settings.schedule.flatMap((g) => g.meters))] : settings.meters;
  const report = await cycle(deps, { ...settings, meters }, newRunState(), journal);
  await senderOf(deps, journal, settings).flush();
  return report;
}

/** A running agent. */
export interface AgentHandle {
  /** Stop after the cycle in flight; resolves when the loop has ended. */
  stop(): Promise<void>;
  /** Settles when the loop ends. */
  readonly done: Promise<void>;
  readonly journal: Journal;
  readonly sender: JournalSender;
}

/**
 * Poll every `pollingInterval` (on the injected clock) until stopped, while the
 * sender publishes the journal (retrying while the bus is away). A failed cycle
 * is logged and the next one runs on schedule.
 */
export function runAgent(deps: AgentDeps, settings: AgentSettings, onCycle?: (r: CycleReport) => void): AgentHandle {
  const clock = deps.clock ?? systemClock;
  const ctl = new AbortController();
  const state = newRunState();
  const journal = journalOf(deps);
  const sender = senderOf(deps, journal, settings);
  const sending = sender.run(ctl.signal);
  const groups = settings.schedule ?? [{ intervalMs: settings.pollingInterval, meters: [...(settings.meters ?? METERS)], sources: ['polling-interval'] }];
  const polling = Promise.all(groups.map(async (g) => {
    // Each group keeps its own NIC history, so a .delta meter spans exactly its own interval.
    const groupState = { ...state, nicHistory: new Map<string, InterfaceStats>() };
    const groupSettings = { ...settings, meters: g.meters };
    let next = clock.now().getTime();
    while (!ctl.signal.aborted) {
      try {
        // Not `onCycle?.(await cycle(…))`: an optional call skips its arguments, so without a
        // callback the cycle would never run.
        const report = await cycle(deps, groupSettings, groupState, journal);
        sender.wake();
        onCycle?.(report);
      } catch (e) {
        deps.log.error('polling cycle failed', { err: e, sources: g.sources });
      }
      next += g.intervalMs;
      // A cycle that overran its slot: skip the missed slots (no burst of catch-up polls) and
      // start counting a full interval from now, so consecutive cycles are never closer than that.
      if (next < clock.now().getTime()) next = clock.now().getTime() + g.intervalMs;
      await clock.sleepUntil(new Date(next), ctl.signal);
    }
  }));
  const allMeters = [...new Set(groups.flatMap((g) => g.meters))];
  const watching = settings.statePollInterval > 0
    ? watchStates({ hypervisor: deps.hypervisor, tracker: state.tracker, log: deps.log, clock: systemClock }, settings.statePollInterval, ctl.signal, async (ids) => {
      deps.log.info('instances became active: polling them now', { instance_ids: ids });
      const report = await cycle(deps, { ...settings, meters: allMeters }, { ...state, nicHistory: new Map() }, journal, new Set(ids));
      sender.wake();
      onCycle?.(report);
    })
    : Promise.resolve();
  const done = Promise.all([polling, sending, watching]).then(() => undefined);
  return { done, journal, sender, stop: async () => { ctl.abort(); await done; } };
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
