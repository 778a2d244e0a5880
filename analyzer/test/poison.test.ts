// The analyzer poison test (issue 16, "close the class"): bad samples generated for every
// field the jobs store (a fixed family per field plus seeded random mutants), sent beside
// good samples through ingest, and the same poisons planted straight into the DFS as an
// older analyzer would have written them. Each must be dead-lettered (naming its field)
// or quarantined by the window job, and counted; the usage of the good samples in the same
// and later windows must come out exactly as a run without any poison. A check against
// information_schema keeps the field list complete when a stored column is added.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIRTY_TABLE, LIFETIME_TABLE, markDirty, parseTimestampUs, QUARANTINE_TABLE, queryUsage, rawFilePath, runInProcess, sortUsage, USAGE_TABLE, type UsageRecord } from '../src/index.js';
import { harness, heartbeats, sampleText, type Harness } from './harness.js';

const NOW = Date.UTC(2026, 10, 22, 1);
const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) =>
  [r.windowStart.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.userId, r.flavorName, r.vcpus, r.memoryMb, r.displayName].join(' | '));

/** Seeded PRNG (mulberry32), so a failure names a reproducible case. */
function prng(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
const rnd = prng(16);
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;

/** A poisoned sample: the field it must be refused for, and whether only ingest sees the poison (not stored by any job). */
interface Poison {
  field: string;
  text: string;
  ingestOnly: boolean;
}

// Every stored column and the sample fields it is filled from; a column added without poisons here fails the test.
const COLUMN_SOURCES: Record<string, string[]> = {
  [`${USAGE_TABLE}.window_start`]: ['timestamp'], [`${USAGE_TABLE}.window_end`]: ['timestamp'], [`${USAGE_TABLE}.resource_id`]: ['resource_id'],
  [`${USAGE_TABLE}.meter`]: ['counter_name'], [`${USAGE_TABLE}.unit`]: ['counter_unit'], [`${USAGE_TABLE}.quantity`]: ['counter_volume', 'resource_metadata.vcpus', 'resource_metadata.memory_mb'],
  [`${USAGE_TABLE}.project_id`]: ['project_id'], [`${USAGE_TABLE}.user_id`]: ['user_id'],
  [`${USAGE_TABLE}.flavor_name`]: ['resource_metadata.flavor.name', 'resource_metadata.instance_type', 'resource_metadata.flavor_name'],
  [`${USAGE_TABLE}.vcpus`]: ['resource_metadata.vcpus', 'resource_metadata.flavor.vcpus'], [`${USAGE_TABLE}.memory_mb`]: ['resource_metadata.memory_mb', 'resource_metadata.flavor.ram'],
  [`${USAGE_TABLE}.display_name`]: ['resource_metadata.display_name'], [`${USAGE_TABLE}.samples`]: [], [`${USAGE_TABLE}.updated_at`]: [],
  [`${LIFETIME_TABLE}.resource_id`]: ['resource_id'], [`${LIFETIME_TABLE}.project_id`]: ['project_id'], [`${LIFETIME_TABLE}.first_us`]: ['timestamp'], [`${LIFETIME_TABLE}.last_us`]: ['timestamp'],
  [`${DIRTY_TABLE}.window_start`]: ['timestamp'], [`${DIRTY_TABLE}.marked_at`]: [], [`${DIRTY_TABLE}.processed_at`]: [], [`${DIRTY_TABLE}.mark_seq`]: [], [`${DIRTY_TABLE}.processed_seq`]: [],
};

/** JSON string literals a text column cannot hold (NUL, lone surrogates, too long), with random positions and lengths. */
function badTexts(): string[] {
  const at = rnd(8);
  return [
    `"${'ab'.slice(0, at % 3)}\\u0000${'cd'.slice(0, at % 2)}"`, '"\\u0000"', `"x\\ud800${at}"`, `"\\udc00y"`, '"\\udc00\\ud800"',
    `"${'x'.repeat(256 + rnd(4000))}"`, `"${'é'.repeat(256 + rnd(50))}"`, `"${'😀'.repeat(128)}"`,
  ];
}
const badInts = (): string[] => ['3000000000', '2147483648', String(2147483648 + rnd(1e9)), `${1 + rnd(9)}e${10 + rnd(40)}`, '1e999999', '-1', `-${1 + rnd(1000)}`, '2.5', `${rnd(100)}.${1 + rnd(9)}`, '-0.5'];

/** The fixed family of poisons per field, plus random ones; `base` fields apply to every sample. */
function poisons(): Poison[] {
  const out: Poison[] = [];
  let k = 0;
  const at = (): string => `"2026-11-21T${20 + rnd(3)}:${String(rnd(60)).padStart(2, '0')}:${String(rnd(60)).padStart(2, '0')}.${String(rnd(1e6)).padStart(6, '0')}"`;
  const add = (field: string, over: Record<string, string>, ingestOnly = false): void => {
    const vm = pick(['"vm-a"', '"vm-b"', `"vm-p${k}"`]);
    out.push({ field, ingestOnly, text: sampleText({ resource_id: vm, timestamp: at(), message_id: `"poison-${k++}"`, ...over }) });
  };
  const gauge = { counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '512.0' };
  for (const f of ['resource_id', 'counter_name', 'counter_unit', 'message_id', 'project_id', 'user_id']) {
    for (const t of badTexts()) add(f, { [f]: t });
    for (const t of ['42', '{}', '[]', 'true']) add(f, { [f]: t });
  }
  for (const f of ['resource_id', 'counter_name', 'message_id', 'counter_unit', 'timestamp', 'counter_volume', 'resource_metadata']) add(f, { [f]: '<omit>' });
  for (const f of ['resource_id', 'counter_name', 'message_id', 'timestamp']) add(f, { [f]: '""' });
  const volumes = ['1e999999', '-1e999999', '1e-999999', '1e40', '-512.0', '-1', '1e-19', '"inf"', '"nan"', '"-inf"', '"Infinity"', '"1e309"', 'null', '{}', '[]', 'true', '""', '" "', '"0x10"',
    `-${1 + rnd(1e6)}.${rnd(1000)}`, `${1 + rnd(9)}e${40 + rnd(400)}`, `${1 + rnd(9)}e-${19 + rnd(400)}`, `0.${'1'.repeat(19 + rnd(20))}`, `1e${10000 + rnd(1e6)}`, '1'.repeat(65)];
  for (const v of volumes) add('counter_volume', { ...pick([gauge, {}]), counter_volume: v });
  const timestamps = ['"0001-01-01T00:00:00"', '"1969-12-31T23:59:59"', '"2026-02-30T00:00:00"', '"2026-04-31T12:00:00"', '"2026-13-01T00:00:00"', '"2026-11-21T24:00:00"',
    '"2026-11-21T20:60:00"', '"now"', '12345', 'null', '"+010000-01-01T00:00:00"', '"2026-11-21 20:00:00+25:00"'];
  for (const t of timestamps) add('timestamp', { timestamp: t });
  // Valid but outside the window ingest takes around its clock: only ingest refuses these.
  for (const t of ['"9999-12-31T23:59:59.999999"', `"2026-11-22T01:${10 + rnd(49)}:01"`, `"${2027 + rnd(7000)}-06-01T00:00:00"`, '"2026-10-17T00:59:59"', `"${1970 + rnd(55)}-01-01T00:00:00"`]) add('timestamp', { timestamp: t }, true);
  for (const f of ['vcpus', 'memory_mb']) for (const v of badInts()) add(`resource_metadata.${f}`, { resource_metadata: `{"${f}": ${v}, "display_name": "x"}` });
  for (const [f, key] of [['vcpus', 'vcpus'], ['ram', 'ram']]) for (const v of badInts()) add(`resource_metadata.flavor.${f}`, { resource_metadata: `{"flavor": {"name": "m1.small", "${key}": ${v}}}` });
  for (const t of badTexts()) {
    add('resource_metadata.flavor.name', { resource_metadata: `{"flavor": {"name": ${t}, "vcpus": 1}}` });
    add('resource_metadata.instance_type', { resource_metadata: `{"instance_type": ${t}}` });
    add('resource_metadata.flavor_name', { resource_metadata: `{"flavor_name": ${t}}` });
    add('resource_metadata.display_name', { resource_metadata: `{"display_name": ${t}}` });
  }
  for (const m of ['"a string"', '5', '[]', 'true']) add('resource_metadata', { resource_metadata: m });
  // A NUL where no job stores anything: still refused, so it never reaches the DFS.
  const deep = `{"properties": {"a": [1, {"b": "x\\u0000${rnd(10)}"}]}}`;
  add('resource_metadata.properties.a[1].b', { resource_metadata: deep }, true);
  add('resource_metadata.k\u0000', { resource_metadata: '{"k\\u0000": 1}' }, true);
  add('source', { source: '"open\\u0000stack"' }, true);
  add('message_signature', { message_signature: '"sig\\u0000"' }, true);
  return out;
}

const POISONS = poisons();
const STORED_FIELDS = new Set(Object.values(COLUMN_SOURCES).flat());

// Good data: vm-a (p1) and vm-b (p2), heartbeats 20:00-23:00, memory.usage every 10 minutes and a byte counter.
function goodHour(hh: number): string[] {
  const from = `2026-11-21T${hh}:00:00`;
  const to = `2026-11-21T${hh + 1}:00:00`;
  const out = [...heartbeats('vm-a', 'p1', from, to), ...heartbeats('vm-b', 'p2', from, to, { resource_metadata: '{"vcpus": 4, "memory_mb": 8192, "instance_type": "m1.large", "display_name": "db-01"}' })];
  for (let m = 0; m < 60; m += 10) {
    const ts = `"2026-11-21T${hh}:${String(m).padStart(2, '0')}:00"`;
    out.push(sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: `${256 + m}.5`, resource_id: '"vm-a"', timestamp: ts }));
    out.push(sampleText({ counter_name: '"network.incoming.bytes"', counter_type: '"cumulative"', counter_unit: '"B"', counter_volume: String(18446744073709551616n + BigInt(hh * 100 + m) * 1000n), resource_id: '"vm-b"', project_id: '"p2"', timestamp: ts }));
  }
  return out;
}
const GOOD = [goodHour(20), goodHour(21), goodHour(22)];
const EXPECTED = canon(runInProcess(GOOD.flat(), { gapThresholdUs: 630_000_000 }));

