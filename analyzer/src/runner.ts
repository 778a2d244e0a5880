/**
 * The local parallel runner (the default): the streaming job's map and reduce on
 * worker threads, in chunks of hours so memory stays bounded. Each chunk reads the
 * DFS hours covering [chunk − T, chunk end + T), maps them on N workers (partitioned
 * by key hash), and reduces partition p on worker p; the billing span's lifetimes are
 * combined across all chunks and reduced at the end. The result equals the in-process
 * runner's and `cat | mapper | sort | reducer`'s.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Dfs } from './dfs/types.js';
import { hoursCovering, rawHourPrefix } from './layout.js';
import { combineSpanLines, parseUsageLine, reduceGroup, sortUsage, spanLines, type JobOptions } from './streaming.js';
import { HOUR_US, hourStartUs } from './timestamp.js';
import type { Lifetime } from './span.js';
import type { UsageRecord } from './usage.js';
import type { WorkerReply, WorkerTask } from './runner-worker.js';

export interface LocalRunOptions {
  gapThresholdUs: number;
  /** Windows starting in [fromUs, toUs) are computed. */
  fromUs: number;
  toUs: number;
  /** Worker threads; default the machine's available parallelism. */
  workers?: number;
  /** Hours per chunk; default 6. */
  chunkHours?: number;
  /** Called with the time spent in each phase (ms), for benchmarks. */
  onPhase?: (phase: 'read' | 'map' | 'reduce' | 'collect', ms: number) => void;
}

export interface LocalRunResult {
  records: UsageRecord[];
  /** Every VM's first and last heartbeat seen by the job (for a global billing span). */
  lifetimes: Lifetime[];
  lines: number;
  badLines: number;
  files: number;
}

class Pool {
  private readonly workers: Worker[];
  constructor(n: number) {
    // Built, the worker is plain .js. Under tsx (tests) the sources are .ts: a tiny
    // bootstrap registers tsx's loader inside the worker first.
    this.workers = Array.from({ length: n }, () => {
      if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./runner-worker.js', import.meta.url));
      const url = new URL('./runner-worker.ts', import.meta.url).href;
      return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url)}); });`, { eval: true });
    });
  }
  get size(): number {
    return this.workers.length;
  }
  run(i: number, task: WorkerTask, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const w = this.workers[i] as Worker;
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      w.once('error', onError);
      w.once('message', (r: WorkerReply) => {
        w.off('error', onError);
        if (r.type === 'error') reject(new Error(`runner worker: ${r.message}`));
        else resolve(r);
      });
      w.postMessage(task, transfer);
    });
  }
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Run the usage job over the DFS for windows in [fromUs, toUs). */
export async function runLocalParallel(dfs: Dfs, o: LocalRunOptions): Promise<LocalRunResult> {
  const n = Math.max(1, o.workers ?? availableParallelism());
  const chunkUs = (o.chunkHours ?? 6) * HOUR_US;
  const pool = new Pool(n);
  const out: UsageRecord[] = [];
  const span = new Map<string, Map<string, [number, number]>>();
  let lines = 0;
  let badLines = 0;
  let files = 0;
  try {
    for (let c = hourStartUs(o.fromUs); c < o.toUs; c += chunkUs) {
      const end = Math.min(c + chunkUs, o.toUs);
      const paths: string[] = [];
      for (const h of hoursCovering(c - o.gapThresholdUs, end + o.gapThresholdUs)) paths.push(...(await dfs.list(rawHourPrefix(h))));
      files += paths.length;
      let t = performance.now();
      const phase = (name: 'read' | 'map' | 'reduce' | 'collect'): void => {
        const now = performance.now();
        o.onPhase?.(name, now - t);
        t = now;
      };
      // Map: files dealt round-robin; bytes are transferred, not copied.
      const buckets: ArrayBuffer[][] = Array.from({ length: n }, () => []);
      let k = 0;
      for (const p of paths) {
        const b = await dfs.readFile(p);
        buckets[k++ % n]!.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      }
      phase('read');
      const mapped = await Promise.all(buckets.map((files, i) => pool.run(i, { type: 'map', files, partitions: n, fromUs: c - o.gapThresholdUs, toUs: end + o.gapThresholdUs }, files)));
      for (const m of mapped) {
        if (m.type !== 'map') continue;
        lines += m.lines;
        badLines += m.badLines;
        if (m.span !== '') combineSpanLines(m.span.split('\n'), span);
      }
      phase('map');
      // Reduce: partition p of every map output goes to worker p.
      const options: JobOptions = { gapThresholdUs: o.gapThresholdUs, fromUs: c, toUs: end };
      const reduced = await Promise.all(Array.from({ length: n }, (_, p) =>
        pool.run(p, { type: 'reduce', input: mapped.map((m) => (m.type === 'map' ? (m.parts[p] ?? '') : '')), options })));
      phase('reduce');
      for (const r of reduced) if (r.type === 'reduce' && r.output !== '') for (const line of r.output.split('\n')) out.push(parseUsageLine(line));
      phase('collect');
    }
  } finally {
    await pool.close();
  }
  // The billing span needs every VM's whole lifetime: reduced once, over all chunks.
  const byKey = new Map<string, string[]>();
  for (const line of spanLines(span)) {
    const tab = line.indexOf('\t');
    const k = line.slice(0, tab);
    const g = byKey.get(k);
    if (g) g.push(line.slice(tab + 1));
    else byKey.set(k, [line.slice(tab + 1)]);
  }
  for (const [k, vs] of byKey) out.push(...reduceGroup(k, vs, { gapThresholdUs: o.gapThresholdUs, fromUs: o.fromUs, toUs: o.toUs }));
  const lifetimes: Lifetime[] = [];
  for (const [key, vms] of span) {
    const projectId = JSON.parse(key.slice(1)) as string;
    for (const [resourceId, [firstUs, lastUs]] of vms) lifetimes.push({ resourceId, projectId, firstUs, lastUs });
  }
  return { records: sortUsage(out), lifetimes, lines, badLines, files };
}
