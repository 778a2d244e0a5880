/**
 * OpenStack tier: Tally's panels in Debian's real Horizon, driven by Debian's
 * Chromium through playwright-core. Users log in through Horizon's own login
 * form against the real Keystone (scripts/openstack/keystone.sh); Horizon finds
 * billing-api in the service catalog (type `billing`) and the plugin's proxy
 * calls it with the user's token. billing-api (`tally api --auth-strategy
 * keystone`) runs on the catalog's port with usage rows written for two projects.
 * Screenshots of each main view go to test-output/horizon/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDatabase, dropDatabase, openDatabase } from '@tally/common';
import { DEFAULT_POLICY_TEXT } from '@tally/billing-api';
import { replaceWindowUsage, type UsageRecord } from '@tally/analyzer';
import { ADMIN_DB_URL, ROOT, tally, type Proc } from '../test/helpers.js';

const KEYSTONE_ENV = process.env['TALLY_OS_KEYSTONE_ENV'];
const HORIZON_URL = process.env['TALLY_OS_HORIZON_URL'];
if (!KEYSTONE_ENV || !HORIZON_URL) throw new Error('run through `npm run test:openstack`, which starts Keystone and Horizon');
const ks = Object.fromEntries(
  readFileSync(KEYSTONE_ENV, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
) as Record<string, string>;
const DEMO = ks['DEMO_PROJECT_ID'] ?? '';
const OTHER = ks['OTHER_PROJECT_ID'] ?? '';
const billingPort = new URL(ks['BILLING_URL'] ?? 'http://127.0.0.1:8889').port;
const SHOTS = join(ROOT, 'test-output', 'horizon');
const WEB = 'd0000000-0000-4000-8000-00000000000a';

/** One hour of usage: the current hour, so it is month to date whatever the date. */
function usage(projectId: string, resourceId: string, flavor: string, vcpus: number, seconds: string, name: string): UsageRecord {
  const start = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  return {
    windowStart: start, windowEnd: new Date(start.getTime() + 3_600_000), resourceId, meter: 'instance', unit: 's', quantity: seconds,
    samples: 12, projectId, userId: 'u'.repeat(32), flavorName: flavor, vcpus, memoryMb: 512, displayName: name,
  };
}

async function login(browser: Browser, user: string, password: string, next: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(`${HORIZON_URL}/auth/login/?next=${encodeURIComponent(next)}`);
  await page.fill('#id_username', user);
  await page.fill('#id_password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/auth/login')), page.click('button[type="submit"]')]);
  return page;
}

/** A call from the logged-in page, as the bundle makes it (session cookie and CSRF token only, no Keystone token). */
async function ajax(page: Page, path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> {
  return page.evaluate(async ([p, m, b]) => {
    const csrf = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    const headers: Record<string, string> = { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRFToken': csrf };
    const res = await fetch(p, { method: m, headers, ...(b === undefined ? {} : { body: JSON.stringify(b) }) });
    return { status: res.status, body: await res.text() };
  }, [path, method, body] as const);
}

/** billing-api's refusal (JSON, code forbidden), not Django's CSRF page. */
function assertForbidden(res: { status: number; body: string }, rule: string): void {
  assert.equal(res.status, 403, res.body);
  const err = (JSON.parse(res.body) as { error: { code: string; message: string } }).error;
  assert.equal(err.code, 'forbidden');
  assert.match(err.message, new RegExp(rule));
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `horizon-${name}.png`), fullPage: true });
}

