/** Alerts on the machine's PostgreSQL: one open alert per key, acknowledge, resolve, reopen. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { acknowledgeAlert, commonMigrations, createDatabase, dropDatabase, listAlerts, migrate, openDatabase, raiseAlert, resolveAlert, type Knex } from '../src/index.js';

const ADMIN = process.env['TALLY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `tally_test_alerts_${process.pid}_${randomBytes(3).toString('hex')}`;
let db: Knex;

before(async () => {
  db = openDatabase(await createDatabase(ADMIN, name), 4);
  // listed twice, as when two workspaces each list the shared tables: applied once
  assert.deepEqual(await migrate(db, [...commonMigrations, ...commonMigrations]), ['20261204000100_alerts']);
});
after(async () => {
  await db.destroy();
  await dropDatabase(ADMIN, name);
});

test('a condition raised again refreshes its one open alert; resolved, it opens a new one', async () => {
  const t0 = new Date('2026-12-04T10:00:00Z');
  const a = await raiseAlert(db, { key: 'component-lost:analyzer:h1', kind: 'component_lost', severity: 'warning', source: 'scheduler', message: 'analyzer h1 lost' }, t0);
  assert.equal(a.created, true);
  const b = await raiseAlert(db, { key: 'component-lost:analyzer:h1', kind: 'component_lost', severity: 'critical', source: 'scheduler', message: 'analyzer h1 still lost', details: { since: '10:00' } }, new Date('2026-12-04T10:05:00Z'));
  assert.deepEqual(b, { id: a.id, created: false });
  const [open] = await listAlerts(db);
  assert.equal(open?.occurrences, '2');
  assert.equal(open?.severity, 'critical');
  assert.equal(open?.message, 'analyzer h1 still lost');
  assert.equal(open?.first_seen_at, t0.toISOString());
  assert.equal(open?.last_seen_at, '2026-12-04T10:05:00.000Z');
  assert.deepEqual(open?.details, { since: '10:00' });

  assert.equal(await resolveAlert(db, 'component-lost:analyzer:h1'), true);
  assert.equal(await resolveAlert(db, 'component-lost:analyzer:h1'), false);
  assert.equal((await listAlerts(db)).length, 0);
  const c = await raiseAlert(db, { key: 'component-lost:analyzer:h1', kind: 'component_lost', severity: 'warning', source: 'scheduler', message: 'lost again' });
  assert.equal(c.created, true);
  assert.notEqual(c.id, a.id);
  assert.equal((await listAlerts(db, { state: 'resolved' })).length, 1);
  assert.equal((await listAlerts(db, { state: 'all' })).length, 2);
});

test('acknowledging keeps the alert open but out of the unacknowledged list; an unknown id is undefined', async () => {
  const { id } = await raiseAlert(db, { key: 'k-ack', kind: 'window_quarantined', severity: 'critical', source: 'analyzer', message: 'm' });
  const acked = await acknowledgeAlert(db, id, 'admin');
  assert.equal(acked?.acknowledged_by, 'admin');
  assert.ok(acked?.acknowledged_at);
  assert.ok((await listAlerts(db, { state: 'open' })).some((x) => x.id === id));
  assert.ok(!(await listAlerts(db, { state: 'unacknowledged' })).some((x) => x.id === id));
  assert.equal(await acknowledgeAlert(db, '999999999', 'admin'), undefined);
  assert.equal(await acknowledgeAlert(db, 'abc', 'admin'), undefined);
});

test('an alert about bad input never fails on that input (NUL characters)', async () => {
  const { created } = await raiseAlert(db, { key: 'bad\u0000key', kind: 'sample_quarantined', severity: 'warning', source: 'analyzer', message: 'resource id "a\u0000b"', details: { resource_id: 'a\u0000b' } });
  assert.equal(created, true);
  const [a] = await listAlerts(db, { kind: 'sample_quarantined' });
  assert.equal(a?.message, 'resource id "a\\u0000b"');
  assert.deepEqual(a?.details, { resource_id: 'a\\u0000b' });
});
