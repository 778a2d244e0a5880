/**
 * A simulated compute host for embedded mode (no libvirt configured): a fleet
 * of Nova-like VMs that start, stop and get deleted and replaced over time.
 *
 * Everything is a pure function of (seed, time): the same seed gives the same
 * ids, flavors and counters, whatever the polling pattern; counters only grow.
 * It serves domain XML with Nova metadata through the Hypervisor interface, so
 * the poller runs exactly the code path it runs against libvirt.
 */
import { createHash } from 'node:crypto';
import { defineOptions, opt } from '@tally/common';
import { DomainNotFoundError, DomainNotRunningError, DomainState, type BlockInfo, type BlockStats, type DomainRef, type Hypervisor, type InstanceStats, type InterfaceStats } from './hypervisor.js';
import type { Flavor } from './metadata.js';
import { renderDomainXml, type DomainSpec } from './nodefile.js';
import type { Clock } from './poller.js';

/** Options of the simulated fleet (used when `libvirt-uri` is empty). */
export const simOptions = defineOptions('agent-simulation', 'the simulated compute host used when libvirt-uri is empty', {
  vms: opt.int({ name: 'sim-vms', default: 24, min: 0, max: 10_000, help: 'Number of VM slots in the simulated fleet (deleted VMs are replaced).' }),
  projects: opt.int({ name: 'sim-projects', default: 4, min: 1, max: 1000, help: 'Number of projects the simulated VMs belong to.' }),
  speed: opt.int({ name: 'sim-speed', default: 600, min: 1, help: 'Time acceleration while the simulated clock catches up with real time.' }),
  backfill: opt.duration({ name: 'sim-backfill', default: '24h', help: 'How far in the past the simulated clock starts; it runs at sim-speed until it reaches real time, then at 1x.' }),
  seed: opt.string({ name: 'sim-seed', default: 'tally', help: 'Seed of the simulated fleet: the same seed gives the same VMs, ids and counters.' }),
});

/** Nova's default flavors (ephemeral/swap 0). */
export const SIM_FLAVORS: readonly Flavor[] = [
  { name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0 },
  { name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, ephemeral: 0, swap: 0 },
  { name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40, ephemeral: 0, swap: 0 },
  { name: 'm1.large', vcpus: 4, ram: 8192, disk: 80, ephemeral: 0, swap: 0 },
];

const HOUR = 3_600_000;
const WINDOW = 12 * HOUR;
/** Generations are laid out from this fixed epoch so the fleet is a function of time alone. */
const EPOCH = Date.UTC(2024, 0, 1);

/** One VM lifetime in a slot. */
interface Gen {
  slot: number;
  gen: number;
  created: number;
  deleted: number;
  spec: DomainSpec;
  util: number;
  /** Per-window [from, to) intervals during which the VM is shut off or paused. */
  downs: { from: number; to: number; state: number }[];
}

export class SimulatedFleet implements Hypervisor {
  readonly description: string;
  private readonly current: Gen[] = [];

  constructor(private readonly opts: { vms: number; projects: number; seed: string; clock: Clock }) {
    this.description = `simulated(${opts.vms} VMs, seed ${opts.seed})`;
  }

  /** Deterministic uniform [0, 1) from the seed and keys. */
  private rand(...keys: (string | number)[]): number {
    const h = createHash('sha256').update([this.opts.seed, ...keys].join('|')).digest();
    return h.readUIntBE(0, 6) / 2 ** 48;
  }

  private hex(n: number, ...keys: (string | number)[]): string {
    return createHash('sha256').update([this.opts.seed, ...keys].join('|')).digest('hex').slice(0, n);
  }

