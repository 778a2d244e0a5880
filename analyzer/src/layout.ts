/**
 * Where raw samples live in the DFS: one folder per UTC hour,
 * `raw/dt=YYYY-MM-DD/hour=HH/<analyzer-id>-<seq>.jsonl` (Hive-style partitions, so
 * Hadoop jobs can select hours by path), one JSON line per sample as received.
 */
import { HOUR_US, hourStartUs } from './timestamp.js';

/** The folder prefix (with trailing `/`) of the hour starting at `hourUs`. */
export function rawHourPrefix(hourUs: number): string {
  const iso = new Date(hourStartUs(hourUs) / 1000).toISOString();
  return `raw/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/`;
}

/** The path of one batch file of one hour. `seq` is zero-padded so names sort by it. */
export function rawFilePath(hourUs: number, analyzerId: string, seq: number): string {
  return `${rawHourPrefix(hourUs)}${safeAnalyzerId(analyzerId)}-${String(seq).padStart(16, '0')}.jsonl`;
}

/** An analyzer id usable in a file name: anything outside `[A-Za-z0-9._-]` becomes `_`, no leading dot. */
export function safeAnalyzerId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s === '' ? '_' : s;
}

/** Start instants of every hour overlapping [startUs, endUs). */
export function hoursCovering(startUs: number, endUs: number): number[] {
  const out: number[] = [];
  for (let h = hourStartUs(startUs); h < endUs; h += HOUR_US) out.push(h);
  return out;
}
