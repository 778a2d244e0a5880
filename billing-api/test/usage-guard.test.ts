/**
 * The report of invalid stored usage: one alert per project, raised again only when
 * what is invalid changes (reads do not write), and counters of distinct records.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { listAlerts, memoryLogger } from '@tally/common';
import { UsageGuard, type InvalidUsage } from '../src/usage-guard.js';
import { freshDatabase, type TestDb } from './helpers.js';

let t: TestDb;
before(async () => {
  t = await freshDatabase('guard');
});
after(async () => t?.drop());

const rec = (resource: string, project = 'p'): InvalidUsage => ({ project_id: project, resource_id: resource, meter: 'memory.usage', window_start: '2026-11-01T00:00:00.000Z', reason: 'quantity -1 is negative' });

test('one alert per project, refreshed only when its invalid records change; counters count distinct records', async () => {
  const log = memoryLogger();
  const g = new UsageGuard(t.db, log);
  await g.report([rec('a')]);
  await g.report([rec('a')]);
  let alerts = await listAlerts(t.db, { kind: 'usage_record_invalid' });
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.key, 'usage-records-invalid:p');
  assert.equal(alerts[0]!.occurrences, '1', 'the same records again write nothing');
  await g.report([rec('a'), rec('b'), rec('c', 'q')]);
  alerts = await listAlerts(t.db, { kind: 'usage_record_invalid' });
  assert.deepEqual(alerts.map((a) => [a.key, a.occurrences, a.details['count']]).sort(), [['usage-records-invalid:p', '2', 2], ['usage-records-invalid:q', '1', 1]]);
  assert.deepEqual([g.distinct, g.skipped], [3, 5]);
  assert.equal(log.lines.filter((l) => l.msg === 'usage record left out of rating').length, 3, 'each record logged once');
});

test('without a database (inside a transaction) it only logs and counts', async () => {
  const g = new UsageGuard(null, memoryLogger());
  await g.report([rec('x', 'z')]);
  assert.equal(g.distinct, 1);
  assert.equal((await listAlerts(t.db, { kind: 'usage_record_invalid' })).some((a) => a.key.endsWith(':z')), false);
});
