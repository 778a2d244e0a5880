/**
 * The local-directory DFS (`file:///abs/path`): embedded mode and single-host
 * deployments. Atomic writes go to a hidden temporary file in the target folder
 * and are published with link(2), which (unlike rename) fails if the target
 * exists, so a closed file can never be replaced.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { checkPath, DfsError, type Dfs } from './types.js';

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export class LocalDfs implements Dfs {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `file://${root}`;
  }

  private abs(path: string): string {
    return join(this.root, ...checkPath(path).split('/'));
  }

  async writeFile(path: string, data: Buffer | string): Promise<void> {
    const target = this.abs(path);
    const dir = dirname(target);
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await fs.mkdir(dir, { recursive: true });
      const fh = await fs.open(tmp, 'wx');
      try {
        await fh.writeFile(data);
        // Durable before it becomes visible: the caller acks deliveries once this resolves.
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.link(tmp, target);
    } catch (e) {
      if (code(e) === 'EEXIST') throw new DfsError('dfs_exists', `DFS file exists: ${path}`, e);
      throw new DfsError('dfs_io', `cannot write ${path}: ${(e as Error).message}`, e);
    } finally {
      await fs.rm(tmp, { force: true });
    }
    await this.syncDir(dir);
  }

  private async syncDir(dir: string): Promise<void> {
    // Persist the new directory entry too; not every platform can fsync a directory.
    try {
      const dh = await fs.open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      /* best effort */
    }
  }

  async readFile(path: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.abs(path));
    } catch (e) {
      if (code(e) === 'ENOENT') throw new DfsError('dfs_not_found', `no DFS file ${path}`, e);
      throw new DfsError('dfs_io', `cannot read ${path}: ${(e as Error).message}`, e);
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the deepest folder the prefix names, then filter by the plain prefix.
    const cut = prefix.lastIndexOf('/');
    const base = cut >= 0 ? prefix.slice(0, cut) : '';
    if (base !== '') checkPath(base);
    const start = base === '' ? this.root : join(this.root, ...base.split('/'));
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (code(e) === 'ENOENT') return;
        throw new DfsError('dfs_io', `cannot list ${dir}: ${(e as Error).message}`, e);
      }
      for (const ent of entries) {
        if (ent.name.startsWith('.')) continue;
        const p = join(dir, ent.name);
        if (ent.isDirectory()) await walk(p);
        else if (ent.isFile()) {
          const rel = relative(this.root, p).split(sep).join('/');
          if (rel.startsWith(prefix)) out.push(rel);
        }
      }
    };
    await walk(start);
    return out.sort();
  }

  async remove(path: string): Promise<void> {
    try {
      await fs.unlink(this.abs(path));
    } catch (e) {
      if (code(e) === 'ENOENT') throw new DfsError('dfs_not_found', `no DFS file ${path}`, e);
      throw new DfsError('dfs_io', `cannot remove ${path}: ${(e as Error).message}`, e);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
