/**
 * HDFS through WebHDFS (`webhdfs://namenode:9870/base` or `hdfs://namenode:9870/base`):
 * a small client over `fetch`. CREATE, APPEND and OPEN go the two-step way the
 * WebHDFS REST API specifies (the namenode answers 307 with the datanode's
 * Location; the data goes there). Authentication: `user.name` (simple) or a
 * delegation token, both taken from the URL's query.
 *
 * Atomic, never-overwriting writes: CREATE a hidden temporary file, then RENAME
 * it onto the target (HDFS's rename fails when the target exists).
 */
import { randomBytes } from 'node:crypto';
import { checkPath, DfsError, type Dfs } from './types.js';

/** Where and as whom to talk WebHDFS. */
export interface WebHdfsConfig {
  /** `http://namenode:9870` (no path). */
  namenode: string;
  /** Absolute HDFS folder the DFS paths are relative to, e.g. `/tally`. */
  base: string;
  user?: string;
  delegation?: string;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

/** `webhdfs://host:port/base?user.name=u&delegation=t` (or `hdfs://`) to a config; `swebhdfs://` uses https. */
export function parseWebHdfsUrl(url: string): WebHdfsConfig {
  const u = new URL(url);
  if (!/^(s?webhdfs|hdfs):$/.test(u.protocol)) throw new Error(`dfs-url: not a WebHDFS URL: ${url}`);
  if (u.hostname === '') throw new Error(`dfs-url: WebHDFS URL needs a namenode host: ${url}`);
  const scheme = u.protocol === 'swebhdfs:' ? 'https' : 'http';
  const base = decodeURIComponent(u.pathname).replace(/\/+$/, '') || '';
  const cfg: WebHdfsConfig = { namenode: `${scheme}://${u.hostname}:${u.port || '9870'}`, base };
  const user = u.searchParams.get('user.name');
  const token = u.searchParams.get('delegation');
  if (user) cfg.user = user;
  if (token) cfg.delegation = token;
  return cfg;
}

interface RemoteException {
  exception: string;
  javaClassName?: string;
  message: string;
}

/** A WebHDFS call failed; `remote` holds the server's RemoteException when it sent one. */
function toDfsError(op: string, path: string, status: number, remote: RemoteException | undefined): DfsError {
  const what = remote ? `${remote.exception}: ${remote.message}` : `HTTP ${status}`;
  const msg = `WebHDFS ${op} ${path}: ${what}`;
  if (remote?.exception === 'FileNotFoundException' || (!remote && status === 404)) return new DfsError('dfs_not_found', msg);
  if (remote?.exception === 'FileAlreadyExistsException') return new DfsError('dfs_exists', msg);
  return new DfsError('dfs_io', msg);
}

/** The WebHDFS operations the DFS needs, plus APPEND; paths are absolute HDFS paths. */
export class WebHdfsClient {
  constructor(readonly cfg: WebHdfsConfig) {}

  private url(path: string, op: string, params: Record<string, string> = {}): string {
    const q = new URLSearchParams({ op, ...params });
    // A delegation token carries the identity; user.name is sent only without one (WebHDFS spec, Authentication).
    if (this.cfg.delegation) q.set('delegation', this.cfg.delegation);
    else if (this.cfg.user) q.set('user.name', this.cfg.user);
    return `${this.cfg.namenode}/webhdfs/v1${path.split('/').map(encodeURIComponent).join('/')}?${q.toString()}`;
  }