describe('analyzer poison test', () => {
  let h: Harness;
  before(async () => {
    h = await harness('poison', NOW);
  });
  after(async () => h?.close());

  it('covers every stored column with poisons', async () => {
    const cols = (await h.db.raw(`SELECT table_name || '.' || column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN (?, ?, ?)`, [USAGE_TABLE, LIFETIME_TABLE, DIRTY_TABLE])) as { rows: { c: string }[] };
    for (const { c } of cols.rows) assert.ok(c in COLUMN_SOURCES, `stored column ${c} has no entry in COLUMN_SOURCES (add poisons for the fields it is filled from)`);
    for (const f of STORED_FIELDS) assert.ok(POISONS.some((p) => p.field === f), `no poison for stored field ${f}`);
    assert.ok(POISONS.length > 200, String(POISONS.length));
  });

  it('ingest: every poison beside good samples is dead-lettered naming its field and counted; the good usage of that hour and later ones is exact', async () => {
    // Each hour's good samples in messages of 20, each message carrying poisons; every other message in the oslo envelope.
    const byHour = [0, 1, 2].map(() => [] as Poison[]);
    for (const p of POISONS) byHour[rnd(3)]!.push(p);
    let sent = 0;
    for (let hh = 0; hh < 3; hh++) {
      const good = GOOD[hh]!;
      const bad = byHour[hh]!;
      for (let i = 0, j = 0; i < good.length || j < bad.length; i += 20, j += 12) {
        const batch = [...good.slice(i, i + 20), ...bad.slice(j, j + 12).map((p) => p.text)];
        for (let x = batch.length - 1; x > 0; x--) {
          const y = rnd(x + 1);
          [batch[x], batch[y]] = [batch[y]!, batch[x]!];
        }
        await (sent++ % 2 ? h.sendEnvelope(batch) : h.send(batch));
      }
    }
    await h.flush();
    const st = h.analyzer.stats();
    assert.equal(st.windows.failures, 0);
    assert.equal(st.ingest.deadLetters, POISONS.length);
    assert.equal(h.letters.length, POISONS.length);
    // Each dead letter names the field its poison was made for: by message id where the id is intact, by count per field for all.
    const byId = new Map(POISONS.map((p) => [/"message_id": "(poison-\d+)"/.exec(p.text)?.[1], p]));
    const count = (fs: (string | null)[]): [string | null, number][] => [...fs.reduce((m, f) => m.set(f, (m.get(f) ?? 0) + 1), new Map<string | null, number>())].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    for (const l of h.letters) {
      const p = byId.get(l.sample?.['message_id'] as string);
      if (p) assert.equal(l.field, p.field, p.text.slice(0, 300));
      assert.ok(l.reason.startsWith(`${l.field}: `), l.reason.slice(0, 300));
    }
    assert.deepEqual(count(h.letters.map((l) => l.field)), count(POISONS.map((p) => p.field)));
    const metrics = await h.metrics();
    const byField = [...metrics.matchAll(/^tally_analyzer_dead_letters_by_field_total\{analyzer="poison",field="([^"]+)"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[2]), 0);
    assert.equal(byField, POISONS.length);
    assert.match(metrics, new RegExp(`^tally_analyzer_dead_letters_total\\{analyzer="poison"\\} ${POISONS.length}$`, 'm'));
    assert.deepEqual(canon(await queryUsage(h.db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') })), EXPECTED);
    assert.equal(await h.pendingWindows(), 0);
  });

  it('DFS: the same poisons planted by an older analyzer, plus damaged lines, are quarantined one by one and counted; the usage stays exact', async () => {
    const planted = POISONS.filter((p) => !p.ingestOnly);
    const damaged = ['{"truncated": ', '\u00ff\u00fe binary', '[]', '42', 'null', '{"a": 1} trailing'];
    const byFile = new Map<number, { line: string; field: string }[]>();
    for (const p of planted) {
      const ts = /"timestamp": "(2026-11-21T2[012]:[^"]+)"/.exec(p.text)?.[1];
      // Poisons of the timestamp itself go to a random hour's file: the job cannot read their time.
      const hour = parseTimestampUs(`2026-11-21T${ts ? ts.slice(11, 13) : 20 + rnd(3)}:00:00`);
      byFile.set(hour, [...(byFile.get(hour) ?? []), { line: p.text, field: p.field }]);
    }
    for (const d of damaged) byFile.get(parseTimestampUs('2026-11-21T21:00:00'))!.push({ line: d, field: 'line' });
    const expectedAt = new Map<string, string>();
    let seq = 0;
    for (const [hour, lines] of byFile) {
      const path = rawFilePath(hour, 'older-analyzer', ++seq);
      await h.dfs.writeFile(path, lines.map((l) => l.line).join('\n') + '\n');
      lines.forEach((l, i) => expectedAt.set(`${path}:${i + 1}`, l.field));
    }
    // What the older analyzer marked: the hours of the files, and one window of a sample from 9999.
    await markDirty(h.db, [...byFile.keys(), parseTimestampUs('9999-12-31T23:00:00')]);
    await h.flush();
    const st = h.analyzer.stats();
    assert.equal(st.windows.failures, 0);
    const rows = (await h.db(QUARANTINE_TABLE).select('kind', 'path', 'line', 'field', 'reason')) as { kind: string; path: string | null; line: number | null; field: string | null; reason: string }[];
    const samples = rows.filter((r) => r.kind === 'sample');
    assert.equal(samples.length, expectedAt.size);
    for (const r of samples) {
      const want = expectedAt.get(`${r.path}:${r.line}`);
      assert.equal(r.field?.replace(/\\u0000/g, '\u0000'), want, `${r.path}:${r.line} ${r.reason}`);
    }
    assert.deepEqual(rows.filter((r) => r.kind === 'window').map((r) => r.field), ['timestamp']);
    assert.equal(rows.filter((r) => r.kind === 'row').length, 0);
    // Each planted line is read by the jobs of its hour and of the two around it.
    assert.ok(st.windows.quarantinedSamples >= expectedAt.size, String(st.windows.quarantinedSamples));
    const metrics = await h.metrics();
    assert.match(metrics, new RegExp(`^tally_analyzer_quarantined_total\\{analyzer="poison",kind="sample"\\} ${st.windows.quarantinedSamples}$`, 'm'));
    assert.match(metrics, new RegExp(`^tally_analyzer_quarantine_entries\\{analyzer="poison"\\} ${expectedAt.size + 1}$`, 'm'));
    assert.deepEqual(canon(await queryUsage(h.db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') })), EXPECTED);
    assert.equal(await h.pendingWindows(), 0);
  });

  it('later good samples are still turned into usage after all of it', async () => {
    const later = heartbeats('vm-c', 'p3', '2026-11-21T23:00:00', '2026-11-22T00:30:00');
    await h.send(later);
    await h.flush();
    const rows = (await queryUsage(h.db, { from: new Date('2026-11-21T23:00:00Z'), to: new Date('2026-11-22T01:00:00Z') })).filter((r) => r.resourceId === 'vm-c' && r.meter === 'instance');
    assert.deepEqual(rows.map((r) => [r.windowStart.toISOString(), r.quantity]), [['2026-11-21T23:00:00.000Z', '3600'], ['2026-11-22T00:00:00.000Z', '1500']]);
    assert.equal(h.analyzer.stats().windows.failures, 0);
  });
});
