import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBetween, parseDiskstats, parseMeminfo, parseNetDev, parseStat, ProcLoadReader, type ProcSnapshot } from './proc-load.js';

const STAT = `cpu  100 10 50 800 40 0 0 0 0 0
cpu0 50 5 25 400 20 0 0 0 0 0
cpu1 50 5 25 400 20 0 0 0 0 0
intr 12345
`;
const MEMINFO = 'MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   18000000 kB\n';
const DISKSTATS = `   8       0 sda 100 0 2000 10 50 0 4000 20 0 30 30
   8       1 sda1 90 0 1800 10 40 0 3600 20 0 30 30
   7       0 loop0 5 0 10 0 0 0 0 0 0 0 0
 259       0 nvme0n1 1 0 8 0 1 0 16 0 0 0 0
`;
const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999 10 0 0 0 0 0 0 999999 10 0 0 0 0 0 0
  eth0: 18446744073709551615 20 0 0 0 0 0 0 3000 30 0 0 0 0 0 0
`;

test('the /proc parsers read busy and total jiffies, memory, whole disks and non-loopback interfaces', () => {
  assert.deepEqual(parseStat(STAT), { busy: 160n, total: 1000n, cpus: 2 });
  assert.deepEqual(parseMeminfo(MEMINFO), { totalKb: 24000000n, availableKb: 18000000n });
  // sda and nvme0n1 only: a partition would count sda's sectors twice, loop devices are not disks.
  assert.deepEqual(parseDiskstats(DISKSTATS), { readSectors: 2008n, writeSectors: 4016n });
  // A counter above 2^53 stays exact.
  assert.deepEqual(parseNetDev(NETDEV), { rxBytes: 18446744073709551615n, txBytes: 3000n });
});

test('loadBetween: shares and per-second rates between two snapshots, hand-computed', () => {
  const a: ProcSnapshot = { atMs: 0, cpuBusy: 160n, cpuTotal: 1000n, cpus: 2, memTotalKb: 1000n, memAvailableKb: 250n, diskReadSectors: 0n, diskWriteSectors: 0n,
    netRxBytes: 9007199254740993n, netTxBytes: 0n, processCpuUs: 0n, processRssBytes: 1 };
  const b: ProcSnapshot = { ...a, atMs: 2000, cpuBusy: 460n, cpuTotal: 1400n, diskReadSectors: 40n, diskWriteSectors: 8n, netRxBytes: 9007199254741993n, netTxBytes: 500n, processCpuUs: 500_000n, processRssBytes: 42 };
  const l = loadBetween(a, b);
  // (460-160)/(1400-1000) = 75 %; memory (1000-250)/1000 = 75 %; disk 40×512/2 s = 10240 B/s; net (1000 B)/2 s.
  assert.deepEqual(l, { cpuPercent: 75, memoryPercent: 75, memoryTotalBytes: 1024000, diskReadBytesPerS: 10240, diskWriteBytesPerS: 2048,
    netInBytesPerS: 500, netOutBytesPerS: 250, processCpuPercent: 25, processRssBytes: 42, cpus: 2 });
});

test('ProcLoadReader reads this machine: the first read has zero rates, later ones sane shares', () => {
  let now = 1_000;
  const r = new ProcLoadReader('/proc', () => now);
  const first = r.read();
  assert.equal(first.cpuPercent, 0);
  assert.ok(first.memoryPercent > 0 && first.memoryPercent < 100);
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += i;
  now += 500;
  const second = r.read();
  assert.ok(x > 0 && second.cpuPercent >= 0 && second.cpuPercent <= 100, JSON.stringify(second));
  assert.ok(second.processRssBytes > 0 && second.cpus >= 1);
});
