import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSimulation, groupByName, parseSimulation, parseValidation, parseVersions, type PolicyVersionView } from './policies-data.js';
import { ApiError } from './shape.js';

const v = (name: string, version: number): PolicyVersionView => ({ id: version, name, version, effective_from: '2026-11-01T00:00:00.000Z', created_by: 'u', created_at: '2026-11-01T00:00:00.000Z', source: `# ${name} v${version}` });

test('parseVersions accepts both list shapes and refuses a malformed version', () => {
  assert.equal(parseVersions({ policies: [v('a', 1)] }).length, 1);
  assert.equal(parseVersions({ name: 'a', versions: [v('a', 2), v('a', 1)] }).length, 2);
  assert.throws(() => parseVersions({ policies: [{ ...v('a', 1), version: '1' }] }), (e: unknown) => e instanceof ApiError && e.code === 'bad_response');
  assert.throws(() => parseVersions({}), ApiError);
});

test('parseValidation and parseSimulation check what the editor reads', () => {
  assert.deepEqual(parseValidation({ valid: true, issues: [] }), { valid: true, issues: [] });
  assert.throws(() => parseValidation({ valid: 'yes', issues: [] }), ApiError);
  const sim = { period: { start: 's', end: 'e' }, usage_records: 3, live: { currency: 'EUR', total: '1.5', projects: { p: '1.5' } }, draft: { currency: 'EUR', total: '2', projects: { p: '2' } } };
  assert.equal(parseSimulation(sim).usage_records, 3);
  assert.throws(() => parseSimulation({ ...sim, draft: { ...sim.draft, total: 2 } }), ApiError);
  assert.throws(() => parseSimulation({ ...sim, live: { ...sim.live, projects: { p: 1.5 } } }), ApiError);
});

test('groupByName: names sorted, versions newest first', () => {
  const g = groupByName([v('b', 1), v('a', 1), v('a', 3), v('a', 2)]);
  assert.deepEqual([...g.keys()], ['a', 'b']);
  assert.deepEqual(g.get('a')?.map((x) => x.version), [3, 2, 1]);
});

test('compareSimulation: per project and total, exact differences, missing sides are 0', () => {
  const rows = compareSimulation({
    period: { start: 's', end: 'e' }, usage_records: 2,
    live: { currency: 'EUR', total: '0.1000', projects: { a: '0.1000' } },
    draft: { currency: 'EUR', total: '0.3000', projects: { a: '0.1000', b: '0.2000' } },
  });
  assert.deepEqual(rows, [
    { project: 'a', live: '0.1000', draft: '0.1000', change: '0' },
    { project: 'b', live: '0', draft: '0.2000', change: '+0.2' },
    { project: 'total', live: '0.1000', draft: '0.3000', change: '+0.2' },
  ]);
  assert.equal(compareSimulation({ period: { start: 's', end: 'e' }, usage_records: 0, live: { currency: 'EUR', total: '0.3', projects: {} }, draft: { currency: 'EUR', total: '0.1', projects: {} } })[0]?.change, '-0.2');
});