  private uuid(...keys: (string | number)[]): string {
    const h = this.hex(32, ...keys);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  private makeGen(slot: number, gen: number, created: number): Gen {
    const r = (k: string): number => this.rand(slot, gen, k);
    const deleted = created + 6 * HOUR + Math.floor(r('life') * 10 * 24 * HOUR);
    const flavor = SIM_FLAVORS[Math.floor(r('flavor') * SIM_FLAVORS.length)]!;
    const project = Math.floor(r('project') * this.opts.projects);
    const uuid = this.uuid('vm', slot, gen);
    const downs: Gen['downs'] = [];
    for (let w = created + WINDOW; w < deleted; w += WINDOW) {
      const p = this.rand(slot, gen, 'down', w);
      if (p < 0.2) downs.push({ from: w, to: Math.min(deleted, w + HOUR + Math.floor(p * 5 * 5 * HOUR)), state: DomainState.SHUTOFF });
      else if (p < 0.25) downs.push({ from: w, to: w + HOUR, state: DomainState.PAUSED });
    }
    const mac = 'fa:16:3e:' + this.hex(6, 'mac', slot, gen).match(/../g)!.join(':');
    const port = this.uuid('port', slot, gen);
    const spec: DomainSpec = {
      uuid, name: `instance-${(slot * 4096 + gen + 1).toString(16).padStart(8, '0')}`, displayName: `sim-${slot}-${gen}`, flavor,
      userId: this.hex(32, 'user', project), projectId: this.hex(32, 'project', project), imageId: this.uuid('image', gen % 3),
      disks: [{ dev: 'vda' }], nics: [{ tap: `tap${port.slice(0, 11)}`, mac, interfaceId: port }],
    };
    return { slot, gen, created, deleted, spec, util: 0.05 + 0.6 * r('util'), downs };
  }

  /** Advance each slot to the generation alive (or next to be) at `t`. */
  private at(t: number): Gen[] {
    for (let slot = 0; slot < this.opts.vms; slot++) {
      let g = this.current[slot] ?? this.makeGen(slot, 0, EPOCH + Math.floor(this.rand(slot, 'first') * 2 * 24 * HOUR));
      while (g.deleted <= t) g = this.makeGen(slot, g.gen + 1, g.deleted + Math.floor(this.rand(slot, g.gen, 'gap') * 2 * HOUR));
      this.current[slot] = g;
    }
    return this.current.filter((g) => g.created <= t);
  }

  private stateAt(g: Gen, t: number): number {
    return g.downs.find((d) => d.from <= t && t < d.to)?.state ?? DomainState.RUNNING;
  }

  /** Milliseconds the VM ran between creation and `t` (shut-off and paused time excluded). */
  private runningMs(g: Gen, t: number): number {
    let ms = t - g.created;
    for (const d of g.downs) if (d.from < t) ms -= Math.min(t, d.to) - d.from;
    return Math.max(0, ms);
  }

  private alive(uuid: string): { g: Gen; t: number } {
    const t = this.opts.clock.now().getTime();
    const g = this.at(t).find((x) => x.spec.uuid === uuid);
    if (!g) throw new DomainNotFoundError(uuid);
    if (this.stateAt(g, t) === DomainState.SHUTOFF) throw new DomainNotRunningError(uuid);
    return { g, t };
  }

  /** A counter growing at `perSecond`·utilisation while the VM runs: exact bigint, monotonic. */
  private counter(g: Gen, t: number, perSecond: number, key: string): bigint {
    const rate = perSecond * (0.2 + this.rand(g.slot, g.gen, key));
    return BigInt(Math.floor((this.runningMs(g, t) / 1000) * rate * g.util));
  }

  async listDomains(): Promise<DomainRef[]> {
    const t = this.opts.clock.now().getTime();
    return this.at(t).map((g) => ({ uuid: g.spec.uuid, name: g.spec.name, state: this.stateAt(g, t), xml: renderDomainXml(g.spec) }));
  }

  async listStates(): Promise<{ uuid: string; state: number }[]> {
    const t = this.opts.clock.now().getTime();
    return this.at(t).map((g) => ({ uuid: g.spec.uuid, state: this.stateAt(g, t) }));
  }

  async instanceStats(uuid: string): Promise<InstanceStats> {
    const { g, t } = this.alive(uuid);
    const f = g.spec.flavor;
    // CPU ns from whole milliseconds of busy time, so it stays exact (and above 2^53 for long-lived VMs).
    const cpuTimeNs = BigInt(Math.floor(this.runningMs(g, t) * f.vcpus * g.util)) * 1_000_000n;
    const availableKiB = BigInt(f.ram) * 1024n;
    const used = 0.3 + 0.4 * g.util + 0.1 * Math.sin(t / (3 * HOUR) + g.slot);
    const usableKiB = availableKiB - BigInt(Math.floor(Number(availableKiB) * Math.min(0.95, used)));
    return { cpuTimeNs, vcpus: f.vcpus, memory: { availableKiB, usableKiB, unusedKiB: usableKiB, rssKiB: availableKiB - usableKiB / 2n } };
  }

  async blockStats(uuid: string, dev: string): Promise<BlockStats> {
    const { g, t } = this.alive(uuid);
    this.disk(g, dev);
    return {
      rdBytes: this.counter(g, t, 2_000_000, 'rdb'), rdReqs: this.counter(g, t, 120, 'rdr'),
      wrBytes: this.counter(g, t, 800_000, 'wrb'), wrReqs: this.counter(g, t, 60, 'wrr'),
    };
  }

  async blockInfo(uuid: string, dev: string): Promise<BlockInfo> {
    const { g, t } = this.alive(uuid);
    this.disk(g, dev);
    const capacity = BigInt(g.spec.flavor.disk) * 2n ** 30n;
    // Thin-provisioned image that fills up over the VM's life.
    const frac = Math.min(1, 0.1 + (t - g.created) / (g.deleted - g.created));
    const allocation = (capacity * BigInt(Math.floor(frac * 1000))) / 1000n;
    return { capacity, allocation, physical: allocation };
  }

  async interfaceStats(uuid: string, dev: string): Promise<InterfaceStats> {
    const { g, t } = this.alive(uuid);
    if (!g.spec.nics.some((n) => n.tap === dev)) throw new DomainNotFoundError(`${uuid}/${dev}`);
    const rxBytes = this.counter(g, t, 500_000, 'rx');
    const txBytes = this.counter(g, t, 200_000, 'tx');
    return { rxBytes, txBytes, rxPackets: rxBytes / 900n, txPackets: txBytes / 700n, rxDrop: rxBytes / 10_000_000n, txDrop: 0n, rxErrs: 0n, txErrs: 0n };
  }

  private disk(g: Gen, dev: string): void {
    if (!g.spec.disks.some((d) => d.dev === dev)) throw new DomainNotFoundError(`${g.spec.uuid}/${dev}`);
  }

  async close(): Promise<void> {}
}
