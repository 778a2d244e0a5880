/**
 * A tiny benchmark harness for `npm run bench`: runs a function a few times,
 * reports the median rate and the command that produced the figure. Speed
 * targets live here, never in timed unit tests.
 */
export interface BenchResult { name: string; items: number; medianMs: number; perSecond: number }

export async function bench(name: string, items: number, fn: () => unknown, runs = 5): Promise<BenchResult> {
  await fn(); // warm-up (JIT, caches)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)] as number;
  const perSecond = Math.round((items / medianMs) * 1000);
  process.stdout.write(`${name.padEnd(66)} ${String(items).padStart(7)} items  median ${medianMs.toFixed(1).padStart(7)} ms of ${runs}  ${perSecond.toLocaleString('en-US').padStart(9)} /s\n`);
  return { name, items, medianMs, perSecond };
}

/** The header every bench prints: what ran, where, and how to run it again. */
export function benchHeader(workspace: string, command: string): void {
  const os = process.platform + '/' + process.arch;
  process.stdout.write(`\n# ${workspace} — node ${process.version} ${os}; median of several runs after a warm-up\n# command: ${command}\n`);
}
