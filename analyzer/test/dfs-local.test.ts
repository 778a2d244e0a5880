import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dfsConformance } from '../src/dfs/conformance.js';
import { LocalDfs, openDfs } from '../src/dfs/index.js';

dfsConformance('local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tally-dfs-'));
  return { dfs: new LocalDfs(join(dir, 'root')), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('openDfs', () => {
  it('picks the local adapter by file:// URL, defaulting under the data dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-dfs-'));
    try {
      const byUrl = openDfs(`file://${dir}/a%20b`, '/unused');
      assert.equal(byUrl.description, `file://${dir}/a b`);
      await byUrl.writeFile('x/y.jsonl', 'z');
      assert.deepEqual(await readdir(join(dir, 'a b', 'x')), ['y.jsonl']);
      const byDefault = openDfs('', dir);
      assert.equal(byDefault.description, `file://${dir}/dfs`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails at start-up on an unknown scheme or a relative data dir', () => {
    assert.throws(() => openDfs('s3://bucket/tally', '/d'), /unsupported scheme s3/);
    assert.throws(() => openDfs('', 'relative/dir'), /absolute/);
    assert.throws(() => openDfs('file://otherhost/x', '/d'), /local path/);
  });
});
