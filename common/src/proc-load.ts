/**
 * A node's load read from Linux's `/proc`: CPU busy share (`/proc/stat`), memory in use
 * (`/proc/meminfo`), disk bytes read and written per second (`/proc/diskstats`) and
 * network bytes in and out per second (`/proc/net/dev`), plus this process's own CPU
 * share and resident memory. Counters are parsed as BigInt (they can pass 2^53 on a
 * long-lived host) and only the per-second rate between two snapshots becomes a number.
 *
 * The parsers are pure (text in, numbers out) so they are tested on captured files;
 * {@link ProcLoadReader} is the small IO shell every part uses for its heartbeat.
 */
import { readFileSync } from 'node:fs';

/** What a heartbeat carries about the node and the process. Rates are per second; shares are percentages. */
export interface NodeLoad {
  /** Share of all CPUs busy (not idle or iowait) since the previous snapshot, 0..100. */
  cpuPercent: number;
  /** Share of memory in use (MemTotal − MemAvailable), 0..100. */
  memoryPercent: number;
  memoryTotalBytes: number;
  diskReadBytesPerS: number;
  diskWriteBytesPerS: number;
  netInBytesPerS: number;
  netOutBytesPerS: number;
  /** This process's CPU time per wall second, as a share of one CPU (can pass 100 on several threads). */
  processCpuPercent: number;
  processRssBytes: number;
  cpus: number;
}

/** Raw counters at one instant. */
export interface ProcSnapshot {
  atMs: number;
  cpuBusy: bigint;
  cpuTotal: bigint;
  cpus: number;
  memTotalKb: bigint;
  memAvailableKb: bigint;
  diskReadSectors: bigint;
  diskWriteSectors: bigint;
  netRxBytes: bigint;
  netTxBytes: bigint;
  /** process.cpuUsage() user + system, µs. */
  processCpuUs: bigint;
  processRssBytes: number;
}

/** `/proc/stat`: busy and total jiffies over all CPUs (line `cpu`), and the number of `cpuN` lines. */
export function parseStat(text: string): { busy: bigint; total: bigint; cpus: number } {
  let busy = 0n;
  let total = 0n;
  let cpus = 0;
  for (const line of text.split('\n')) {
    if (/^cpu\d+\s/.test(line)) cpus++;
    if (!/^cpu\s/.test(line)) continue;
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const f = line.trim().split(/\s+/).slice(1).map((x) => BigInt(x));
    const [user = 0n, nice = 0n, system = 0n, idle = 0n, iowait = 0n, irq = 0n, softirq = 0n, steal = 0n] = f;
    busy = user + nice + system + irq + softirq + steal;
    total = busy + idle + iowait;
  }
  return { busy, total, cpus: Math.max(1, cpus) };
}

/** `/proc/meminfo`: MemTotal and MemAvailable in kB. */
export function parseMeminfo(text: string): { totalKb: bigint; availableKb: bigint } {
  const get = (key: string): bigint => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? BigInt(m[1]!) : 0n;
  };
  return { totalKb: get('MemTotal'), availableKb: get('MemAvailable') };
}

// Partitions, loop, ram and device-mapper devices would count the same bytes twice or are not disks.
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** `/proc/diskstats`: sectors (512 B) read and written by whole disks. */
export function parseDiskstats(text: string): { readSectors: bigint; writeSectors: bigint } {
  let readSectors = 0n;
  let writeSectors = 0n;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !WHOLE_DISK.test(f[2] ?? '')) continue;
    readSectors += BigInt(f[5]!);
    writeSectors += BigInt(f[9]!);
  }
  return { readSectors, writeSectors };
}

/** `/proc/net/dev`: bytes received and sent by every interface but loopback. */
export function parseNetDev(text: string): { rxBytes: bigint; txBytes: bigint } {
  let rxBytes = 0n;
  let txBytes = 0n;
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/);
    if (f.length < 9) continue;
    rxBytes += BigInt(f[0]!);
    txBytes += BigInt(f[8]!);
  }
  return { rxBytes, txBytes };
}

const rate = (d: bigint, seconds: number): number => (seconds > 0 && d > 0n ? Number(d) / seconds : 0);
const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The load between two snapshots (the later one's memory). */
export function loadBetween(prev: ProcSnapshot, cur: ProcSnapshot): NodeLoad {
  const seconds = (cur.atMs - prev.atMs) / 1000;
  const dTotal = cur.cpuTotal - prev.cpuTotal;
  const dBusy = cur.cpuBusy - prev.cpuBusy;
  const memUsed = cur.memTotalKb - cur.memAvailableKb;
  return {
    cpuPercent: dTotal > 0n ? round((Number(dBusy) / Number(dTotal)) * 100, 2) : 0,
    memoryPercent: cur.memTotalKb > 0n ? round((Number(memUsed) / Number(cur.memTotalKb)) * 100, 2) : 0,
    memoryTotalBytes: Number(cur.memTotalKb * 1024n),
    diskReadBytesPerS: round(rate((cur.diskReadSectors - prev.diskReadSectors) * 512n, seconds), 1),
    diskWriteBytesPerS: round(rate((cur.diskWriteSectors - prev.diskWriteSectors) * 512n, seconds), 1),
    netInBytesPerS: round(rate(cur.netRxBytes - prev.netRxBytes, seconds), 1),
    netOutBytesPerS: round(rate(cur.netTxBytes - prev.netTxBytes, seconds), 1),
    processCpuPercent: seconds > 0 ? round((Number(cur.processCpuUs - prev.processCpuUs) / 1e6 / seconds) * 100, 2) : 0,
    processRssBytes: cur.processRssBytes,
    cpus: cur.cpus,
  };
}

/** Reads snapshots from a `/proc` folder (default `/proc`) and gives the load since the previous read. */
export class ProcLoadReader {
  private prev: ProcSnapshot | undefined;

  constructor(private readonly root = '/proc', private readonly clock: () => number = Date.now) {}

  /** One snapshot now. */
  snapshot(): ProcSnapshot {
    const read = (f: string): string => {
      try {
        return readFileSync(`${this.root}/${f}`, 'utf8');
      } catch {
        return ''; // Not Linux, or a restricted container: that figure reads as zero.
      }
    };
    const stat = parseStat(read('stat'));
    const mem = parseMeminfo(read('meminfo'));
    const disk = parseDiskstats(read('diskstats'));
    const net = parseNetDev(read('net/dev'));
    const cpu = process.cpuUsage();
    return {
      atMs: this.clock(), cpuBusy: stat.busy, cpuTotal: stat.total, cpus: stat.cpus, memTotalKb: mem.totalKb, memAvailableKb: mem.availableKb,
      diskReadSectors: disk.readSectors, diskWriteSectors: disk.writeSectors, netRxBytes: net.rxBytes, netTxBytes: net.txBytes,
      processCpuUs: BigInt(cpu.user + cpu.system), processRssBytes: process.memoryUsage.rss(),
    };
  }

  /** The load since the previous call; the first call has no earlier snapshot, so its rates are zero. */
  read(): NodeLoad {
    const cur = this.snapshot();
    const prev = this.prev ?? cur;
    this.prev = cur;
    return loadBetween(prev, cur);
  }
}
