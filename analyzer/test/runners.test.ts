// Three runners, one result: in-process, worker threads, and `cat | mapper | sort | reducer`
// (real sort, LC_ALL=C) — and each window equals the window job's rows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decodeSampleLine, extract, extractMeter, foldLifetimes, HOUR_US, LocalDfs, parseUsageLine, rawFilePath, runInProcess, runLocalParallel, sortUsage, windowUsage,
  type UsageRecord,
} from '../src/index.js';

const BIN = fileURLToPath(new URL('../bin/', import.meta.url));
const S = 1_000_000;
const T = 630 * S;
const H0 = 1_795_291_200_000_000; // 2026-11-21T20:00:00Z
const iso = (us: number): string => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % S).padStart(6, '0')}`;

/** Raw DFS lines: 6 VMs in 3 projects over ~5 h, with outages, a resize, counter resets, three meter types. */
function dataset(): string[] {
  const lines: string[] = [];
  let id = 0;
  for (let v = 0; v < 6; v++) {
    let cpu = 9_085_000_000_000_000n + BigInt(v);
    let t = H0 - 30 * 60 * S + v * 7_777_777;
    const stopAt = v === 2 ? H0 + 2 * HOUR_US : Infinity; // vm-2 deleted after 2 h
    while (t < Math.min(H0 + 5 * HOUR_US, stopAt)) {
      const vcpus = v === 3 && t > H0 + HOUR_US ? 4 : 2; // vm-3 resized
      cpu = v === 4 && t > H0 + 3 * HOUR_US && t < H0 + 3 * HOUR_US + 300 * S ? 12345n : cpu + 299_000_000_000n; // vm-4 rebooted
      const common = `"user_id": "u${v % 2}", "project_id": "p${v % 3}", "resource_id": "vm-${v}", "timestamp": "${iso(t)}", "source": "openstack"`;
      lines.push(`{"counter_name": "cpu", "counter_type": "cumulative", "counter_unit": "ns", "counter_volume": ${cpu}, ${common}, "resource_metadata": {"display_name": "vm\\t${v}", "flavor": {"name": "m1.x", "vcpus": ${vcpus}, "ram": ${vcpus * 1024}}, "vcpus": ${vcpus}, "memory_mb": ${vcpus * 1024}}, "message_id": "m${id++}"}`);
      lines.push(`{"counter_name": "memory.usage", "counter_type": "gauge", "counter_unit": "MB", "counter_volume": ${Math.floor(t / S) % 997}.25, ${common}, "resource_metadata": {}, "message_id": "m${id++}"}`);
      lines.push(`{"counter_name": "network.incoming.bytes.delta", "counter_type": "delta", "counter_unit": "B", "counter_volume": ${Math.floor(t / S) % 4096}, ${common}, "resource_metadata": {}, "message_id": "m${id++}"}`);
      if (id % 50 === 0) lines.push(lines[lines.length - 3]!); // a duplicate now and then
      // Polls every ~300 s; vm-1 misses polls for 40 minutes.
      t += v === 1 && t > H0 + HOUR_US && t < H0 + HOUR_US + 300 * S ? 2400 * S : 300 * S + (v + 1) * 1_111;
    }
  }
  return lines;
}

const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) =>
  [r.windowStart.toISOString(), r.windowEnd.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.userId, r.flavorName, r.vcpus, r.memoryMb, r.displayName].join(' | '));
const FROM = H0 - HOUR_US;
const TO = H0 + 6 * HOUR_US;

describe('runners', () => {
  let dir: string;
  let dfs: LocalDfs;
  const lines = dataset();
  let expected: string[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-runners-'));
    dfs = new LocalDfs(join(dir, 'dfs'));
    const byHour = new Map<number, string[]>();
    for (const l of lines) {
      const h = Math.floor(decodeSampleLine(l).timestampUs / HOUR_US) * HOUR_US;
      byHour.set(h, [...(byHour.get(h) ?? []), l]);
    }
    let seq = 0;
    for (const [h, ls] of byHour) {
      // Two files per hour, as two analyzers would write them.
      await dfs.writeFile(rawFilePath(h, 'a', seq++), ls.filter((_, i) => i % 2 === 0).join('\n') + '\n');
      await dfs.writeFile(rawFilePath(h, 'b', seq++), ls.filter((_, i) => i % 2 === 1).join('\n') + '\n');
    }
    await dfs.writeFile(rawFilePath(H0, 'c', seq), 'not json\n'); // damage is skipped, by every runner
    expected = canon(runInProcess([...lines, 'not json'], { gapThresholdUs: T, fromUs: FROM, toUs: TO }));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the in-process result has every kind of row', () => {
    const meters = new Set(expected.map((r) => r.split(' | ')[3]));
    assert.deepEqual([...meters].sort(), ['cpu', 'instance', 'instance.memory', 'instance.vcpus', 'memory.usage', 'network.incoming.bytes.delta', 'project.span']);
    assert.ok(expected.length > 100);
  });

  it('equals the window job, window by window', () => {
    const samples = lines.map(decodeSampleLine);
    const lifetimes = [...foldLifetimes(new Map(), samples.map(extract).filter((r) => r !== null)).values()];
    const rows: UsageRecord[] = [];
    for (let h = FROM; h < TO; h += HOUR_US) {
      const inRange = samples.filter((s) => s.timestampUs >= h - T && s.timestampUs < h + HOUR_US + T);
      rows.push(...windowUsage({ instances: inRange.map(extract).filter((r) => r !== null), meters: inRange.map(extractMeter).filter((r) => r !== null), lifetimes }, { startUs: h, endUs: h + HOUR_US }, T));
    }
    assert.deepEqual(canon(rows), expected);
  });

  it('the local parallel runner (2 worker threads, 2-hour chunks) gives the same result', async () => {
    const r = await runLocalParallel(dfs, { gapThresholdUs: T, fromUs: FROM, toUs: TO, workers: 2, chunkHours: 2 });
    assert.equal(r.badLines > 0, true);
    assert.deepEqual(canon(r.records), expected);
  });

  it('cat input | mapper | LC_ALL=C sort | reducer gives the same result', async () => {
    const files = (await dfs.list('raw/')).map((p) => join(dir, 'dfs', p));
    const out = execFileSync('bash', ['-c', `set -o pipefail; cat "$@" | node ${BIN}tally-mapper.js | LC_ALL=C sort | node ${BIN}tally-reducer.js --gap-threshold 630s --since ${iso(FROM)} --until ${iso(TO)}`, 'pipeline', ...files], {
      encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'],
    });
    const records = out.split('\n').filter((l) => l !== '').map(parseUsageLine);
    assert.deepEqual(canon(records), expected);
  });
});
