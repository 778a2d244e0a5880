import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUsageRow, splitRows, type UsageRow } from './usage.js';

const row = (o: Partial<UsageRow> = {}): UsageRow => ({
  window_start: new Date('2026-11-01T00:00:00Z'), window_end: new Date('2026-11-01T01:00:00Z'), resource_id: 'vm', meter: 'instance', unit: 's',
  quantity: '3600', project_id: 'p', flavor_name: 'm1.small', vcpus: 1, memory_mb: 512, display_name: null, ...o,
});

test('a stored usage row is rated only when it can be: each reason named', () => {
  const cases: [Partial<UsageRow>, RegExp | null][] = [
    [{}, null],
    [{ quantity: '0' }, null],
    [{ quantity: '999999999999999999.123456789' }, null],
    [{ quantity: '-307200.000000' }, /quantity -307200.000000 is negative/],
    [{ quantity: '1000000000000000000' }, /not a decimal below 10\^18/],
    [{ quantity: 'NaN' }, /quantity NaN/],
    [{ quantity: 'Infinity' }, /quantity Infinity/],
    [{ window_end: new Date('2026-11-01T00:00:00Z') }, /window_end is not after window_start/],
    [{ vcpus: -4 }, /vcpus -4 is negative/],
    [{ memory_mb: -1 }, /memory_mb -1 is negative/],
    [{ vcpus: null, memory_mb: null }, null],
  ];
  for (const [o, want] of cases) {
    const got = checkUsageRow(row(o));
    if (want === null) assert.equal(got, null, JSON.stringify(o));
    else assert.match(got ?? '', want, JSON.stringify(o));
  }
});

test('splitRows sets the invalid rows apart and keeps the order of the others', () => {
  const { usage, invalid } = splitRows([row({ resource_id: 'a' }), row({ resource_id: 'b', quantity: '-1' }), row({ resource_id: 'c' })]);
  assert.deepEqual(usage.map((u) => u.resourceId), ['a', 'c']);
  assert.deepEqual(invalid, [{ project_id: 'p', resource_id: 'b', meter: 'instance', window_start: '2026-11-01T00:00:00.000Z', reason: 'quantity -1 is negative' }]);
});
