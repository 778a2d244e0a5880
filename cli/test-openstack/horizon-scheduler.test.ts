/**
 * OpenStack tier: Admin > Billing > Scheduler in Debian's real Horizon, driven by Debian's
 * Chromium (playwright-core). The admin logs in through Horizon's form against the real
 * Keystone; billing-api (`tally api --auth-strategy keystone`) runs on the catalog's port
 * over a database where a scheduler round has run: two registered analyzers (one added by
 * the scheduler), its decision, and an open alert. The admin sees the cluster, the members
 * with their load and the decision log, acknowledges the alert, sees an invalid policy
 * refused naming the field and stores a valid one; a member is refused.
 * Screenshot: test-output/horizon/horizon-admin-scheduler.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDatabase, dropDatabase, migrate, openDatabase, raiseAlert, type ComponentHeartbeat } from '@tally/common';
import { appendAction, logDecision, recordHeartbeat, decide, parseScalingPolicy, listMembers } from '@tally/scheduler';
import { ALL_MIGRATIONS } from '@tally/cli';
import { ADMIN_DB_URL, ROOT, tally, type Proc } from '../test/helpers.js';

const KEYSTONE_ENV = process.env['TALLY_OS_KEYSTONE_ENV'];
const HORIZON_URL = process.env['TALLY_OS_HORIZON_URL'];
if (!KEYSTONE_ENV || !HORIZON_URL) throw new Error('run through `npm run test:openstack`, which starts Keystone and Horizon');
const ks = Object.fromEntries(
  readFileSync(KEYSTONE_ENV, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
) as Record<string, string>;
const billingPort = new URL(ks['BILLING_URL'] ?? 'http://127.0.0.1:8889').port;
const SHOTS = join(ROOT, 'test-output', 'horizon');

async function login(browser: Browser, user: string, password: string, next: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(`${HORIZON_URL}/auth/login/?next=${encodeURIComponent(next)}`);
  await page.fill('#id_username', user);
  await page.fill('#id_password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/auth/login')), page.click('button[type="submit"]')]);
  return page;
}

async function ajax(page: Page, path: string): Promise<{ status: number; body: string }> {
  return page.evaluate(async (p) => {
    const res = await fetch(p, { headers: { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' } });
    return { status: res.status, body: await res.text() };
  }, path);
}

const beat = (id: string, cpu: number): ComponentHeartbeat => ({
  id, role: 'analyzer', cluster: 'analyzer', node: `node-${id}`, version: '0.1.0', endpoints: {}, state: 'running', startedAt: new Date(Date.now() - 600_000).toISOString(),
  at: new Date().toISOString(), metrics: { ack_rate: 12.5, lag_seconds: 3 },
  load: { cpuPercent: cpu, memoryPercent: 41.5, memoryTotalBytes: 8e9, diskReadBytesPerS: 0, diskWriteBytesPerS: 2048, netInBytesPerS: 1_250_000, netOutBytesPerS: 5000, processCpuPercent: 55, processRssBytes: 2e8, cpus: 2 },
});

test('Admin > Billing > Scheduler in the real Horizon: clusters, members with load, decisions, alerts, the policy editor', { timeout: 180_000 }, async (t) => {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  t.after(() => browser.close());
  const dbName = `tally_hz_sched_${randomBytes(4).toString('hex')}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const procs: Proc[] = [];
  t.after(async () => {
    for (const p of procs) await p.stop();
    await dropDatabase(ADMIN_DB_URL, dbName);
  });
  const db = openDatabase(dbUrl, 2);
  let alertId = '';
  try {
    await migrate(db, ALL_MIGRATIONS);
    // What a round leaves behind: analyzer-1 added by the scheduler (a member), an operator's analyzer, the decision and an alert.
    const now = new Date();
    await db('scheduler_members').insert({ cluster: 'analyzer', name: 'analyzer-1', driver: 'nova', ref: 'b1e0c0de-0000-4000-8000-000000000001', state: 'running', action_id: 'analyzer:out:1', created_at: now, changed_at: now });
    await appendAction(db, { actionId: 'analyzer:out:1', cluster: 'analyzer', kind: 'create', member: 'analyzer-1', step: 'started', actor: 'scheduler:test', reason: 'queue depth 18,000 > 5,000 per replica for 5 min' }, now);
    await recordHeartbeat(db, beat('analyzer-1', 73.2));
    await recordHeartbeat(db, beat('ops-analyzer', 12));
    const policy = parseScalingPolicy('max_size: 3\nscale_out:\n  when_any: ["avg queue_depth_per_replica > 5000 over 5m"]\n');
    const d = decide({ series: [{ at: now.getTime() - 300_000, values: { queue_depth_per_replica: 18000 } }, { at: now.getTime(), values: { queue_depth_per_replica: 18000 } }],
      policy, members: [{ name: 'ops-analyzer', state: 'running', startedAt: 0, managed: false }], lastAction: undefined, now: now.getTime() });
    assert.equal(d.action, 'out');
    await logDecision(db, 'analyzer', d, 'default v0', now, 'analyzer:out:1');
    alertId = (await raiseAlert(db, { key: 'cluster-at-max:analyzer', kind: 'cluster_at_max', severity: 'warning', source: 'scheduler', message: 'cluster analyzer is at its max size and still over threshold' })).id;
    assert.equal((await listMembers(db, 'analyzer')).length, 1);
  } finally {
    await db.destroy();
  }
  const api = tally(['api', '--database-url', dbUrl, '--port', billingPort, '--auth-strategy', 'keystone',
    '--keystone-url', ks['KEYSTONE_URL'] ?? '', '--keystone-user', 'billing', '--keystone-password', 'billing-pass']);
  procs.push(api);
  await api.waitFor(/billing API on http/, 30_000);

  await t.test('admin: the cluster, its members with load and the decision log', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/scheduler/');
    assert.equal(new URL(page.url()).pathname, '/admin/scheduler/');
    await page.waitForSelector('#tally-sched-clusters tbody tr');
    const cluster = await page.locator('#tally-sched-clusters tbody tr').allTextContents();
    assert.deepEqual(cluster.length, 1);
    assert.match(cluster[0]!, /^analyzerdefault v02 \(1–3\)—added analyzer-1 at \d\d:\d\d: queue depth 18,000 > 5,000 per replica for 5 min$/);
    const members = await page.locator('#tally-sched-members tbody tr').allTextContents();
    assert.deepEqual(members.map((m) => m.replace(/\d\d:\d\d$/, 'HH:MM')), [
      'analyzeranalyzer-1runningnova b1e0c0de-0000-4000-8000-000000000001node-analyzer-173.2 %41.5 %55.0 %1.3 MB/s / 5.0 kB/sHH:MM',
      'analyzerops-analyzerrunningnot created by the schedulernode-ops-analyzer12.0 %41.5 %55.0 %1.3 MB/s / 5.0 kB/sHH:MM',
    ]);
    assert.match(await page.textContent('#tally-sched-decisions') ?? '', /^analyzer: added analyzer-1 at \d\d:\d\d: queue depth 18,000 > 5,000 per replica for 5 min$/);
    // Every registered part: the two analyzers, and this billing-api, which registers itself.
    const parts = (await page.locator('#tally-sched-components tbody tr td:first-child').allTextContents()).sort();
    assert.deepEqual(parts.map((p) => p.replace(/^billing-api:.*$/, 'billing-api')), ['analyzer-1', 'billing-api', 'ops-analyzer']);
    // The charges page's sections stay hidden here.
    assert.equal(await page.isVisible('#tally-projects'), false);
    await page.locator('#tally-scheduler').screenshot({ path: join(SHOTS, 'horizon-admin-scheduler.png') });
    await page.close();
  });

  await t.test('admin: acknowledges the open alert', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/scheduler/');
    await page.waitForSelector(`#tally-sched-alerts tr[data-alert="${alertId}"] .tally-sched-ack`);
    assert.match(await page.textContent(`#tally-sched-alerts tr[data-alert="${alertId}"]`) ?? '', /warningcluster_at_maxcluster analyzer is at its max size/);
    await page.click(`#tally-sched-alerts tr[data-alert="${alertId}"] .tally-sched-ack`);
    await page.waitForSelector(`#tally-sched-alerts tr[data-alert="${alertId}"]:has-text("by admin")`);
    const alerts = JSON.parse((await ajax(page, '/api/tally/v1/alerts?state=all')).body) as { alerts: { id: string; acknowledged_by: string }[] };
    assert.equal(alerts.alerts.find((a) => a.id === alertId)?.acknowledged_by, 'admin');
    await page.close();
  });

  await t.test('admin: an invalid policy is refused naming the field; a valid one is stored as v1', async () => {
    const page = await login(browser, 'admin', 'admin-pass', '/admin/scheduler/');
    await page.waitForSelector('#tally-sched-policy-cluster option', { state: 'attached' });
    assert.match(await page.inputValue('#tally-sched-policy-source'), /Built-in scaling policy \(default v0\)/);
    await page.fill('#tally-sched-policy-source', 'max_size: 2\nscale_out:\n  when_any: ["avg cpu_percent > 70 over soon"]\n');
    await page.click('#tally-sched-policy-validate');
    await page.waitForSelector('#tally-sched-policy-status.invalid');
    assert.match(await page.textContent('#tally-sched-policy-status') ?? '', /^Not valid: scale_out\.when_any\[0\]\.over: must be a duration/);
    await page.click('#tally-sched-policy-save');
    await page.waitForSelector('#tally-sched-policy-status:has-text("Not stored")');
    const text = 'min_size: 1\nmax_size: 4\nscale_out:\n  when_any: ["avg queue_depth_per_replica > 2000 over 2m"]\n';
    await page.fill('#tally-sched-policy-source', text);
    await page.click('#tally-sched-policy-save');
    await page.waitForSelector('#tally-sched-policy-status.valid');
    assert.match(await page.textContent('#tally-sched-policy-status') ?? '', /^Stored analyzer v1;/);
    await page.waitForSelector('#tally-sched-clusters tbody tr:has-text("analyzer v1")');
    const stored = JSON.parse((await ajax(page, '/api/tally/v1/scaling-policies/analyzer')).body) as { versions: { version: number; source: string; created_by: string }[] };
    assert.deepEqual(stored.versions.map((v) => [v.version, v.source, v.created_by]), [[1, text, 'admin']]);
    await page.close();
  });

  await t.test('member: no Scheduler panel, and the API refuses through the proxy', async () => {
    const page = await login(browser, 'demo-member', 'demo-pass', '/project/billing/');
    assert.equal(await page.locator('a[href="/admin/scheduler/"]').count(), 0);
    const r = await ajax(page, '/api/tally/v1/components');
    assert.equal(r.status, 403, r.body);
    assert.match(r.body, /billing:components:list/);
    await page.close();
  });
});
