/**
 * The compute meters this agent polls, with Ceilometer Zed's names, types and
 * units (compute/pollsters/*.py). Each meter reads one kind of statistics.
 */
import { PyFloat } from './pyjson.js';
import type { BlockInfo, BlockStats, InstanceStats, InterfaceStats } from './hypervisor.js';
import type { SampleType } from './sample.js';

interface MeterBase {
  name: string;
  type: SampleType;
  unit: string;
}
/** A per-instance meter (resource id = instance uuid); null volume = no sample (stat not reported). */
export interface InstanceMeter extends MeterBase {
  source: 'instance';
  volume(s: InstanceStats): bigint | PyFloat | null;
  extra?(s: InstanceStats): Record<string, number>;
}
/** A per-disk meter from `virDomainBlockStats` (resource id `<uuid>-<dev>`). */
export interface DiskMeter extends MeterBase {
  source: 'disk';
  volume(s: BlockStats): bigint;
}
/** A per-disk meter from `virDomainGetBlockInfo`. */
export interface DiskInfoMeter extends MeterBase {
  source: 'diskinfo';
  volume(s: BlockInfo): bigint;
}
/** A per-NIC meter from `virDomainInterfaceStats`. */
export interface NicMeter extends MeterBase {
  source: 'nic';
  volume(s: InterfaceStats): bigint;
}
export type Meter = InstanceMeter | DiskMeter | DiskInfoMeter | NicMeter;

/** KiB → MB as Python's `/ 1024` does: always a float. Exact for any realistic KiB count (< 2^53). */
const kibToMb = (kib: bigint): PyFloat => new PyFloat(Number(kib) / 1024);

const memoryUsage = (s: InstanceStats): PyFloat | null => {
  const m = s.memory;
  // Ceilometer: (available - usable) / 1024, falling back to unused when usable is absent.
  const free = m.usableKiB ?? m.unusedKiB;
  if (m.availableKiB === undefined || free === undefined) return null;
  return kibToMb(m.availableKiB - free);
};

/** Every meter, in the order they are polled. */
export const METERS: readonly Meter[] = [
  { source: 'instance', name: 'cpu', type: 'cumulative', unit: 'ns', volume: (s) => s.cpuTimeNs, extra: (s) => ({ cpu_number: s.vcpus }) },
  { source: 'instance', name: 'memory.usage', type: 'gauge', unit: 'MB', volume: memoryUsage },
  { source: 'instance', name: 'memory.resident', type: 'gauge', unit: 'MB', volume: (s) => (s.memory.rssKiB === undefined ? null : kibToMb(s.memory.rssKiB)) },
  { source: 'instance', name: 'memory.swap.in', type: 'cumulative', unit: 'MB', volume: (s) => (s.memory.swapInKiB === undefined ? null : kibToMb(s.memory.swapInKiB)) },
  { source: 'instance', name: 'memory.swap.out', type: 'cumulative', unit: 'MB', volume: (s) => (s.memory.swapOutKiB === undefined ? null : kibToMb(s.memory.swapOutKiB)) },
  { source: 'disk', name: 'disk.device.read.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.rdBytes },
  { source: 'disk', name: 'disk.device.read.requests', type: 'cumulative', unit: 'request', volume: (s) => s.rdReqs },
  { source: 'disk', name: 'disk.device.write.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.wrBytes },
  { source: 'disk', name: 'disk.device.write.requests', type: 'cumulative', unit: 'request', volume: (s) => s.wrReqs },
  { source: 'diskinfo', name: 'disk.device.capacity', type: 'gauge', unit: 'B', volume: (s) => (s.capacity > s.physical ? s.capacity : s.physical) },
  { source: 'diskinfo', name: 'disk.device.allocation', type: 'gauge', unit: 'B', volume: (s) => s.allocation },
  { source: 'diskinfo', name: 'disk.device.usage', type: 'gauge', unit: 'B', volume: (s) => s.physical },
  { source: 'nic', name: 'network.incoming.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.rxBytes },
  { source: 'nic', name: 'network.outgoing.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.txBytes },
  { source: 'nic', name: 'network.incoming.packets', type: 'cumulative', unit: 'packet', volume: (s) => s.rxPackets },
  { source: 'nic', name: 'network.outgoing.packets', type: 'cumulative', unit: 'packet', volume: (s) => s.txPackets },
  { source: 'nic', name: 'network.incoming.packets.drop', type: 'cumulative', unit: 'packet', volume: (s) => s.rxDrop },
  { source: 'nic', name: 'network.outgoing.packets.drop', type: 'cumulative', unit: 'packet', volume: (s) => s.txDrop },
  { source: 'nic', name: 'network.incoming.packets.error', type: 'cumulative', unit: 'packet', volume: (s) => s.rxErrs },
  { source: 'nic', name: 'network.outgoing.packets.error', type: 'cumulative', unit: 'packet', volume: (s) => s.txErrs },
];
