// The window job isolates what it cannot use (issue 16 item 1, job side), against the
// machine's PostgreSQL: DFS lines written before ingest checked them are quarantined one
// by one; rows PostgreSQL refuses (a real constraint) are found by bisection and
// quarantined; a window whose job fails on data even row by row is quarantined whole; a
// window marked beyond any accepted event time is quarantined instead of pending forever;
// a window that fails for another reason (DFS I/O) is skipped while the others go on,
// alerted after three passes and resolved once it succeeds. Every case keeps the usage
// of the good samples exactly.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createDatabase, dropDatabase, listAlerts, memoryLogger, migrate, openDatabase, type Knex } from '@tally/common';
import { analyzerMigrations, analyzerStatus, DfsError, DIRTY_TABLE, LocalDfs, markDirty, parseTimestampUs, QUARANTINE_TABLE, rawFilePath, renderMetrics, runInProcess, queryUsage, sortUsage, USAGE_TABLE, WindowProcessor, type UsageRecord } from '../src/index.js';
import { ADMIN, heartbeats, sampleText } from './harness.js';

const DB = `tally_analyzer_q_${process.pid}_${Date.now() % 1e6}`;
const NOW = Date.UTC(2026, 10, 22, 1);
const H = (hh: string): number => parseTimestampUs(`2026-11-21T${hh}:00:00`);
const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) => [r.windowStart.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.vcpus, r.memoryMb].join(' | '));
const good = [...heartbeats('vm-good', 'p1', '2026-11-21T20:00:00', '2026-11-21T22:00:00'), ...heartbeats('vm-other', 'p2', '2026-11-21T20:30:00', '2026-11-21T21:30:00')];

