/** DFS adapters, picked by URL scheme; an unknown scheme fails at start-up. */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineOptions, opt } from '@tally/common';
import { LocalDfs } from './local.js';
import type { Dfs } from './types.js';

export * from './types.js';
export { LocalDfs } from './local.js';

export const dfsOptions = defineOptions('dfs', 'where the analyzer keeps raw samples', {
  dfsUrl: opt.url({
    name: 'dfs-url',
    default: '',
    schemes: ['file'],
    help: 'Distributed file system for raw samples: file:///absolute/path (a local or shared folder). Empty: file://<data-dir>/dfs. WebHDFS (hdfs://) comes later.',
  }),
});

/**
 * Open the DFS named by `url` (`file:///abs/path`); an empty URL means
 * `<dataDir>/dfs`. Throws on an unsupported scheme or a relative path.
 */
export function openDfs(url: string, dataDir: string): Dfs {
  if (url === '') {
    if (!isAbsolute(dataDir)) throw new Error(`data dir must be absolute, got ${dataDir}`);
    return new LocalDfs(join(dataDir, 'dfs'));
  }
  const u = new URL(url);
  if (u.protocol === 'file:') {
    if (u.host !== '' && u.host !== 'localhost') throw new Error(`dfs-url: file URLs name a local path, got host ${u.host}`);
    return new LocalDfs(fileURLToPath(u));
  }
  throw new Error(`dfs-url: unsupported scheme ${u.protocol.replace(/:$/, '')} in ${url}`);
}
