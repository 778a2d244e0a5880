/** DFS adapters, picked by URL scheme; an unknown scheme fails at start-up. */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineOptions, opt } from '@tally/common';
import { LocalDfs } from './local.js';
import type { Dfs } from './types.js';
import { parseWebHdfsUrl, WebHdfsDfs } from './webhdfs.js';

export * from './types.js';
export { LocalDfs } from './local.js';
export { parseWebHdfsUrl, WebHdfsClient, WebHdfsDfs, type WebHdfsConfig } from './webhdfs.js';
export { WebHdfsTestServer, type Fault, type WebHdfsServerOptions } from './webhdfs-server.js';

export const dfsOptions = defineOptions('dfs', 'where the analyzer keeps raw samples', {
  dfsUrl: opt.url({
    name: 'dfs-url',
    default: '',
    schemes: ['file', 'webhdfs', 'swebhdfs', 'hdfs'],
    help: 'Distributed file system for raw samples: file:///absolute/path (a local or shared folder), or HDFS through WebHDFS: webhdfs://namenode:9870/base/folder?user.name=tally (hdfs:// is the same; swebhdfs:// uses https; &delegation=TOKEN instead of user.name). Empty: file://<data-dir>/dfs.',
  }),
});

/**
 * Open the DFS named by `url` (`file:///abs/path`, `webhdfs://nn:9870/base`); an empty URL means
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
  if (/^(s?webhdfs|hdfs):$/.test(u.protocol)) return new WebHdfsDfs(parseWebHdfsUrl(url));
  throw new Error(`dfs-url: unsupported scheme ${u.protocol.replace(/:$/, '')} in ${url}`);
}
