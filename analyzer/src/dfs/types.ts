/**
 * The distributed file system the analyzer keeps raw samples in. Adapters are
 * picked by URL scheme (`file://` now, WebHDFS later) and all pass one
 * conformance suite (`conformance.ts`).
 */
import { TallyError } from '@tally/common';

/**
 * Paths are relative, `/`-separated, without `.`/`..` segments or empty segments
 * (`raw/dt=2026-11-21/hour=20/a-1.jsonl`). Files are immutable once written.
 */
export interface Dfs {
  /** For logs: the URL without credentials. */
  readonly description: string;
  /**
   * Write a whole file atomically: readers see either nothing or all of `data`.
   * Fails with DfsError `dfs_exists` if the path exists (files are never overwritten).
   */
  writeFile(path: string, data: Buffer | string): Promise<void>;
  /** Whole content of a file; DfsError `dfs_not_found` if absent. */
  readFile(path: string): Promise<Buffer>;
  /** Every complete file whose path starts with `prefix` (plain string prefix), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Remove a file; DfsError `dfs_not_found` if absent. */
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

/** A DFS failure with a stable code; `dfs_io` failures are transient. */
export class DfsError extends TallyError {
  constructor(code: 'dfs_exists' | 'dfs_not_found' | 'dfs_bad_path' | 'dfs_io', message: string, cause?: unknown) {
    super(code, message, { transient: code === 'dfs_io', cause });
  }
}

/** Validate a DFS path (see Dfs); throws DfsError `dfs_bad_path`. */
export function checkPath(path: string): string {
  const segs = path.split('/');
  if (path === '' || segs.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'))) {
    throw new DfsError('dfs_bad_path', `bad DFS path ${JSON.stringify(path)}`);
  }
  // Names starting with '.' are reserved for adapters' temporary files.
  if (segs.some((s) => s.startsWith('.'))) throw new DfsError('dfs_bad_path', `DFS path segments may not start with '.': ${path}`);
  return path;
}
