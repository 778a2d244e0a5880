// Issue 16's analyzer defects, one regression test each (each fails on 64081a8): a sample
// that passed ingest and then made every window job fail (1e999999, vCPUs 3e9, a NUL in
// resource_id), a negative gauge stored as negative usage, and a sample from 9999 that
// kept windows pending forever with the processing lag at 0. Each is sent beside good
// samples; the good usage of the same and the next window must be produced exactly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runInProcess, sortUsage, queryUsage, type UsageRecord } from '../src/index.js';
import { harness, heartbeats, sampleText, usageLines, type Harness } from './harness.js';

const canon = (rs: UsageRecord[]): string[] => sortUsage(rs).map((r) =>
  [r.windowStart.toISOString(), r.resourceId, r.meter, r.unit, r.quantity, r.samples, r.projectId, r.flavorName, r.vcpus, r.memoryMb, r.displayName].join(' | '));

// vm-good: heartbeats 20:00-21:55 and memory.usage every 10 minutes; hour 20 in one message, hour 21 in the next.
const good20 = [...heartbeats('vm-good', 'p1', '2026-11-21T20:00:00', '2026-11-21T21:00:00'),
  ...[0, 10, 20, 30, 40, 50].map((m) => sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '512.0', resource_id: '"vm-good"', timestamp: `"2026-11-21T20:${String(m).padStart(2, '0')}:00"` }))];
const good21 = [...heartbeats('vm-good', 'p1', '2026-11-21T21:00:00', '2026-11-21T22:00:00'),
  ...[0, 10, 20, 30, 40, 50].map((m) => sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '512.0', resource_id: '"vm-good"', timestamp: `"2026-11-21T21:${String(m).padStart(2, '0')}:00"` }))];
const expected = canon(runInProcess([...good20, ...good21], { gapThresholdUs: 630_000_000 }));

describe('hostile samples never stop usage (issue 16 regressions)', () => {
  const cases: [string, string, string][] = [
    ['a memory.usage volume of 1e999999 ("value overflows numeric format")', sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '1e999999', resource_id: '"vm-good"', timestamp: '"2026-11-21T20:35:00"' }), 'counter_volume'],
    ['a cpu sample with resource_metadata.vcpus 3000000000 ("out of range for type integer")', sampleText({ resource_id: '"vm-bad"', timestamp: '"2026-11-21T20:35:00"', resource_metadata: '{"vcpus": 3000000000}' }), 'resource_metadata.vcpus'],
    ['a resource_id holding \\u0000 ("invalid byte sequence 0x00")', sampleText({ resource_id: '"vm\\u0000bad"', timestamp: '"2026-11-21T20:35:00"' }), 'resource_id'],
    ['a negative gauge (memory.usage -512.0, stored as negative usage before)', sampleText({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_unit: '"MB"', counter_volume: '-512.0', resource_id: '"vm-good"', timestamp: '"2026-11-21T20:35:00"' }), 'counter_volume'],
    ['a sample stamped 9999-12-31T23:59:59.999999 (kept windows pending forever)', sampleText({ resource_id: '"vm-future"', timestamp: '"9999-12-31T23:59:59.999999"' }), 'timestamp'],
  ];
  for (const [what, bad, field] of cases) {
    it(`${what}: dead-lettered naming ${field}, counted; the other usage of that window and the next is produced`, async () => {
      const h = await harness('hostile', Date.UTC(2026, 10, 22, 1));
      try {
        await h.send([...good20.slice(0, 5), bad, ...good20.slice(5)]);
        await h.send(good21);
        await h.flush();
        assert.equal(h.analyzer.stats().windows.failures, 0, h.log.lines.filter((l) => l.level === 'error').map((l) => JSON.stringify(l)).join('\n'));
        assert.equal(h.letters.length, 1);
        assert.equal(h.letters[0]!.field, field);
        assert.match(h.letters[0]!.reason, new RegExp(`^${field.replace(/\./g, '\\.')}: `));
        assert.equal(h.letters[0]!.index, 5);
        assert.equal(h.analyzer.stats().ingest.deadLetters, 1);
        assert.match(await h.metrics(), new RegExp(`^tally_analyzer_dead_letters_by_field_total\\{analyzer="hostile",field="${field}"\\} 1$`, 'm'));
        assert.deepEqual(canon(await queryUsage(h.db, { from: new Date('2026-11-21T00:00:00Z'), to: new Date('2026-11-23T00:00:00Z') })), expected);
        const lines = await usageLines(h.db);
        assert.ok(lines.includes('11-21T20:00 vm-good instance 3600') && lines.includes('11-21T21:00 vm-good instance 3300'), lines.join('\n'));
        assert.ok(lines.includes('11-21T20:00 vm-good memory.usage 1843200'), lines.join('\n')); // 512 MB x 3600 s
        // Nothing left pending: every window is closed at this clock and was computed.
        assert.equal(await h.pendingWindows(), 0);
        // The lag is the clock minus the newest good sample (21:55), not 0.
        assert.match(await h.metrics(), /^tally_analyzer_processing_lag_seconds\{analyzer="hostile"\} 11100$/m);
      } finally {
        await h.close();
      }
    });
  }
});

describe('event time window around the clock (issue 16 item 11)', () => {
  let h: Harness;
  before(async () => {
    h = await harness('evtime', Date.UTC(2026, 10, 21, 21, 0));
  });
  after(async () => h?.close());

  it('takes a sample up to sample-max-future ahead (counted as stamped now for the lag), refuses beyond it and older than sample-max-age', async () => {
    await h.send([
      sampleText({ timestamp: '"2026-11-21T20:55:00"' }),
      sampleText({ timestamp: '"2026-11-21T21:09:59"' }), // 9 m 59 s ahead: clock skew, taken
      sampleText({ timestamp: '"2026-11-21T21:10:00.000001"' }), // beyond 10 minutes
      sampleText({ timestamp: '"2026-10-17T20:59:59"' }), // 35 days and a second before
      sampleText({ timestamp: '"2026-10-17T21:00:01"' }), // just inside 35 days
    ]);
    assert.deepEqual(h.letters.map((l) => [l.index, l.field]), [[2, 'timestamp'], [3, 'timestamp']]);
    assert.match(h.letters[0]!.reason, /sample-max-future/);
    assert.match(h.letters[1]!.reason, /sample-max-age/);
    assert.equal(h.analyzer.stats().ingest.samples, 3);
    assert.match(await h.metrics(), /^tally_analyzer_processing_lag_seconds\{analyzer="evtime"\} 0$/m);
    h.now += 120_000;
    // Two minutes later with nothing newer: the lag says two minutes, not 0 because of the fast clock.
    assert.match(await h.metrics(), /^tally_analyzer_processing_lag_seconds\{analyzer="evtime"\} 120$/m);
  });

  it('sample-max-age 0 takes any age (replaying an archive); the future bound still holds', async () => {
    const r = await harness('evtime0', Date.UTC(2026, 10, 21, 21, 0), { sampleMaxAge: 0 });
    try {
      await r.send([sampleText({ timestamp: '"2001-01-01T00:00:00"' }), sampleText({ timestamp: '"2026-11-21T22:00:00"' })]);
      assert.deepEqual(r.letters.map((l) => [l.index, l.field]), [[1, 'timestamp']]);
    } finally {
      await r.close();
    }
  });
});
