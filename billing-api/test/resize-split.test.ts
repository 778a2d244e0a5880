/**
 * A resize at 10:20 (the analyzer splits the hour at Nova's resize instant): the
 * hour's two rows are priced at their own flavors, exactly, in month to date and
 * on the invoice path alike.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';
import { rateProjects } from '../src/invoices/rate-account.js';
import { freshDatabase, type TestDb } from './helpers.js';

let t: TestDb;
let api: RunningApi;

before(async () => {
  t = await freshDatabase('resize');
  const row = (start: string, end: string, seconds: string, flavor: string, vcpus: number, memory: number) => ({
    window_start: new Date(start), window_end: new Date(end), resource_id: 'vm-1', meter: 'instance', unit: 's', quantity: seconds,
    project_id: 'p1', user_id: 'u1', flavor_name: flavor, vcpus, memory_mb: memory, display_name: 'web', samples: 4,
  });
  await t.db('usage_records').insert([
    row('2026-11-05T10:00:00Z', '2026-11-05T10:20:00Z', '1200', 'm1.small', 1, 2048),
    row('2026-11-05T10:20:00Z', '2026-11-05T11:00:00Z', '2400', 'm1.medium', 2, 4096),
  ]);
  api = await startApi({ db: t.db, log: memoryLogger(), clock: () => new Date('2026-11-21T10:30:00Z'), auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await api?.close();
  await t?.drop();
});

test('20 minutes at m1.small (0.02/h) and 40 at m1.medium (0.04/h): 0.006667 + 0.026667', async () => {
  const res = await fetch(`${api.url}/v1/projects/p1/charges`);
  const body = (await res.json()) as { total: string; resources: { flavor: string; hours: string; amount: string }[] };
  assert.equal(res.status, 200);
  assert.deepEqual(body.resources.map((r) => [r.flavor, r.hours, r.amount]).sort(), [['m1.medium', '0.666667', '0.026667'], ['m1.small', '0.333333', '0.006667']]);
  assert.equal(body.total, '0.0333');
  const rated = await rateProjects(t.db, ['p1'], { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') });
  assert.deepEqual(rated.lines.filter((l) => l.kind === 'usage').map((l) => [l.start.toISOString(), l.end.toISOString(), l.resourceType, l.amount.toFixed()]), [
    ['2026-11-05T10:00:00.000Z', '2026-11-05T10:20:00.000Z', 'm1.small', '0.006667'],
    ['2026-11-05T10:20:00.000Z', '2026-11-05T11:00:00.000Z', 'm1.medium', '0.026667'],
  ]);
});
