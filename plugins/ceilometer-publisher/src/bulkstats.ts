/**
 * Instance statistics from libvirt's bulk call (`virConnectGetAllDomainStats`,
 * Python's `domainListGetStats`), computed as Zed's `LibvirtInspector.inspect_instance`
 * does: CPU time is the sum over `vcpu.maximum` of `vcpu.N.time + vcpu.N.wait`,
 * falling back to `cpu.time` when any vCPU entry is missing; `perf.*` when present.
 */
import type { InstanceStats, PerfStats } from './hypervisor.js';

/** The integer-valued bulk stats of one domain, by libvirt field name. */
export type BulkStats = ReadonlyMap<string, bigint>;

/**
 * CPU, vCPU count and perf counters from bulk stats, or undefined when the driver
 * filled neither the vCPU nor the CPU group (libvirt's test driver fills only the state).
 */
export function cpuFromBulk(s: BulkStats): Pick<InstanceStats, 'cpuTimeNs' | 'vcpus' | 'perf'> | undefined {
  const current = s.get('vcpu.current');
  const maximum = Number(s.get('vcpu.maximum') ?? 0n);
  let cpu = 0n;
  let left = current === undefined ? 0 : Number(current);
  for (let i = 0; i < maximum; i++) {
    const time = s.get(`vcpu.${i}.time`);
    const wait = s.get(`vcpu.${i}.wait`);
    // Python's None + int raises TypeError, which Ceilometer swallows: a hole skips the vCPU.
    if (time === undefined || wait === undefined) continue;
    cpu += time + wait;
    left--;
  }
  if (left !== 0) {
    const total = s.get('cpu.time');
    if (total === undefined) return undefined;
    cpu = total;
  }
  if (current === undefined && s.get('cpu.time') === undefined) return undefined;
  const perf: PerfStats = {};
  const map: [keyof PerfStats, string][] = [['cpuCycles', 'perf.cpu_cycles'], ['instructions', 'perf.instructions'], ['cacheReferences', 'perf.cache_references'],
    ['cacheMisses', 'perf.cache_misses'], ['memoryBandwidthTotal', 'perf.mbmt'], ['memoryBandwidthLocal', 'perf.mbml'], ['cpuL3Cache', 'perf.cmt']];
  for (const [k, field] of map) {
    const v = s.get(field);
    if (v !== undefined) perf[k] = v;
  }
  return { cpuTimeNs: cpu, vcpus: Number(current ?? 0n), ...(Object.keys(perf).length > 0 ? { perf } : {}) };
}