describe('window job quarantine (PostgreSQL)', () => {
  let db: Knex;
  let dir: string;
  let n = 0;
  before(async () => {
    db = openDatabase(await createDatabase(ADMIN, DB), 4);
    await migrate(db, analyzerMigrations);
    dir = await mkdtemp(join(tmpdir(), 'tally-quarantine-'));
  });
  after(async () => {
    await db?.destroy();
    await dropDatabase(ADMIN, DB);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const t of [DIRTY_TABLE, USAGE_TABLE, 'analyzer_lifetimes', QUARANTINE_TABLE, 'alerts']) await db(t).delete();
  });

  /** A fresh DFS holding `lines` in the files of their hours, and those hours marked dirty. */
  async function plant(lines: string[]): Promise<LocalDfs> {
    const dfs = new LocalDfs(join(dir, `case-${++n}`));
    const byHour = new Map<number, string[]>();
    for (const l of lines) {
      const ts = /"timestamp": "([^"]+)"/.exec(l)![1]!;
      const h = Math.floor(parseTimestampUs(ts) / 3_600_000_000) * 3_600_000_000;
      byHour.set(h, [...(byHour.get(h) ?? []), l]);
    }
    let seq = 0;
    for (const [h, ls] of byHour) await dfs.writeFile(rawFilePath(h, 'old-analyzer', ++seq), ls.join('\n') + '\n');
    await markDirty(db, [H('19'), ...byHour.keys(), H('22')]);
    return dfs;
  }
  const processor = (dfs: LocalDfs) => new WindowProcessor({ dfs, db, log: memoryLogger() }, { gapThresholdMs: 630_000, windowIntervalMs: 3_600_000, clock: () => NOW });
  const usage = async (): Promise<string[]> => canon(await queryUsage(db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') }));
  const expected = (lines: string[]): string[] => canon(runInProcess(lines, { gapThresholdUs: 630_000_000 }));
  const quarantined = async (): Promise<{ kind: string; field: string | null; reason: string; occurrences: string; content: string | null; window_start: Date }[]> =>
    db(QUARANTINE_TABLE).select('kind', 'field', 'reason', 'occurrences', 'content', 'window_start').orderBy('id');
  const pending = async (): Promise<number> => Number(((await db(DIRTY_TABLE).count('* as n')) as { n: string }[])[0]!.n);
  const metrics = async (wp: WindowProcessor): Promise<string> => renderMetrics('q', { messages: 0, samples: 0, duplicates: 0, deadLetters: 0, batches: 0, files: 0, batchFailures: 0, badSignatures: 0, lateSamples: 0, newestSampleUs: 0, deadLettersByField: {} }, wp.stats(), await analyzerStatus(db, undefined, 'q'), NOW);

  it('quarantines DFS lines that fail validation, one row each however many windows read them, and computes the rest', async () => {
    const bad = [
      sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '1e999999', resource_id: '"vm-good"', timestamp: '"2026-11-21T20:35:00"' }),
      sampleText({ resource_id: '"vm-bad"', timestamp: '"2026-11-21T20:36:00"', resource_metadata: '{"vcpus": 3000000000}' }),
      sampleText({ resource_id: '"vm\\u0000bad"', timestamp: '"2026-11-21T20:37:00"' }),
      sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '-512.0', resource_id: '"vm-good"', timestamp: '"2026-11-21T20:38:00"' }),
    ];
    const wp = processor(await plant([...good.slice(0, 8), ...bad, ...good.slice(8)]));
    await wp.flushNow();
    assert.equal(wp.stats().failures, 0);
    assert.deepEqual(await usage(), expected(good));
    const q = await quarantined();
    assert.deepEqual(q.map((r) => [r.kind, r.field]), [['sample', 'counter_volume'], ['sample', 'resource_metadata.vcpus'], ['sample', 'resource_id'], ['sample', 'counter_volume']]);
    assert.match(q[0]!.reason, /^counter_volume: exponent out of range/);
    assert.match(q[2]!.content!, /vm\\u0000bad/); // kept as JSON text: PostgreSQL holds it
    // The lines sit in hour 20: the jobs of 19:00, 20:00 and 21:00 each read them.
    assert.deepEqual(q.map((r) => r.occurrences), ['3', '3', '3', '3']);
    assert.equal(wp.stats().quarantinedSamples, 12);
    const text = await metrics(wp);
    assert.match(text, /^tally_analyzer_quarantined_total\{analyzer="q",kind="sample"\} 12$/m);
    assert.match(text, /^tally_analyzer_quarantine_entries\{analyzer="q"\} 4$/m);
    const alerts = await listAlerts(db, { source: 'analyzer' });
    assert.deepEqual(alerts.map((a) => [a.kind, a.key, a.severity, a.details['samples']]), [['input_quarantined', 'analyzer-quarantine:2026-11-21T20:00:00.000Z', 'warning', 4]]);
    assert.equal(alerts[0]!.occurrences, '3');
    assert.equal(await pending(), 0);
  });

  it('quarantines the rows PostgreSQL refuses (found by bisection) and writes the others', async () => {
    const cursed = heartbeats('vm-cursed', 'p3', '2026-11-21T20:10:00', '2026-11-21T20:40:00');
    const wp = processor(await plant([...good, ...cursed]));
    // A storage rule the analyzer does not know of: PostgreSQL refuses vm-cursed's rows (23514).
    await db.raw(`ALTER TABLE ${USAGE_TABLE} ADD CONSTRAINT no_cursed CHECK (resource_id <> 'vm-cursed')`);
    await db.raw(`ALTER TABLE analyzer_lifetimes ADD CONSTRAINT no_cursed_life CHECK (resource_id <> 'vm-cursed')`);
    try {
      await wp.flushNow();
    } finally {
      await db.raw(`ALTER TABLE ${USAGE_TABLE} DROP CONSTRAINT no_cursed`);
      await db.raw(`ALTER TABLE analyzer_lifetimes DROP CONSTRAINT no_cursed_life`);
    }
    assert.equal(wp.stats().failures, 0);
    // Everything of the others, exactly; of vm-cursed nothing (its project's span neither: no lifetime).
    assert.deepEqual(await usage(), expected(good));
    const q = await quarantined();
    assert.ok(q.length > 0 && q.every((r) => r.kind === 'row' && /vm-cursed/.test(r.content ?? '') && /23514/.test(r.reason)), JSON.stringify(q));
    assert.ok(q.some((r) => /"table":"analyzer_lifetimes"/.test(r.content ?? '')) && q.some((r) => /"meter":"instance"/.test(r.content ?? '')));
    assert.equal(wp.stats().quarantinedRows, q.reduce((s, r) => s + Number(r.occurrences), 0));
    assert.ok((await listAlerts(db, { kind: 'input_quarantined' })).some((a) => a.key === 'analyzer-quarantine:2026-11-21T20:00:00.000Z'));
    assert.equal(await pending(), 0);
  });

  it('quarantines a window whose job fails on data even row by row, and goes on with the others', async () => {
    const wp = processor(await plant(good));
    // A stale row of 21:00 whose delete PostgreSQL refuses with a data exception (22023).
    await db(USAGE_TABLE).insert({ window_start: new Date('2026-11-21T21:00:00Z'), window_end: new Date('2026-11-21T22:00:00Z'), resource_id: 'vm-gone', meter: 'instance', unit: 's', quantity: '1', samples: 1 });
    await db.raw(`CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END $$`);
    await db.raw(`CREATE TRIGGER refuse_delete BEFORE DELETE ON ${USAGE_TABLE} FOR EACH ROW WHEN (OLD.resource_id = 'vm-gone') EXECUTE FUNCTION refuse_delete()`);
    try {
      await wp.flushNow();
    } finally {
      await db.raw(`DROP TRIGGER refuse_delete ON ${USAGE_TABLE}`);
      await db.raw('DROP FUNCTION refuse_delete()');
    }
    assert.equal(wp.stats().failures, 0);
    // Twice: the job of 22:00 extends vm-good's lifetime into 21:00 (its own job was rolled back) and marks it again.
    assert.equal(wp.stats().quarantinedWindows, 2);
    const q = await quarantined();
    assert.deepEqual(q.map((r) => [r.kind, r.window_start.toISOString(), r.occurrences]), [['window', '2026-11-21T21:00:00.000Z', '2']]);
    assert.match(q[0]!.reason, /refused \(22023\)/);
    // The other windows are computed as without the fault.
    const others = expected(good).filter((l) => !l.startsWith('2026-11-21T21:00'));
    assert.deepEqual((await usage()).filter((l) => !l.startsWith('2026-11-21T21:00')), others);
    const alert = (await listAlerts(db, { kind: 'window_quarantined' }))[0]!;
    assert.equal(alert.severity, 'critical');
    assert.equal(alert.key, 'analyzer-window-quarantined:2026-11-21T21:00:00.000Z');
    assert.equal(await pending(), 0);
  });

  it('quarantines windows marked beyond any event time ingest accepts, so windows_pending stays truthful', async () => {
    const wp = processor(await plant(good));
    await markDirty(db, [parseTimestampUs('9999-12-31T23:00:00'), parseTimestampUs('2026-11-22T03:00:00')]);
    await wp.flushNow();
    assert.deepEqual((await quarantined()).map((r) => [r.kind, r.window_start.toISOString(), r.field]).sort(), [['window', '2026-11-22T03:00:00.000Z', 'timestamp'], ['window', '9999-12-31T23:00:00.000Z', 'timestamp']]);
    assert.deepEqual(await usage(), expected(good));
    assert.equal(await pending(), 0);
    assert.match(await metrics(wp), /^tally_analyzer_windows_pending\{analyzer="q"\} 0$/m);
  });

  it('skips a window whose DFS reads fail, computes the others, alerts after three passes and resolves once it succeeds', async () => {
    const dfs = await plant(good);
    let broken = true;
    const flaky = Object.assign(Object.create(dfs) as LocalDfs, {
      readFile: async (path: string): Promise<Buffer> => {
        if (broken && path.includes('hour=21')) throw new DfsError('dfs_io', 'datanode unreachable');
        return dfs.readFile(path);
      },
    });
    const wp = new WindowProcessor({ dfs: flaky, db, log: memoryLogger() }, { gapThresholdMs: 630_000, windowIntervalMs: 3_600_000, clock: () => NOW });
    for (let pass = 0; pass < 3; pass++) await wp.flushNow();
    // 20:00, 21:00 and 22:00 read hour 21: they wait; 19:00 is computed.
    assert.equal(wp.stats().failures, 9);
    assert.equal(await pending(), 3);
    assert.deepEqual((await listAlerts(db, { kind: 'window_failing' })).map((a) => a.key).sort(), ['20:00', '21:00', '22:00'].map((h) => `analyzer-window-failing:2026-11-21T${h}:00.000Z`));
    assert.equal((await quarantined()).length, 0); // I/O is not bad data: nothing set aside
    broken = false;
    await wp.flushNow();
    assert.equal(await pending(), 0);
    assert.deepEqual(await usage(), expected(good));
    assert.deepEqual(await listAlerts(db, { kind: 'window_failing' }), []);
  });
});
