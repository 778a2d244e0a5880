/**
 * One decision round for 100 clusters × 50 members: per cluster, the observation from its
 * 50 members' latest loads (`observe`), the decision over 11 minutes of observations every
 * 10 s (`decide`, the built-in policy plus CPU rules, scale-in stabilised over 5 minutes so
 * every observation of that window is re-judged), and the victims (`chooseVictims`). The
 * pure core only: the database and the broker are not in the figure.
 *
 * `npm run bench -w @tally/scheduler` (or `node --import tsx bench/decide.bench.ts` in
 * scheduler/); `-- --quick` runs fewer rounds. No peer runs the same decision in this
 * process: OpenStack's own autoscaling (Senlin with Aodh alarms) and Kubernetes' HPA are
 * services, not libraries; the figure stands alone, with its CPU time.
 */
import { loadavg } from 'node:os';
import { benchHeader } from '@tally/common';
import { chooseVictims, decide, observe, parseScalingPolicy, type MemberLoad, type MemberView, type Observation } from '../src/index.js';

const quick = process.argv.includes('--quick');
const CLUSTERS = 100;
const MEMBERS = 50;
const STEP_MS = 10_000;
const SPAN_MS = 11 * 60_000;
const NOW = Date.parse('2026-12-04T12:00:00Z');

const policy = parseScalingPolicy(`
min_size: 1
max_size: 60
scale_out:
  cooldown: 1m
  when_any:
    - avg queue_depth_per_replica > 5000 over 5m
    - avg cpu_percent > 85 over 5m
    - max processing_lag_seconds > 900 over 5m
scale_in:
  cooldown: 5m
  stabilization: 5m
  when_all:
    - avg queue_depth_per_replica < 500 over 5m
    - avg cpu_percent < 30 over 5m
`);

// Deterministic pseudo-random figures (no Math.random: the same work every run).
let seed = 42;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const load = (): MemberLoad => ({
  load: { cpuPercent: rnd() * 40, memoryPercent: 50, memoryTotalBytes: 8e9, diskReadBytesPerS: rnd() * 1e6, diskWriteBytesPerS: rnd() * 1e6, netInBytesPerS: rnd() * 1e7, netOutBytesPerS: rnd() * 1e6, processCpuPercent: rnd() * 100, processRssBytes: 2e8, cpus: 2 },
  metrics: { ack_rate: rnd() * 50, lag_seconds: rnd() * 30 },
});
const clusters = Array.from({ length: CLUSTERS }, (_, c) => {
  const members: MemberLoad[] = Array.from({ length: MEMBERS }, load);
  const views: MemberView[] = members.map((m, i) => ({ name: `c${c}-analyzer-${i}`, state: 'running', startedAt: NOW - i * 60_000, managed: true, cpuPercent: m.load!.cpuPercent, processCpuPercent: m.load!.processCpuPercent }));
  // Half the clusters idle (scale-in path with its stabilisation re-judging), half busy (scale-out path).
  const busy = c % 2 === 0;
  const series: Observation[] = [];
  for (let t = NOW - SPAN_MS; t < NOW; t += STEP_MS) {
    const prev = series[series.length - 1];
    series.push(observe(t, members, { depth: busy ? 300_000 + Math.floor(rnd() * 1000) : Math.floor(rnd() * 100), deadLetters: 0 }, prev));
  }
  return { members, views, series };
});

function round(): number {
  let actions = 0;
  for (const c of clusters) {
    const obs = observe(NOW, c.members, { depth: 1000, deadLetters: 0 }, c.series[c.series.length - 1]);
    const d = decide({ series: [...c.series, obs], policy, members: c.views, lastAction: { direction: 'out', at: NOW - 3_600_000 }, now: NOW });
    if (d.action === 'in') chooseVictims(c.views, d.count, policy.victim);
    if (d.action !== 'hold') actions++;
  }
  return actions;
}

benchHeader('@tally/scheduler', 'npm run bench -w @tally/scheduler' + (quick ? ' -- --quick' : ''));
const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
const actions = round(); // warm-up, and the check below
const runs = quick ? 20 : 200;
const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  round();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!;
process.stdout.write(`decision round, ${CLUSTERS} clusters × ${MEMBERS} members, ${clusters[0]!.series.length + 1} observations each: ${actions} clusters act per round (a check)\n`);
process.stdout.write(`median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms over ${runs} rounds; CPU ${((cpu.user + cpu.system) / 1000 / runs).toFixed(2)} ms per round; load average ${load0}\n`);
process.stdout.write(`BENCH scheduler-decision-round-100x50 ${median.toFixed(2)} ms\n`);
