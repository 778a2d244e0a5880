/**
 * The same UI bundle the Horizon plugin ships, served standalone by billing-api
 * (`tally api`, as in embedded mode) at `/`, driven by Debian's Chromium: the
 * bundle must work against both base URLs. Runs in the OpenStack tier because
 * scripts/openstack/horizon.sh installs Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { createDatabase, dropDatabase, openDatabase } from '@tally/common';
import { replaceWindowUsage } from '@tally/analyzer';
import { ADMIN_DB_URL, ROOT, freePort, tally, type Proc } from '../test/helpers.js';

test('the UI bundle served by billing-api itself: every project, one project\'s charges, the policy editor', { timeout: 120_000 }, async (t) => {
  const shots = join(ROOT, 'test-output', 'horizon');
  mkdirSync(shots, { recursive: true });
  const dbName = `tally_ui_${randomBytes(4).toString('hex')}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const procs: Proc[] = [];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  t.after(async () => {
    await browser.close();
    for (const p of procs) await p.stop();
    await dropDatabase(ADMIN_DB_URL, dbName);
  });
  const port = await freePort();
  const api = tally(['api', '--database-url', dbUrl, '--port', String(port)]);
  procs.push(api);
  await api.waitFor(/billing API on http/, 30_000);
  const db = openDatabase(dbUrl, 1);
  try {
    const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const base = { windowStart: start, windowEnd: new Date(start.getTime() + 3_600_000), meter: 'instance' as const, unit: 's' as const, samples: 12, userId: null, vcpus: 1, memoryMb: 512 };
    await replaceWindowUsage(db, start, [
      { ...base, resourceId: 'f0000000-0000-4000-8000-000000000001', projectId: 'proj-a', flavorName: 'm1.medium', quantity: '3600', displayName: 'a-web' },
      { ...base, resourceId: 'f0000000-0000-4000-8000-000000000002', projectId: 'proj-b', flavorName: 'm1.tiny', quantity: '900', displayName: 'b-job' },
    ]);
  } finally {
    await db.destroy();
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('#tally-projects tbody tr');
  assert.deepEqual(await page.locator('#tally-projects tbody tr').allTextContents(), ['proj-a10.0400 EUR', 'proj-b10.0025 EUR']);
  await page.click('#tally-projects tbody tr:has-text("proj-b")');
  await page.waitForSelector('#tally-detail .total');
  assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0025 EUR');
  assert.equal(new URL(page.url()).searchParams.get('project'), 'proj-b');
  // The managers' tools load from the same origin too (noauth here: billing-api's own banner says so).
  await page.waitForSelector('#tally-policy-source');
  await page.screenshot({ path: join(shots, 'standalone.png'), fullPage: true });
  await page.close();
});
