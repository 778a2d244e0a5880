/**
 * The DFS conformance suite: every adapter (local directory, WebHDFS)
 * must pass it. Call it from a test file with a factory for a fresh, empty DFS.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DfsError, type Dfs } from './types.js';

export interface DfsFixture {
  dfs: Dfs;
  /** Remove everything the fixture created. */
  cleanup(): Promise<void>;
}

async function withDfs(factory: () => Promise<DfsFixture>, body: (dfs: Dfs) => Promise<void>): Promise<void> {
  const fx = await factory();
  try {
    await body(fx.dfs);
  } finally {
    await fx.dfs.close();
    await fx.cleanup();
  }
}

function isDfsError(code: string): (e: unknown) => boolean {
  return (e) => e instanceof DfsError && e.code === code;
}

/** Register the conformance tests for one adapter under `describe(name)`. */
export function dfsConformance(name: string, factory: () => Promise<DfsFixture>): void {
  void describe(`DFS conformance: ${name}`, () => {
    void it('reads back exactly what was written (bytes and text)', () =>
      withDfs(factory, async (dfs) => {
        const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
        await dfs.writeFile('a/b/bin.dat', bytes);
        await dfs.writeFile('a/text.jsonl', '{"v":9085000000000121}\n{"n":"Сервер ☃"}\n');
        assert.deepEqual(await dfs.readFile('a/b/bin.dat'), bytes);
        assert.equal((await dfs.readFile('a/text.jsonl')).toString('utf8'), '{"v":9085000000000121}\n{"n":"Сервер ☃"}\n');
      }));

    void it('never overwrites a closed file', () =>
      withDfs(factory, async (dfs) => {
        await dfs.writeFile('x/one', 'first');
        await assert.rejects(dfs.writeFile('x/one', 'second'), isDfsError('dfs_exists'));
        assert.equal((await dfs.readFile('x/one')).toString(), 'first');
        assert.deepEqual(await dfs.list('x/'), ['x/one']);
      }));

    void it('lists by plain prefix, recursively and sorted, without temporary files', () =>
      withDfs(factory, async (dfs) => {
        for (const p of ['raw/dt=2026-11-21/hour=20/b-2.jsonl', 'raw/dt=2026-11-21/hour=20/a-1.jsonl', 'raw/dt=2026-11-21/hour=21/a-3.jsonl', 'raw/dt=2026-11-22/hour=00/a-4.jsonl', 'other/z']) {
          await dfs.writeFile(p, p);
        }
        assert.deepEqual(await dfs.list('raw/dt=2026-11-21/hour=20/'), ['raw/dt=2026-11-21/hour=20/a-1.jsonl', 'raw/dt=2026-11-21/hour=20/b-2.jsonl']);
        assert.deepEqual(await dfs.list('raw/dt=2026-11-21/'), ['raw/dt=2026-11-21/hour=20/a-1.jsonl', 'raw/dt=2026-11-21/hour=20/b-2.jsonl', 'raw/dt=2026-11-21/hour=21/a-3.jsonl']);
        assert.deepEqual(await dfs.list('raw/dt=2026-11-2'), [
          'raw/dt=2026-11-21/hour=20/a-1.jsonl', 'raw/dt=2026-11-21/hour=20/b-2.jsonl', 'raw/dt=2026-11-21/hour=21/a-3.jsonl', 'raw/dt=2026-11-22/hour=00/a-4.jsonl',
        ]);
        assert.equal((await dfs.list('')).length, 5);
        assert.deepEqual(await dfs.list('nothing/here/'), []);
      }));

    void it('concurrent writers of distinct files all succeed; of one path exactly one wins', () =>
      withDfs(factory, async (dfs) => {
        await Promise.all(Array.from({ length: 20 }, (_, i) => dfs.writeFile(`c/f-${String(i).padStart(2, '0')}`, String(i))));
        assert.equal((await dfs.list('c/')).length, 20);
        const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => dfs.writeFile('d/same', `w${i}`)));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.ok(results.filter((r) => r.status === 'rejected').every((r) => isDfsError('dfs_exists')(r.reason)));
        assert.match((await dfs.readFile('d/same')).toString(), /^w[0-4]$/);
        assert.deepEqual(await dfs.list('d/'), ['d/same']);
      }));

    void it('removes files; missing files are reported as not found', () =>
      withDfs(factory, async (dfs) => {
        await dfs.writeFile('r/gone', 'x');
        await dfs.remove('r/gone');
        assert.deepEqual(await dfs.list('r/'), []);
        await assert.rejects(dfs.readFile('r/gone'), isDfsError('dfs_not_found'));
        await assert.rejects(dfs.remove('r/gone'), isDfsError('dfs_not_found'));
        // A removed path may be written again (retention deletes, a rebuild rewrites).
        await dfs.writeFile('r/gone', 'y');
        assert.equal((await dfs.readFile('r/gone')).toString(), 'y');
      }));

    void it('rejects paths that escape or are malformed', () =>
      withDfs(factory, async (dfs) => {
        for (const bad of ['', '/abs', 'a//b', '../up', 'a/../b', 'a/./b', 'a/.hidden', 'trailing/']) {
          await assert.rejects(dfs.writeFile(bad, 'x'), isDfsError('dfs_bad_path'), bad);
        }
      }));
  });
}