test('Tally panels in the real Horizon: member, reader and admin log in through the login form', { timeout: 240_000 }, async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  t.after(() => browser.close());
  const dbName = `tally_hz_${randomBytes(4).toString('hex')}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const procs: Proc[] = [];
  t.after(async () => {
    for (const p of procs) await p.stop();
    await dropDatabase(ADMIN_DB_URL, dbName);
  });

  const startApi = async (): Promise<void> => {
    const api = tally(['api', '--database-url', dbUrl, '--port', billingPort, '--auth-strategy', 'keystone',
      '--keystone-url', ks['KEYSTONE_URL'] ?? '', '--keystone-user', 'billing', '--keystone-password', 'billing-pass']);
    procs.push(api);
    await api.waitFor(/billing API on http/, 30_000);
  };
  await startApi();
  const db = openDatabase(dbUrl, 1);
  try {
    // demo: m1.small for 1 h (0.0200) + m1.tiny for 30 min (0.0050) = 0.0250 EUR; other: m1.large 1 h = 0.0800 EUR.
    const rows = [
      usage(DEMO, 'd0000000-0000-4000-8000-00000000000a', 'm1.small', 1, '3600', 'demo-web'),
      usage(DEMO, 'd0000000-0000-4000-8000-00000000000b', 'm1.tiny', 1, '1800', 'demo-db'),
      usage(OTHER, 'e0000000-0000-4000-8000-00000000000c', 'm1.large', 4, '3600', 'other-secret-vm'),
    ];
    await replaceWindowUsage(db, rows[0]!.windowStart, rows);
    // Last month (for the policy simulation): other's m1.large for 1 h, the month's last hour.
    const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
    const lastMonth = { ...usage(OTHER, 'e0000000-0000-4000-8000-00000000000c', 'm1.large', 4, '3600', 'other-secret-vm'), windowStart: new Date(monthStart.getTime() - 3_600_000), windowEnd: monthStart };
    await replaceWindowUsage(db, lastMonth.windowStart, [lastMonth]);
  } finally {
    await db.destroy();
  }

  await t.test('member: Project > Billing shows the own project only, with the right total', async () => {
    const page = await login(browser, 'demo-member', 'demo-pass', '/project/billing/');
    assert.equal(new URL(page.url()).pathname, '/project/billing/');
    await page.waitForSelector('#tally-detail .total');
    assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0250 EUR');
    const text = await page.textContent('#tally-root') ?? '';
    assert.match(await page.textContent('#tally-detail h2') ?? '', new RegExp(`^Project demo \\(${DEMO}\\)$`));
    // Every line says how it was rated; the flavor breakdown adds up.
    assert.match(text, /1\.000000 h of running time \(meter instance\) × 0\.0200 EUR\/h, the price of flavor m1\.small in policy default v0 = 0\.020000 EUR/);
    assert.deepEqual(await page.locator('#tally-by-flavor tbody tr').allTextContents(), ['m1.small11.00 h0.020000 EUR', 'm1.tiny10.50 h0.005000 EUR']);
    // A forecast once the month is an hour old (30-day or 31-day month: month to date × days ÷ elapsed).
    const monthStart = new Date(); monthStart.setUTCDate(1); monthStart.setUTCHours(0, 0, 0, 0);
    assert.equal(await page.locator('#tally-detail .forecast').count(), Date.now() - monthStart.getTime() >= 3_600_000 ? 1 : 0);
    assert.match(text, /demo-web/);
    assert.match(text, /demo-db/);
    assert.doesNotMatch(text, new RegExp(`${OTHER}|other-secret-vm|0\\.0800`));
    assert.equal(await page.isVisible('#tally-projects'), false, 'a member sees no list of projects');
    await page.waitForSelector('#tally-chart-box:not([hidden]) canvas');
    await shot(page, 'project');
    // The proxy sends the member's own token: billing-api refuses another project and lists only this one.
    assertForbidden(await ajax(page, `/api/tally/v1/projects/${OTHER}/charges`), 'billing:charges:get');
    const list = await ajax(page, '/api/tally/v1/projects');
    assert.equal(list.status, 200, list.body);
    assert.deepEqual((JSON.parse(list.body) as { projects: { project_id: string }[] }).projects.map((p) => p.project_id), [DEMO]);
    // The quote calculator: 2 × m1.small × 10 h at 0.0200 EUR/h under the live (default) policy.
    await page.fill('#tally-quote-hours', '10 h');
    await page.click('#tally-quote-go');
    assert.match(await page.textContent('#tally-quote-result') ?? '', /^hours: a positive number/);
    await page.fill('#tally-quote-count', '2');
    await page.fill('#tally-quote-hours', '10');
    await page.click('#tally-quote-go');
    await page.waitForSelector('#tally-quote-total, #tally-quote-result .error');
    assert.match(await page.textContent('#tally-quote-result') ?? '', /^Quote: 0\.4000 EUR \(valid until \d{4}-/);
    assert.match(await page.textContent('#tally-quote-result') ?? '', /m1\.small: 0\.400000 EUR over 20 priced hour\(s\), each 1 h × 0\.02 \(COST_PER_HOUR\); rule line \d+: EVENT = "VM Assignment", RESOURCE_TYPE = "m1\.small"/);
    await shot(page, 'project-quote');
    // Billing modes: the member switches demo-web to dynamic; billing-api stores it.
    await page.waitForSelector('#tally-modes-table');
    const web = page.locator(`#tally-modes-table tr[data-resource="${WEB}"]`);
    assert.equal(await web.locator('.tally-mode-select').inputValue(), 'on-demand');
    await web.locator('.tally-mode-select').selectOption('dynamic');
    await web.locator('.tally-mode-save').click();
    await page.waitForSelector('#tally-modes-status:has-text("Saved")');
    assert.equal(await page.textContent('#tally-modes-status'), `Saved: ${WEB} is billed dynamic.`);
    assert.equal(await page.isVisible('#tally-modes-error'), false);
    const modes = JSON.parse((await ajax(page, `/api/tally/v1/projects/${DEMO}/billing-modes`)).body) as { resources: { resource_id: string; mode: string; updated_by: string }[] };
    assert.deepEqual(modes.resources.map((r) => [r.resource_id, r.mode]), [[WEB, 'dynamic'], ['d0000000-0000-4000-8000-00000000000b', 'on-demand']]);
    // Dynamic with no factor rule and no pool: still the on-demand price, and the by-resource table says the mode.
    await page.waitForSelector(`#tally-by-resource tbody tr:has-text("demo-web") td:has-text("dynamic")`);
    assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0250 EUR');
    await page.locator('#tally-modes').screenshot({ path: join(SHOTS, 'horizon-project-modes.png') });
    // Not another project's resources.
    assertForbidden(await ajax(page, `/api/tally/v1/projects/${OTHER}/resources/e0000000-0000-4000-8000-00000000000c/billing-mode`, 'PUT', { mode: 'dynamic' }), 'billing:modes:write');
    // The Admin dashboard is not offered to a member.
    assert.equal(await page.locator('a[href="/admin/billing/"]').count(), 0);
    await page.close();
  });

  await t.test('reader: sees the project\'s charges, read-only', async () => {
    const page = await login(browser, 'demo-reader', 'reader-pass', '/project/billing/');
    await page.waitForSelector('#tally-detail .total');
    assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0250 EUR');
    assert.equal(await page.locator('#tally-policies select, #tally-policies textarea, #tally-policies button').count(), 0, 'no policy editor');
    assert.equal(await page.isVisible('#tally-policies'), false);
    // Neither through the page nor around it: the proxy carries the reader's token and billing-api refuses.
    assertForbidden(await ajax(page, '/api/tally/v1/pricing-policies', 'POST', { name: 'sneaky', source: 'EVENT = "VM Assignment", COST_PER_HOUR = 0 (EUR)' }), 'billing:policies:write');
    // The reader sees the modes but cannot change one: the refusal is shown, and the mode stays.
    await page.waitForSelector('#tally-modes-table');
    const web = page.locator(`#tally-modes-table tr[data-resource="${WEB}"]`);
    assert.equal(await web.locator('.tally-mode-select').inputValue(), 'dynamic');
    await web.locator('.tally-mode-select').selectOption('on-demand');
    await web.locator('.tally-mode-save').click();
    await page.waitForSelector('#tally-modes-error:not([hidden])');
    assert.match(await page.textContent('#tally-modes-error') ?? '', /Not allowed.*billing:modes:write/s);
    await page.waitForFunction((id) => (document.querySelector(`#tally-modes-table tr[data-resource="${id}"] .tally-mode-select`) as HTMLSelectElement | null)?.value === 'dynamic', WEB);
    await page.locator('#tally-modes').screenshot({ path: join(SHOTS, 'horizon-project-modes-reader.png') });
    assertForbidden(await ajax(page, `/api/tally/v1/projects/${DEMO}/resources/${WEB}/billing-mode`, 'PUT', { mode: 'on-demand' }), 'billing:modes:write');
    const modes = JSON.parse((await ajax(page, `/api/tally/v1/projects/${DEMO}/billing-modes`)).body) as { resources: { resource_id: string; mode: string }[] };
    assert.equal(modes.resources.find((r) => r.resource_id === WEB)?.mode, 'dynamic');
    await page.goto(`${HORIZON_URL}/admin/billing/`);
    assert.equal(await page.locator('#tally-root').count(), 0, 'no Admin > Billing for a reader');
    await page.close();
  });

  await t.test('admin: Admin > Billing lists every project; one click shows its charges', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/billing/');
    assert.equal(new URL(page.url()).pathname, '/admin/billing/');
    await page.waitForSelector('#tally-projects table');
    const rows = await page.locator('#tally-projects tbody tr').allTextContents();
    assert.equal(rows.length, 2);
    // Highest total first.
    assert.match(rows[0]!, new RegExp(`${OTHER}.*0\\.0800 EUR`));
    assert.match(rows[1]!, new RegExp(`${DEMO}.*0\\.0250 EUR`));
    await page.click(`#tally-projects tbody tr:has-text("${OTHER}")`);
    await page.waitForSelector('#tally-detail .total');
    assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0800 EUR');
    await page.waitForSelector('#tally-chart-box:not([hidden]) canvas');
    await shot(page, 'admin');
    await page.close();
  });

  await t.test('admin: Admin > Billing charts a pool\'s free capacity and the dynamic factor over time', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/billing/');
    await page.waitForSelector('#tally-pools');
    // Four samples over the last two hours (within this month), and a policy with the default prices plus a
    // dynamic factor of 1 when the pool is full, 0.5 when it is empty, in force from the first sample on.
    const now = Date.now();
    const from = Math.max(now - 2 * 3_600_000, Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1));
    const at = (k: number) => new Date(from + Math.floor((k * (now - from)) / 5)).toISOString();
    const source = `${DEFAULT_POLICY_TEXT}EVENT = "VM Assignment", BILLING_MODE = "dynamic", DYNAMIC_FACTOR = CURVE(0: 1, 1: 0.5)\n`;
    const pub = await ajax(page, '/api/tally/v1/pricing-policies', 'POST', { name: 'dynamic-pools', source, effective_from: new Date(from).toISOString() });
    assert.equal(pub.status, 201, pub.body);
    const samples = [['0.9', 1], ['0.5', 2], ['0.1', 3], ['0.6', 4]] as const;
    const feed = await ajax(page, '/api/tally/v1/pools/gpu-pool/capacity', 'POST', { samples: samples.map(([free, k]) => ({ at: at(k), free })) });
    assert.equal(feed.status, 201, feed.body);
    await page.reload();
    await page.waitForSelector('#tally-pools-table');
    const row = await page.locator('#tally-pools-table tbody tr').allTextContents();
    assert.deepEqual(row, [`gpu-pool00.60.7${at(4).slice(5, 10)} ${at(4).slice(11, 16)}admin feed`]);
    const pools = JSON.parse((await ajax(page, '/api/tally/v1/pools')).body) as { pools: { series: { free: string; dynamic_factor: string }[] }[] };
    assert.deepEqual(pools.pools[0]!.series.map((x) => [x.free, x.dynamic_factor]), [['0.9', '0.55'], ['0.5', '0.75'], ['0.1', '0.95'], ['0.6', '0.7']]);
    await page.waitForSelector('#tally-pools-chart-box:not([hidden]) canvas');
    await page.locator('#tally-pools').screenshot({ path: join(SHOTS, 'horizon-admin-pools.png') });
    // Only an admin feeds capacity.
    const member = await login(browser, 'demo-member', 'demo-pass', '/project/billing/');
    assertForbidden(await ajax(member, '/api/tally/v1/pools/gpu-pool/capacity', 'POST', { free: '0.5' }), 'billing:pools:write');
    await member.close();
    await page.close();
  });

  await t.test('admin: edits a pricing policy with live validation, simulates it against last month, publishes it', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/billing/');
    await page.waitForSelector('#tally-policy-source');
    await page.waitForFunction(() => (document.querySelector('#tally-policy-name') as HTMLSelectElement | null)?.value !== undefined && document.querySelectorAll('#tally-policy-name option').length > 0);
    await page.selectOption('#tally-policy-name', { label: 'New policy…' });
    await page.fill('#tally-policy-new-name', 'standard');
    await page.fill('#tally-policy-source', 'EVENT = "VM Assignment", COST_PER_HOUR =');
    await page.waitForSelector('#tally-policy-status.invalid');
    assert.match(await page.textContent('#tally-policy-status') ?? '', /Not valid: 1:\d+: /);
    assert.equal(await page.isDisabled('#tally-policy-publish'), true);
    // The default list with m1.large at 0.1600 instead of 0.0800.
    const draft = ['tiny 0.0100', 'small 0.0200', 'medium 0.0400', 'large 0.1600', 'xlarge 0.1600']
      .map((x) => x.split(' ')).map(([f, p]) => `EVENT = "VM Assignment", RESOURCE_TYPE = "m1.${f}", COST_PER_HOUR = ${p} (EUR), ACTIVATION_GROUP = "price list"`)
      .concat('EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0200 (EUR), ACTIVATION_GROUP = "price list"').join('\n');
    await page.fill('#tally-policy-source', draft);
    await page.waitForSelector('#tally-policy-status.valid');
    await page.click('#tally-policy-simulate');
    await page.waitForSelector('#tally-policy-simulation');
    const rows = await page.locator('#tally-policy-simulation tbody tr').allTextContents();
    assert.deepEqual(rows, [`${OTHER}0.0800 EUR0.1600 EUR+0.08 EUR`, 'total0.0800 EUR0.1600 EUR+0.08 EUR']);
    await page.locator('#tally-policies').screenshot({ path: join(SHOTS, 'horizon-admin-policy.png') });
    await page.click('#tally-policy-publish');
    await page.waitForSelector('#tally-policy-published');
    assert.match(await page.textContent('#tally-policy-published') ?? '', /^Published standard v1, effective from \d{4}-/);
    assert.equal(await page.inputValue('#tally-policy-name'), 'standard');
    assert.match((await page.locator('#tally-policy-versions tbody tr').allTextContents()).join('|'), /^v1\d{4}-/);
    // Stored, as billing-api says.
    const stored = JSON.parse((await ajax(page, '/api/tally/v1/pricing-policies/standard')).body) as { versions: { version: number; source: string }[] };
    assert.deepEqual(stored.versions.map((v) => [v.version, v.source]), [[1, draft]]);
    await page.close();
  });

  await t.test('admin: an account\'s billing run, invoice and CSV', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/billing/');
    await page.waitForSelector('#tally-accounts-list');
    const created = await ajax(page, '/api/tally/v1/accounts', 'POST', { id: 'acme', name: 'ACME', currency: 'EUR', scheme: 'postpaid', projects: [OTHER] });
    assert.equal(created.status, 201, created.body);
    await page.reload();
    await page.waitForSelector('#tally-accounts-table tbody tr, #tally-accounts-error:not([hidden])');
    assert.equal(await page.isVisible('#tally-accounts-error'), false, await page.textContent('#tally-accounts-error') ?? '');
    // Last month by default: other's m1.large hour at the default 0.0800 EUR/h.
    await page.click('#tally-run-go');
    await page.waitForFunction(() => /^Run /.test(document.querySelector('#tally-run-result')?.textContent ?? '') || !document.querySelector('#tally-accounts-error')?.hasAttribute('hidden'));
    assert.match(await page.textContent('#tally-run-result') ?? '', /1 account\(s\), 1 invoice\(s\) created, 0 already there/, await page.textContent('#tally-accounts-error') ?? '');
    await page.click('#tally-accounts-table tbody tr:has-text("acme")');
    await page.waitForSelector('#tally-invoices tbody tr');
    // Postpaid with a draft invoice: nothing is booked in the ledger yet.
    assert.deepEqual(await page.locator('#tally-balance tbody td').allTextContents(), ['0.0000 EUR', '0.0000 EUR', '0.0000 EUR', 'none']);
    assert.match((await page.locator('#tally-invoices tbody tr').allTextContents())[0] ?? '', /draft0\.0800 EUR$/);
    await page.click('#tally-invoices tbody tr');
    await page.waitForSelector('#tally-invoice-lines');
    assert.match(await page.textContent('#tally-invoice-detail h3') ?? '', /: 0\.0800 EUR$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tally-invoice-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /0\.08/);
    await page.locator('#tally-accounts').screenshot({ path: join(SHOTS, 'horizon-admin-accounts.png') });
    // Finalizing books the postpaid invoice as a receivable; voiding reverses it.
    await page.click('#tally-invoice-finalize');
    await page.waitForSelector('#tally-invoice-detail h3:has-text("(finalized)")');
    assert.deepEqual(await page.locator('#tally-balance tbody td').allTextContents(), ['0.0000 EUR', '0.0800 EUR', '-0.0800 EUR', 'none']);
    assert.equal(await page.locator('#tally-invoice-finalize').count(), 0);
    await page.click('#tally-invoice-void');
    await page.waitForSelector('#tally-invoice-detail h3:has-text("(void)")');
    assert.deepEqual(await page.locator('#tally-balance tbody td').allTextContents(), ['0.0000 EUR', '0.0000 EUR', '0.0000 EUR', 'none']);
    await page.close();
  });

  await t.test("member: Project > Billing lists the own project's invoice with its lines and CSV, and no other project's", async () => {
    // Last month: demo's m1.small for 1 h (0.0200 EUR at the default price), in an hour of its own.
    const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
    const lastMonthStart = new Date(Date.UTC(monthStart.getUTCFullYear(), monthStart.getUTCMonth() - 1, 1));
    const row = { ...usage(DEMO, 'd0000000-0000-4000-8000-00000000000d', 'm1.small', 1, '3600', 'demo-old'), windowStart: new Date(monthStart.getTime() - 2 * 3_600_000), windowEnd: new Date(monthStart.getTime() - 3_600_000) };
    const db = openDatabase(dbUrl, 1);
    try {
      await replaceWindowUsage(db, row.windowStart, [row]);
    } finally {
      await db.destroy();
    }
    const admin = await login(browser, 'admin', 'admin-pass', '/admin/billing/');
    const created = await ajax(admin, '/api/tally/v1/accounts', 'POST', { id: 'demo-acct', name: 'Demo Ltd', currency: 'EUR', scheme: 'postpaid', projects: [DEMO] });
    assert.equal(created.status, 201, created.body);
    const run = await ajax(admin, '/api/tally/v1/billing-runs', 'POST', { start: lastMonthStart.toISOString(), end: monthStart.toISOString(), accounts: ['demo-acct'] });
    assert.equal(run.status, 201, run.body);
    const acme = JSON.parse((await ajax(admin, '/api/tally/v1/accounts/acme/invoices')).body) as { invoices: { id: string }[] };
    await admin.close();

    const page = await login(browser, 'demo-member', 'demo-pass', '/project/billing/');
    await page.waitForSelector('#tally-pinv-table tbody tr, #tally-pinv-error:not([hidden])');
    assert.equal(await page.isVisible('#tally-pinv-error'), false, await page.textContent('#tally-pinv-error') ?? '');
    assert.equal(await page.textContent('#tally-pinv-account'), 'Paid by account Demo Ltd (demo-acct), postpaid; available balance 0.0000 EUR.');
    const rows = await page.locator('#tally-pinv-table tbody tr').allTextContents();
    assert.equal(rows.length, 1);
    const last = new Date(monthStart.getTime() - 1).toISOString().slice(0, 10);
    assert.match(rows[0]!, new RegExp(`^inv[^ ]*${lastMonthStart.toISOString().slice(0, 10)} – ${last}draft0\\.0200 EUR$`));
    await page.click('#tally-pinv-table tbody tr');
    await page.waitForSelector('#tally-pinv-lines');
    assert.match(await page.textContent('#tally-pinv-title') ?? '', /\(draft\): 0\.0200 EUR$/);
    const lines = await page.locator('#tally-pinv-lines tbody tr').allTextContents();
    assert.ok(lines.length >= 1 && lines.every((l) => !/other-secret-vm|e0000000/.test(l)), lines.join('|'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tally-pinv-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /"total","0\.02","EUR"\r\n$/);
    assert.doesNotMatch(csv, new RegExp(OTHER));
    await page.locator('#tally-invoices').screenshot({ path: join(SHOTS, 'horizon-project-invoices.png') });
    // Not another project's invoices, neither through its path nor by the invoice's id.
    assertForbidden(await ajax(page, `/api/tally/v1/projects/${OTHER}/invoices`), 'billing:project_invoices:get');
    assertForbidden(await ajax(page, `/api/tally/v1/invoices/${acme.invoices[0]!.id}`), 'billing:invoices:get');
    assertForbidden(await ajax(page, `/api/tally/v1/projects/${OTHER}/account`), 'billing:project_account:get');
    await page.close();
  });

  await t.test('billing-api down: the member sees the error and what to do, never a zero bill', async () => {
    const page = await login(browser, 'demo-member', 'demo-pass', '/project/billing/');
    await page.waitForSelector('#tally-detail .total');
    await procs.pop()!.stop();
    await page.waitForSelector('#tally-error:not([hidden])', { timeout: 15_000 });
    assert.match(await page.textContent('#tally-error') ?? '', /Horizon cannot reach the billing API.*operator/s);
    assert.equal(await page.isVisible('#tally-content'), false, 'amounts are hidden while the error shows');
    await shot(page, 'error');
    // It recovers by itself once billing-api is back.
    await startApi();
    await page.waitForSelector('#tally-error', { state: 'hidden', timeout: 15_000 });
    assert.equal(await page.textContent('#tally-detail .total'), 'Month to date: 0.0250 EUR');
    await page.close();
  });
});
