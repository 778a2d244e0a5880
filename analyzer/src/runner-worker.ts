/**
 * A worker thread of the local parallel runner: `map` (raw file bytes → mapper lines
 * partitioned by key hash, span lines combined) and `reduce` (mapper lines of one
 * partition → usage lines). Never imported by the main thread.
 */
import { parentPort } from 'node:worker_threads';
import { parseTimestampUs } from './timestamp.js';
import { combineSpanLines, groupMapped, mapLine, reduceGroup, formatUsageLine, spanLines, type JobOptions } from './streaming.js';

export type WorkerTask =
  | { type: 'map'; files: ArrayBuffer[]; partitions: number; fromUs: number; toUs: number }
  | { type: 'reduce'; input: string[]; options: JobOptions };

export type WorkerReply =
  | { type: 'map'; parts: string[]; span: string; lines: number; badLines: number }
  | { type: 'reduce'; output: string; rows: number }
  | { type: 'error'; message: string };

/** FNV-1a over the key: a stable partition for every key. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % partitions;
}

// "timestamp" keys, read without parsing the whole line (metadata may hold one too).
const TIMESTAMP = /"timestamp":\s*"([^"]+)"/g;

/**
 * False only when every "timestamp" in the line is readable and outside [fromUs, toUs):
 * such a line cannot change this chunk's windows (the reduce looks at no sample beyond T).
 */
function mayMatter(line: string, fromUs: number, toUs: number): boolean {
  let seen = false;
  for (const m of line.matchAll(TIMESTAMP)) {
    seen = true;
    let us: number;
    try {
      us = parseTimestampUs(m[1] as string);
    } catch {
      return true; // let the mapper judge it
    }
    if (us >= fromUs && us < toUs) return true;
  }
  return !seen;
}

function runMap(t: Extract<WorkerTask, { type: 'map' }>): WorkerReply {
  const parts: string[][] = Array.from({ length: t.partitions }, () => []);
  const span = new Map<string, Map<string, [number, number]>>();
  let lines = 0;
  let badLines = 0;
  const decoder = new TextDecoder();
  for (const buf of t.files) {
    for (const line of decoder.decode(buf).split('\n')) {
      if (line === '' || !mayMatter(line, t.fromUs, t.toUs)) continue;
      lines++;
      let mapped: string[];
      try {
        mapped = mapLine(line);
      } catch {
        badLines++;
        continue;
      }
      for (const m of mapped) {
        if (m.charCodeAt(0) === 80 /* P */) combineSpanLines([m], span);
        else parts[partitionOf(m.slice(0, m.indexOf('\t')), t.partitions)]!.push(m);
      }
    }
  }
  return { type: 'map', parts: parts.map((p) => p.join('\n')), span: spanLines(span).join('\n'), lines, badLines };
}

function runReduce(t: Extract<WorkerTask, { type: 'reduce' }>): WorkerReply {
  const groups = new Map<string, string[]>();
  for (const chunk of t.input) if (chunk !== '') groupMapped(chunk.split('\n'), groups);
  const out: string[] = [];
  for (const [k, vs] of groups) for (const r of reduceGroup(k, vs, t.options)) out.push(formatUsageLine(r));
  return { type: 'reduce', output: out.join('\n'), rows: out.length };
}

parentPort?.on('message', (t: WorkerTask) => {
  try {
    parentPort!.postMessage(t.type === 'map' ? runMap(t) : runReduce(t));
  } catch (e) {
    parentPort!.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) } satisfies WorkerReply);
  }
});
