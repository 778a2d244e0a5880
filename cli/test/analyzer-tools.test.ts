// `tally analyzer reprocess` and `tally analyzer status` as an operator runs them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, openDatabase, type Knex } from '@tally/common';
import { LocalDfs, rawFilePath, parseTimestampUs } from '@tally/analyzer';
import { ADMIN_DB_URL, tally } from './helpers.js';

const NAME = `tally_cli_an_${randomBytes(4).toString('hex')}`;
const line = (vm: string, project: string, ts: string, id: string): string =>
  `{"source":"openstack","counter_name":"cpu","counter_type":"cumulative","counter_unit":"ns","counter_volume":9085000000000121,"user_id":"u","project_id":"${project}","resource_id":"${vm}","timestamp":"${ts}","resource_metadata":{"vcpus":1},"message_id":"${id}"}`;

describe('tally analyzer reprocess / status', () => {
  let url: string;
  let db: Knex;
  let dir: string;
  before(async () => {
    url = await createDatabase(ADMIN_DB_URL, NAME);
    db = openDatabase(url, 2);
    dir = mkdtempSync(join(tmpdir(), 'tally-cli-an-'));
    const dfs = new LocalDfs(join(dir, 'dfs'));
    const hour = parseTimestampUs('2026-11-21T20:00:00');
    await dfs.writeFile(rawFilePath(hour, 'x', 1), [
      line('vm-1', 'p1', '2026-11-21T20:00:00', 'a'), line('vm-1', 'p1', '2026-11-21T20:05:00.5', 'b'),
      line('vm-2', 'p2', '2026-11-21T20:10:00', 'c'), line('vm-2', 'p2', '2026-11-21T20:20:00', 'd'), // 600 s: below 630
    ].join('\n') + '\n');
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN_DB_URL, NAME);
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[]): Promise<{ code: number | null; out: string }> => {
    const p = tally(['analyzer', ...args, '--database-url', url, '--dfs-url', `file://${join(dir, 'dfs')}`]);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const rows = async (): Promise<string[]> =>
    ((await db('usage_records').where('meter', 'instance').orderBy('resource_id')) as { resource_id: string; quantity: string }[]).map((r) => `${r.resource_id} ${r.quantity}`);

  it('reruns one project, then the whole range, twice, with the same rows', async () => {
    const one = await run(['reprocess', '--since', '2026-11-21T20:00:00', '--until', '2026-11-21T21:00:00', '--project', 'p2']);
    assert.equal(one.code, 0, one.out);
    assert.match(one.out, /reprocessed 1 windows from 1 DFS files: \d+ usage rows of project p2/);
    assert.deepEqual(await rows(), ['vm-2 600']);
    for (let i = 0; i < 2; i++) {
      const all = await run(['reprocess', '--since', '2026-11-21', '--until', '2026-11-22']);
      assert.equal(all.code, 0, all.out);
      assert.match(all.out, /reprocessed 24 windows/);
    }
    assert.deepEqual(await rows(), ['vm-1 300.5', 'vm-2 600']);
  });

  it('names the bad field', async () => {
    const r = await run(['reprocess', '--since', 'yesterday', '--until', '2026-11-22']);
    assert.equal(r.code, 1);
    assert.match(r.out, /since/);
  });

  it('status prints the shared state', async () => {
    const r = await run(['status']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^usageRows\s+\d+$/m);
    assert.match(r.out, /^vmsSeen\s+2$/m);
    assert.match(r.out, /^queueMessages\s+-$/m);
  });
});
