/**
 * One polling cycle, as `PollingTask.poll_and_notify` runs it: discover the
 * instances, read their statistics, and build one batch list per meter with a
 * shared timestamp per meter run.
 */
import type { Logger } from '@tally/common';
import { DomainNotFoundError, DomainNotRunningError, DomainState, type BlockInfo, type BlockStats, type Hypervisor, type InstanceStats, type InterfaceStats } from './hypervisor.js';
import { discoverInstances, instanceMetadata, nicResourceId, type Instance, type MetadataContext, type SkippedDomain } from './metadata.js';
import { METERS, type Meter } from './meters.js';
import { monotonicSeconds, type Sample } from './sample.js';
import type { PyFloat } from './pyjson.js';
import { pyIsoformat, uuid1 } from './ids.js';

/** Something that tells the time; the simulated fleet runs on an accelerated one. */
export interface Clock {
  now(): Date;
}

/** Settings of a cycle. */
export interface PollSettings extends MetadataContext {
  /** `[DEFAULT] sample_source`. */
  source: string;
  /** Samples per message; 0 means one message per sample (Ceilometer semantics). */
  batchSize: number;
  /** Meters to poll; all of {@link METERS} by default. */
  meters?: readonly Meter[];
  /**
   * Each tap device's reading of the previous cycle, for the `.delta` meters; the
   * caller keeps it across cycles (Ceilometer keeps it in the inspector, per process).
   */
  nicHistory?: Map<string, InterfaceStats>;
  /** Read only these instances (the state watch's instances that just became active). */
  only?: ReadonlySet<string>;
}

/** A value read together with the `time.monotonic()` of the read. */
interface Timed<T> {
  value: T;
  mono: PyFloat;
}

/** Statistics of one instance, each group absent when it could not be read. */
interface Gathered {
  inst: Instance;
  stats?: Timed<InstanceStats>;
  disks: { dev: string; stats?: Timed<BlockStats>; info?: Timed<BlockInfo> }[];
  nics: { nic: Instance['nics'][number]; stats?: Timed<InterfaceStats> }[];
}

/** What one cycle produced. */
export interface PollResult {
  /** One entry per message: samples of a single meter, at most `batchSize` each. */
  batches: Sample[][];
  instances: Instance[];
  skipped: SkippedDomain[];
  /** Instances that were read (not shut off). */
  polled: number;
}

async function timed<T>(what: string, inst: Instance, log: Logger, read: () => Promise<T>): Promise<Timed<T> | undefined> {
  try {
    const value = await read();
    return { value, mono: monotonicSeconds() };
  } catch (e) {
    // A domain that vanished or stopped mid-poll is normal churn (Ceilometer logs it at DEBUG).
    if (e instanceof DomainNotFoundError || e instanceof DomainNotRunningError) log.debug(`${what} skipped`, { instance_id: inst.id, reason: e.message });
    else log.warn(`${what} failed`, { instance_id: inst.id, err: e });
    return undefined;
  }
}

async function gather(hv: Hypervisor, inst: Instance, log: Logger): Promise<Gathered> {
  const g: Gathered = { inst, disks: [], nics: [] };
  g.stats = await timed('instance stats', inst, log, () => hv.instanceStats(inst.id));
  for (const d of inst.disks) {
    g.disks.push({
      dev: d.dev,
      stats: await timed('block stats', inst, log, () => hv.blockStats(inst.id, d.dev)),
      info: await timed('block info', inst, log, () => hv.blockInfo(inst.id, d.dev)),
    });
  }
  for (const nic of inst.nics) g.nics.push({ nic, stats: await timed('interface stats', inst, log, () => hv.interfaceStats(inst.id, nic.tap)) });
  return g;
}

