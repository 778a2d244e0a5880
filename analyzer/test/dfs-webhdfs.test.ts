// The WebHDFS adapter against the in-repo WebHDFS test server (not a real HDFS; see README).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dfsConformance } from '../src/dfs/conformance.js';
import { DfsError, openDfs, parseWebHdfsUrl, WebHdfsClient, WebHdfsDfs, WebHdfsTestServer } from '../src/dfs/index.js';

dfsConformance('WebHDFS (test server)', async () => {
  const server = await new WebHdfsTestServer().start();
  return { dfs: new WebHdfsDfs({ namenode: server.namenodeUrl, base: '/tally', user: 'tally' }), cleanup: () => server.stop() };
});

async function withServer(opts: ConstructorParameters<typeof WebHdfsTestServer>[0], body: (s: WebHdfsTestServer) => Promise<void>): Promise<void> {
  const s = await new WebHdfsTestServer(opts).start();
  try {
    await body(s);
  } finally {
    await s.stop();
  }
}

const isCode = (code: string) => (e: unknown): boolean => e instanceof DfsError && e.code === code;

describe('WebHDFS client', () => {
  it('parses webhdfs://, hdfs:// and swebhdfs:// URLs with user.name and delegation', () => {
    assert.deepEqual(parseWebHdfsUrl('webhdfs://nn.example:9870/tally/raw?user.name=tally'), { namenode: 'http://nn.example:9870', base: '/tally/raw', user: 'tally' });
    assert.deepEqual(parseWebHdfsUrl('hdfs://nn/?delegation=abc'), { namenode: 'http://nn:9870', base: '', delegation: 'abc' });
    assert.equal(parseWebHdfsUrl('swebhdfs://nn:9871/x').namenode, 'https://nn:9871');
    assert.ok(openDfs('webhdfs://nn:9870/tally?user.name=u', '/d') instanceof WebHdfsDfs);
    assert.equal(openDfs('hdfs://nn:9870/tally', '/d').description, 'webhdfs://nn:9870/tally');
  });

  it('CREATE, APPEND and OPEN go through the namenode redirect to the datanode, as user.name', () =>
    withServer({ requireUser: true }, async (s) => {
      const c = new WebHdfsClient({ namenode: s.namenodeUrl, base: '', user: 'alice' });
      await c.create('/a/f.txt', Buffer.from('one\n'));
      await c.append('/a/f.txt', Buffer.from('two\n'));
      assert.equal((await c.open('/a/f.txt')).toString(), 'one\ntwo\n');
      assert.deepEqual(s.log, [
        'namenode PUT CREATE /a/f.txt alice', 'datanode PUT CREATE /a/f.txt alice',
        'namenode POST APPEND /a/f.txt alice', 'datanode POST APPEND /a/f.txt alice',
        'namenode GET OPEN /a/f.txt alice', 'datanode GET OPEN /a/f.txt alice',
      ]);
      await assert.rejects(c.create('/a/f.txt', Buffer.from('x')), isCode('dfs_exists'));
      await assert.rejects(c.append('/a/none', Buffer.from('x')), isCode('dfs_not_found'));
      assert.equal(await c.rename('/a/f.txt', '/a/g.txt'), true);
      assert.equal(await c.rename('/a/f.txt', '/a/h.txt'), false);
      assert.deepEqual((await c.listStatus('/a')).map((e) => [e.pathSuffix, e.type]), [['g.txt', 'FILE']]);
      assert.equal(await c.delete('/a/g.txt'), true);
      assert.equal(await c.delete('/a/g.txt'), false);
    }));

  it('sends a delegation token instead of user.name, and maps RemoteExceptions', () =>
    withServer({ tokens: { 'tok-1': 'bob' }, requireUser: true }, async (s) => {
      const c = new WebHdfsClient({ namenode: s.namenodeUrl, base: '', delegation: 'tok-1', user: 'ignored' });
      assert.equal(await c.mkdirs('/d'), true);
      assert.deepEqual(s.log, ['namenode PUT MKDIRS /d bob']);
      const bad = new WebHdfsClient({ namenode: s.namenodeUrl, base: '', delegation: 'expired' });
      await assert.rejects(bad.mkdirs('/e'), (e: unknown) => isCode('dfs_io')(e) && /SecurityException: .*token/.test((e as Error).message));
      const anonymous = new WebHdfsClient({ namenode: s.namenodeUrl, base: '' });
      await assert.rejects(anonymous.listStatus('/'), /SecurityException: Authentication required/);
      await assert.rejects(c.open('/nothing'), (e: unknown) => isCode('dfs_not_found')(e) && /FileNotFoundException: File does not exist: \/nothing/.test((e as Error).message));
    }));

  it('faults: a failed write leaves no visible file and is transient; a retry succeeds', () =>
    withServer({}, async (s) => {
      const dfs = new WebHdfsDfs({ namenode: s.namenodeUrl, base: '/t', user: 'tally' });
      for (const f of [{ at: 'datanode', kind: 'reset' }, { at: 'datanode', kind: 'status500' }, { at: 'namenode', kind: 'status500' }] as const) {
        s.inject({ op: 'CREATE', times: 1, ...f });
        await assert.rejects(dfs.writeFile('raw/x.jsonl', 'data'), (e: unknown) => isCode('dfs_io')(e) && (e as DfsError).transient);
        assert.deepEqual(await dfs.list('raw/'), [], `${f.at} ${f.kind}`);
      }
      s.inject({ op: 'RENAME', at: 'namenode', kind: 'reset', times: 1 });
      await assert.rejects(dfs.writeFile('raw/x.jsonl', 'data'), isCode('dfs_io'));
      assert.deepEqual(await dfs.list('raw/'), []);
      assert.deepEqual([...s.files.keys()].filter((p) => p.includes('.tmp-')), [], 'temporary files are cleaned up');
      await dfs.writeFile('raw/x.jsonl', 'data');
      s.inject({ op: 'OPEN', at: 'datanode', kind: 'reset', times: 1 });
      await assert.rejects(dfs.readFile('raw/x.jsonl'), isCode('dfs_io'));
      assert.equal((await dfs.readFile('raw/x.jsonl')).toString(), 'data');
    }));
});
