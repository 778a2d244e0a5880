// Map/reduce over ≥ 10 million samples on the local parallel runner (worker threads),
// from raw hourly files on disk, with the peak RSS of the whole process (workers included).
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchHeader } from '@tally/common';
import { HOUR_US, LocalDfs, rawFilePath, runLocalParallel } from '@tally/analyzer';

const cmd = 'npm run bench -w @tally/analyzer  (bench/mapreduce.bench.ts; BENCH_VMS, BENCH_HOURS, BENCH_WORKERS, BENCH_CHUNK_HOURS to change)';
benchHeader('@tally/analyzer map/reduce, local parallel runner', cmd);

const VMS = Number(process.env['BENCH_VMS'] ?? 5900);
const HOURS = Number(process.env['BENCH_HOURS'] ?? 24);
const WORKERS = Number(process.env['BENCH_WORKERS'] ?? availableParallelism());
const CHUNK_HOURS = Number(process.env['BENCH_CHUNK_HOURS'] ?? 3);
const METERS: [string, string, string][] = [
  ['cpu', 'cumulative', 'ns'], ['memory.usage', 'gauge', 'MB'], ['disk.device.read.bytes', 'cumulative', 'B'],
  ['disk.device.write.bytes', 'cumulative', 'B'], ['network.incoming.bytes', 'cumulative', 'B'], ['network.outgoing.bytes', 'cumulative', 'B'],
];
const START = Date.UTC(2026, 10, 1) * 1000;
const dir = await mkdtemp(join(tmpdir(), 'tally-bench-mr-'));
const dfs = new LocalDfs(join(dir, 'dfs'));
let samples = 0;
const g0 = Date.now();
try {
  let id = 0;
  for (let h = 0; h < HOURS; h++) {
    // Ten files per hour, as ten analyzers would write them.
    const files: string[][] = Array.from({ length: 10 }, () => []);
    for (let v = 0; v < VMS; v++) {
      for (let k = 0; k < 12; k++) {
        if ((v + h * 12 + k) % 97 === 0) continue; // a missed poll now and then
        const t = START + h * HOUR_US + k * 300_000_000 + (v % 300) * 1_000_003;
        const ts = new Date(Math.floor(t / 1000)).toISOString().slice(0, 19) + '.' + String(t % 1_000_000).padStart(6, '0');
        const n = h * 12 + k;
        for (const [name, type, unit] of METERS) {
          const volume = type === 'gauge' ? `${(v * 7 + n) % 4096}.5` : String(BigInt(n) * 1_000_000_007n + BigInt(v));
          const md = name === 'cpu' ? `{"vcpus":${1 + (v % 4)},"memory_mb":${1024 * (1 + (v % 4))},"display_name":"vm-${v}"}` : '{}';
          files[v % 10]!.push(`{"source":"openstack","counter_name":"${name}","counter_type":"${type}","counter_unit":"${unit}","counter_volume":${volume},"user_id":"u${v % 50}","project_id":"p${v % 200}","resource_id":"vm-${v}","timestamp":"${ts}","resource_metadata":${md},"message_id":"m-${id++}"}`);
          samples++;
        }
      }
    }
    for (let f = 0; f < files.length; f++) await dfs.writeFile(rawFilePath(START + h * HOUR_US, `a${f}`, h), files[f]!.join('\n') + '\n');
  }
  process.stdout.write(`dataset: ${samples.toLocaleString('en-US')} samples (${VMS} VMs x ${HOURS} h x 12 polls x ${METERS.length} meters, minus missed polls), written in ${((Date.now() - g0) / 1000).toFixed(1)} s (not timed below)\n`);
  const t0 = process.hrtime.bigint();
  const phases = new Map<string, number>();
  const r = await runLocalParallel(dfs, {
    gapThresholdUs: 630_000_000, fromUs: START, toUs: START + HOURS * HOUR_US, workers: WORKERS, chunkHours: CHUNK_HOURS,
    onPhase: (p, ms) => phases.set(p, (phases.get(p) ?? 0) + ms),
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`local parallel runner, ${WORKERS} workers, ${CHUNK_HOURS}-hour chunks: ${samples.toLocaleString('en-US')} samples in ${s.toFixed(1)} s = ${Math.round(samples / s).toLocaleString('en-US')} samples/s; ${r.records.length.toLocaleString('en-US')} usage rows; ${r.lines.toLocaleString('en-US')} lines read (chunk margins included)\n`);
  process.stdout.write(`phases (s): ${[...phases].map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)}`).join(', ')}\n`);
  process.stdout.write(`peak RSS (process.resourceUsage().maxRSS, workers included): ${rssMb} MB\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
