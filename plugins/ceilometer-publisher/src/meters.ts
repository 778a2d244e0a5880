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
/** A per-disk meter from `virDomainBlockStats(Flags)` (resource id `<uuid>-<dev>`); null = not reported. */
export interface DiskMeter extends MeterBase {
  source: 'disk';
  volume(s: BlockStats): bigint | null;
}
/** A per-disk meter from `virDomainGetBlockInfo`. */
export interface DiskInfoMeter extends MeterBase {
  source: 'diskinfo';
  volume(s: BlockInfo): bigint;
}
/**
 * A per-NIC meter from `virDomainInterfaceStats`. `prev` is the same tap's
 * reading of the previous cycle in this process (for the `.delta` meters).
 */
export interface NicMeter extends MeterBase {
  source: 'nic';
  volume(s: InterfaceStats, prev: InterfaceStats | undefined): bigint;
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

/** Ceilometer's `rx/tx_bytes_delta`: 0 on the first reading, the raw counter after a reset. */
const delta = (cur: bigint, prev: bigint | undefined): bigint => (prev === undefined ? 0n : cur - prev < 0n ? cur : cur - prev);
const swap = (s: InstanceStats, v: bigint | undefined): PyFloat | null =>
  // Ceilometer reports both swap meters only when libvirt gives both values.
  (s.memory.swapInKiB === undefined || s.memory.swapOutKiB === undefined || v === undefined ? null : kibToMb(v));
const perf = (k: keyof NonNullable<InstanceStats['perf']>) => (s: InstanceStats): bigint | null => s.perf?.[k] ?? null;

/**
 * Every meter Ceilometer Zed's libvirt inspector can fill, in the order they are polled.
 * Left out, as Zed's LibvirtInspector does not implement them (the pollster is
 * disabled on NotImplementedError): `cpu_util`, `network.*.bytes.rate`,
 * `disk.device.iops`, `disk.device.latency`.
 */
export const METERS: readonly Meter[] = [
  { source: 'instance', name: 'cpu', type: 'cumulative', unit: 'ns', volume: (s) => s.cpuTimeNs, extra: (s) => ({ cpu_number: s.vcpus }) },
  { source: 'instance', name: 'memory.usage', type: 'gauge', unit: 'MB', volume: memoryUsage },
  { source: 'instance', name: 'memory.resident', type: 'gauge', unit: 'MB', volume: (s) => (s.memory.rssKiB === undefined ? null : kibToMb(s.memory.rssKiB)) },
  { source: 'instance', name: 'memory.swap.in', type: 'cumulative', unit: 'MB', volume: (s) => swap(s, s.memory.swapInKiB) },
  { source: 'instance', name: 'memory.swap.out', type: 'cumulative', unit: 'MB', volume: (s) => swap(s, s.memory.swapOutKiB) },
  { source: 'instance', name: 'perf.cpu.cycles', type: 'gauge', unit: '', volume: perf('cpuCycles') },
  { source: 'instance', name: 'perf.instructions', type: 'gauge', unit: '', volume: perf('instructions') },
  { source: 'instance', name: 'perf.cache.references', type: 'gauge', unit: '', volume: perf('cacheReferences') },
  { source: 'instance', name: 'perf.cache.misses', type: 'gauge', unit: '', volume: perf('cacheMisses') },
  { source: 'instance', name: 'memory.bandwidth.total', type: 'gauge', unit: 'B/s', volume: perf('memoryBandwidthTotal') },
  { source: 'instance', name: 'memory.bandwidth.local', type: 'gauge', unit: 'B/s', volume: perf('memoryBandwidthLocal') },
  { source: 'instance', name: 'cpu_l3_cache', type: 'gauge', unit: 'B', volume: perf('cpuL3Cache') },
  { source: 'disk', name: 'disk.device.read.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.rdBytes },
  { source: 'disk', name: 'disk.device.read.requests', type: 'cumulative', unit: 'request', volume: (s) => s.rdReqs },
  { source: 'disk', name: 'disk.device.write.bytes', type: 'cumulative', unit: 'B', volume: (s) => s.wrBytes },
  { source: 'disk', name: 'disk.device.write.requests', type: 'cumulative', unit: 'request', volume: (s) => s.wrReqs },
  { source: 'disk', name: 'disk.device.read.latency', type: 'cumulative', unit: 'ns', volume: (s) => s.rdTotalTimesNs ?? null },
  { source: 'disk', name: 'disk.device.write.latency', type: 'cumulative', unit: 'ns', volume: (s) => s.wrTotalTimesNs ?? null },
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
  { source: 'nic', name: 'network.incoming.bytes.delta', type: 'delta', unit: 'B', volume: (s, p) => delta(s.rxBytes, p?.rxBytes) },
  // Zed's entry point `network.outgoing.bytes.delta` publishes this name (a typo in compute/pollsters/net.py, kept for compatibility).
  { source: 'nic', name: 'network.outgoing.packets.delta', type: 'delta', unit: 'B', volume: (s, p) => delta(s.txBytes, p?.txBytes) },
];