  private async call(method: string, url: string, op: string, path: string, body?: Buffer): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(url, {
        method, redirect: 'manual', signal: AbortSignal.timeout(this.cfg.timeoutMs ?? 30_000),
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/octet-stream' } } : {}),
      });
    } catch (e) {
      throw new DfsError('dfs_io', `WebHDFS ${op} ${path}: ${(e as Error).message}`, e);
    }
    if (res.status >= 400) {
      let remote: RemoteException | undefined;
      try {
        remote = ((await res.json()) as { RemoteException?: RemoteException }).RemoteException;
      } catch {
        remote = undefined;
      }
      throw toDfsError(op, path, res.status, remote);
    }
    return res;
  }

  /** Step one at the namenode (expects 307), step two at the datanode it names. */
  private async twoStep(method: 'PUT' | 'POST' | 'GET', op: string, path: string, params: Record<string, string>, body?: Buffer): Promise<Response> {
    const first = await this.call(method, this.url(path, op, params), op, path);
    const location = first.headers.get('location');
    await first.body?.cancel();
    if (first.status !== 307 || !location) throw new DfsError('dfs_io', `WebHDFS ${op} ${path}: expected 307 with a Location, got ${first.status}`);
    return this.call(method, location, op, path, body);
  }

  private async bool(method: string, op: string, path: string, params: Record<string, string> = {}): Promise<boolean> {
    const res = await this.call(method, this.url(path, op, params), op, path);
    const v = (await res.json()) as { boolean?: unknown };
    if (typeof v.boolean !== 'boolean') throw new DfsError('dfs_io', `WebHDFS ${op} ${path}: no boolean in the answer`);
    return v.boolean;
  }

  /** CREATE (two steps; 201 expected). Fails with `dfs_exists` when `overwrite` is false and the file exists. */
  async create(path: string, data: Buffer, overwrite = false): Promise<void> {
    const res = await this.twoStep('PUT', 'CREATE', path, { overwrite: String(overwrite) }, data);
    await res.body?.cancel();
    if (res.status !== 201) throw new DfsError('dfs_io', `WebHDFS CREATE ${path}: expected 201, got ${res.status}`);
  }

  /** APPEND (two steps; 200 expected). */
  async append(path: string, data: Buffer): Promise<void> {
    const res = await this.twoStep('POST', 'APPEND', path, {}, data);
    await res.body?.cancel();
  }

  /** OPEN (two steps): the whole file. */
  async open(path: string): Promise<Buffer> {
    const res = await this.twoStep('GET', 'OPEN', path, {});
    return Buffer.from(await res.arrayBuffer());
  }

  mkdirs(path: string): Promise<boolean> {
    return this.bool('PUT', 'MKDIRS', path);
  }

  /** RENAME; false when the source is missing or the destination exists (HDFS semantics). */
  rename(path: string, destination: string): Promise<boolean> {
    return this.bool('PUT', 'RENAME', path, { destination });
  }

  delete(path: string, recursive = false): Promise<boolean> {
    return this.bool('DELETE', 'DELETE', path, { recursive: String(recursive) });
  }

  /** LISTSTATUS: names and types of a folder's entries. */
  async listStatus(path: string): Promise<{ pathSuffix: string; type: 'FILE' | 'DIRECTORY' }[]> {
    const res = await this.call('GET', this.url(path, 'LISTSTATUS'), 'LISTSTATUS', path);
    const v = (await res.json()) as { FileStatuses?: { FileStatus?: { pathSuffix: string; type: 'FILE' | 'DIRECTORY' }[] } };
    const list = v.FileStatuses?.FileStatus;
    if (!Array.isArray(list)) throw new DfsError('dfs_io', `WebHDFS LISTSTATUS ${path}: no FileStatuses in the answer`);
    return list;
  }
}

/** The `Dfs` over WebHDFS. */
export class WebHdfsDfs implements Dfs {
  readonly description: string;
  readonly client: WebHdfsClient;

  constructor(cfg: WebHdfsConfig) {
    this.client = new WebHdfsClient(cfg);
    this.description = `webhdfs://${new URL(cfg.namenode).host}${cfg.base}`;
  }

  private abs(path: string): string {
    return `${this.client.cfg.base}/${checkPath(path)}`;
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    const target = this.abs(path);
    const dir = target.slice(0, target.lastIndexOf('/'));
    const tmp = `${dir}/.tmp-${randomBytes(8).toString('hex')}`;
    await this.client.mkdirs(dir);
    try {
      await this.client.create(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, false);
      if (!(await this.client.rename(tmp, target))) throw new DfsError('dfs_exists', `DFS file exists: ${path}`);
    } catch (e) {
      // Best effort: a temporary file left behind is invisible to list() and harmless.
      await this.client.delete(tmp).catch(() => false);
      throw e;
    }
  }

  readFile(path: string): Promise<Buffer> {
    return this.client.open(this.abs(path));
  }

  async list(prefix: string): Promise<string[]> {
    const cut = prefix.lastIndexOf('/');
    const rel = cut >= 0 ? prefix.slice(0, cut) : '';
    if (rel !== '') checkPath(rel);
    const out: string[] = [];
    const walk = async (relDir: string): Promise<void> => {
      let entries;
      try {
        entries = await this.client.listStatus(relDir === '' ? this.client.cfg.base || '/' : `${this.client.cfg.base}/${relDir}`);
      } catch (e) {
        if (e instanceof DfsError && e.code === 'dfs_not_found') return;
        throw e;
      }
      for (const ent of entries) {
        if (ent.pathSuffix === '' || ent.pathSuffix.startsWith('.')) continue;
        const p = relDir === '' ? ent.pathSuffix : `${relDir}/${ent.pathSuffix}`;
        if (ent.type === 'DIRECTORY') {
          // Only descend into folders that can hold a match.
          if (prefix.startsWith(`${p}/`) || `${p}/`.startsWith(prefix) || p.startsWith(prefix)) await walk(p);
        } else if (p.startsWith(prefix)) out.push(p);
      }
    };
    await walk(rel);
    return out.sort();
  }

  async remove(path: string): Promise<void> {
    if (!(await this.client.delete(this.abs(path)))) throw new DfsError('dfs_not_found', `no DFS file ${path}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