function samplesFor(meter: Meter, all: Gathered[], settings: PollSettings, timestamp: string, prevNic: ReadonlyMap<string, InterfaceStats>): Sample[] {
  const out: Sample[] = [];
  for (const g of all) {
    const base = instanceMetadata(g.inst, settings);
    const mk = (resourceId: string, volume: Sample['volume'], mono: PyFloat, extra: Sample['resourceMetadata']): Sample => ({
      source: settings.source, name: meter.name, type: meter.type, unit: meter.unit, volume,
      userId: g.inst.userId, projectId: g.inst.projectId, resourceId, timestamp,
      resourceMetadata: { ...base, ...extra }, id: uuid1(), monotonicTime: mono,
    });
    if (meter.source === 'instance') {
      if (!g.stats) continue;
      const v = meter.volume(g.stats.value);
      if (v !== null) out.push(mk(g.inst.id, v, g.stats.mono, meter.extra?.(g.stats.value) ?? {}));
    } else if (meter.source === 'disk' || meter.source === 'diskinfo') {
      for (const d of g.disks) {
        const r = meter.source === 'disk' ? d.stats : d.info;
        if (!r) continue;
        const v = meter.source === 'disk' ? meter.volume(r.value as BlockStats) : meter.volume(r.value as BlockInfo);
        if (v === null) continue;
        out.push(mk(`${g.inst.id}-${d.dev}`, v, r.mono, { disk_name: d.dev }));
      }
    } else {
      for (const n of g.nics) {
        if (!n.stats) continue;
        // Ceilometer overwrites `name` with the tap device for network samples.
        out.push(mk(nicResourceId(g.inst, n.nic), meter.volume(n.stats.value, prevNic.get(n.nic.tap)), n.stats.mono, {
          name: n.nic.tap, mac: n.nic.mac, fref: n.nic.fref, parameters: { ...n.nic.parameters }, vnic_name: n.nic.fref ?? n.nic.tap,
        }));
      }
    }
  }
  return out;
}

/** Split into messages of at most `size` samples; 0 gives one per sample. */
export function batch<T>(items: readonly T[], size: number): T[][] {
  const n = size <= 0 ? 1 : size;
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/**
 * Run one cycle: shut-off domains are discovered but give no samples (paused
 * ones do); domains without Nova metadata are skipped. Samples of each meter
 * share one timestamp from `clock`.
 */
export async function pollCycle(hv: Hypervisor, settings: PollSettings, clock: Clock, log: Logger): Promise<PollResult> {
  const { instances, skipped } = discoverInstances(await hv.listDomains());
  for (const s of skipped) log.debug('domain skipped by discovery', { domain: s.name, uuid: s.uuid, reason: s.reason });
  const gathered: Gathered[] = [];
  for (const inst of instances) {
    if (inst.state === DomainState.SHUTOFF || (settings.only && !settings.only.has(inst.id))) continue;
    gathered.push(await gather(hv, inst, log));
  }
  const history = settings.nicHistory ?? new Map<string, InterfaceStats>();
  const prevNic = new Map(history);
  for (const g of gathered) for (const n of g.nics) if (n.stats) history.set(n.nic.tap, n.stats.value);
  const batches: Sample[][] = [];
  for (const meter of settings.meters ?? METERS) {
    const samples = samplesFor(meter, gathered, settings, pyIsoformat(clock.now()), prevNic);
    batches.push(...batch(samples, settings.batchSize));
  }
  return { batches, instances, skipped, polled: gathered.length };
}

/** Remembers instance states between cycles and logs every change with the instance id. */
export class InstanceStateTracker {
  private readonly states = new Map<string, number>();

  /** The state last seen of an instance. */
  stateOf(id: string): number | undefined {
    return this.states.get(id);
  }

  /** Record one instance's state, logging a discovery or a change; true when it changed. */
  update(id: string, state: number, log: Logger, extra: Record<string, unknown> = {}): boolean {
    const before = this.states.get(id);
    if (before === state) return false;
    this.states.set(id, state);
    const fields = { instance_id: id, ...extra, state: DOMAIN_STATE_NAMES[state] ?? state };
    if (before === undefined) log.info('instance discovered', fields);
    else log.info('instance state changed', { ...fields, previous: DOMAIN_STATE_NAMES[before] ?? before });
    return true;
  }

  /** Compare with the previous cycle; returns how many instances changed. */
  observe(instances: readonly Instance[], log: Logger): number {
    let changes = 0;
    const seen = new Set<string>();
    for (const inst of instances) {
      seen.add(inst.id);
      if (this.update(inst.id, inst.state, log, { name: inst.displayName, domain: inst.domainName })) changes++;
    }
    for (const id of [...this.states.keys()]) {
      if (seen.has(id)) continue;
      this.states.delete(id);
      changes++;
      log.info('instance gone', { instance_id: id });
    }
    return changes;
  }
}

const DOMAIN_STATE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DomainState).map(([k, v]) => [v, k.toLowerCase()]));
