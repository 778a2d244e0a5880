/**
 * What the poller needs from a hypervisor. Two implementations share it: libvirt
 * through koffi (`openLibvirt`) and the simulated fleet (`SimulatedFleet`), so
 * the polling code path is the same in production and in embedded mode.
 */
import { TallyError } from '@tally/common';

/** libvirt `virDomainState` values. */
export const DomainState = {
  NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7,
} as const;

/** One domain as listed (active and inactive). */
export interface DomainRef {
  uuid: string;
  name: string;
  /** libvirt state, see {@link DomainState}. */
  state: number;
  /** `virDomainGetXMLDesc(0)`. */
  xml: string;
  /**
   * The Nova element as `virDomainGetMetadata(ELEMENT, uri)` returns it
   * (un-prefixed `<instance>`), when the driver fetched it; otherwise discovery
   * reads `<metadata>` from `xml` by namespace URI.
   */
  novaMetadata?: string | null;
}

/** Memory balloon statistics in KiB; absent when the guest driver does not report them. */
export interface MemoryStats {
  availableKiB?: bigint;
  unusedKiB?: bigint;
  usableKiB?: bigint;
  rssKiB?: bigint;
  swapInKiB?: bigint;
  swapOutKiB?: bigint;
}

/** `perf.*` statistics of the bulk stats call; present only when perf events are enabled on the domain. */
export interface PerfStats {
  cpuCycles?: bigint;
  instructions?: bigint;
  cacheReferences?: bigint;
  cacheMisses?: bigint;
  /** `perf.mbmt`, B/s. */
  memoryBandwidthTotal?: bigint;
  /** `perf.mbml`, B/s. */
  memoryBandwidthLocal?: bigint;
  /** `perf.cmt`, B. */
  cpuL3Cache?: bigint;
}

/** Per-instance CPU and memory statistics. */
export interface InstanceStats {
  /** Total CPU time in nanoseconds (can exceed 2^53). */
  cpuTimeNs: bigint;
  vcpus: number;
  memory: MemoryStats;
  perf?: PerfStats;
}

/** `virDomainBlockStats` of one disk. */
export interface BlockStats {
  rdReqs: bigint;
  rdBytes: bigint;
  wrReqs: bigint;
  wrBytes: bigint;
  /** `virDomainBlockStatsFlags` `rd_total_times` / `wr_total_times` (ns), when the driver reports them. */
  rdTotalTimesNs?: bigint;
  wrTotalTimesNs?: bigint;
}

/** `virDomainGetBlockInfo` of one disk, in bytes. */
export interface BlockInfo {
  capacity: bigint;
  allocation: bigint;
  physical: bigint;
}

/** `virDomainInterfaceStats` of one tap device. */
export interface InterfaceStats {
  rxBytes: bigint;
  rxPackets: bigint;
  rxErrs: bigint;
  rxDrop: bigint;
  txBytes: bigint;
  txPackets: bigint;
  txErrs: bigint;
  txDrop: bigint;
}

/** The hypervisor operations the poller uses; domains are addressed by UUID. */
export interface Hypervisor {
  /** For logs, e.g. `test:///tmp/node.xml` or `simulated(24 VMs)`. */
  readonly description: string;
  /** All domains, active and inactive, in libvirt listing order. */
  listDomains(): Promise<DomainRef[]>;
  /** Only uuid and state of every domain: the cheap call of the state watch (default: {@link listDomains}). */
  listStates?(): Promise<{ uuid: string; state: number }[]>;
  instanceStats(uuid: string): Promise<InstanceStats>;
  blockStats(uuid: string, dev: string): Promise<BlockStats>;
  blockInfo(uuid: string, dev: string): Promise<BlockInfo>;
  interfaceStats(uuid: string, dev: string): Promise<InterfaceStats>;
  close(): Promise<void>;
}

/** The domain vanished (deleted mid-poll); Ceilometer ignores it (`InstanceNotFoundException`). */
export class DomainNotFoundError extends TallyError {
  constructor(uuid: string) {
    super('domain_not_found', `domain ${uuid} not found`);
  }
}

/** Stats were asked of a domain that is not running (`InstanceShutOffException`). */
export class DomainNotRunningError extends TallyError {
  constructor(uuid: string) {
    super('domain_not_running', `domain ${uuid} is not running`);
  }
}

/** A libvirt call failed; carries libvirt's error code when known. */
export class LibvirtError extends TallyError {
  readonly libvirtCode: number | undefined;
  constructor(call: string, message: string, libvirtCode?: number) {
    super('libvirt_error', `${call}: ${message}`, { transient: true });
    this.libvirtCode = libvirtCode;
  }
}
