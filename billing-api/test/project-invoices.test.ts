/**
 * Project → Billing's invoices on the real PostgreSQL: a project finds the
 * account paying for it and that account's invoices; a project of a shared
 * account sees only its own lines; no invoice of another account is readable
 * through a project's path.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { createAccount } from '../src/accounts/accounts.js';
import { invoiceCsv } from '../src/invoices/invoices.js';
import { invoiceForCaller, projectAccount, projectInvoice, projectInvoices, scopeInvoice } from '../src/invoices/project-invoices.js';
import { runBilling } from '../src/invoices/run.js';
import { NOAUTH_CREDENTIALS } from '../src/auth/middleware.js';
import { NotFoundError } from '../src/http-errors.js';
import { startApi, type RunningApi } from '../src/server.js';
import { Money } from '../src/rating.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const OCT = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') };
const admin = { creds: { ...NOAUTH_CREDENTIALS, user_id: 'test-admin', authenticated: 'True' as const, roles: ['admin'] }, requestId: 'req-test' };
const log = memoryLogger();
let t: TestDb;
let api: RunningApi;
let sharedInv: string;
let soloInv: string;

before(async () => {
  t = await freshDatabase('projinv');
  await createAccount(t.db, admin, { id: 'shared', name: 'Shared Ltd', currency: 'EUR', scheme: 'postpaid', lowBalanceThreshold: '0', projects: ['p1', 'p2'] });
  await createAccount(t.db, admin, { id: 'solo', name: 'Solo', currency: 'EUR', scheme: 'prepaid', lowBalanceThreshold: '0', projects: ['p3'] });
  await insertUsage(t.db, [
    // p1: m1.small (0.02/h) 1 h -> 0.02; p2: 8 vCPU x 0.02 = 0.16/h, 0.5 h -> 0.08; p3: m1.small 2 h -> 0.04
    { project: 'p1', resource: 'vm-a', hour: '2026-10-03T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'p2', resource: 'vm-secret', hour: '2026-10-20T10:00:00Z', seconds: '1800', flavor: 'c8.custom', vcpus: 8, name: 'secret-box' },
    { project: 'p3', resource: 'vm-c', hour: '2026-10-04T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
    { project: 'p3', resource: 'vm-c', hour: '2026-10-04T01:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
  ]);
  await runBilling({ db: t.db, log }, 'test', OCT);
  sharedInv = ((await t.db('invoices').where({ account_id: 'shared' }).first('id')) as { id: string }).id;
  soloInv = ((await t.db('invoices').where({ account_id: 'solo' }).first('id')) as { id: string }).id;
  api = await startApi({ db: t.db, log, clock: () => new Date('2026-11-21T10:30:00Z'), auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  await api?.close();
  await t?.drop();
});

describe("a project's invoices", () => {
  test('the paying account: id, name, scheme, balances; whether it is shared', async () => {
    const a = await projectAccount(t.db, 'p1');
    assert.deepEqual([a.id, a.name, a.scheme, a.currency, a.shared], ['shared', 'Shared Ltd', 'postpaid', 'EUR', true]);
    assert.equal(typeof a.balance.available, 'string');
    assert.equal((await projectAccount(t.db, 'p3')).shared, false);
    await assert.rejects(projectAccount(t.db, 'nobody'), (e: unknown) => e instanceof NotFoundError && /project nobody/.test((e as Error).message));
  });

  test("a shared account's invoice: the whole total, the project's part, only its lines", async () => {
    const list = await projectInvoices(t.db, 'p1');
    assert.equal(list.account_id, 'shared');
    assert.equal(list.shared, true);
    assert.equal(list.invoices.length, 1);
    const [i] = list.invoices;
    assert.equal(i!.total, '0.1');
    assert.equal(i!.project_total, '0.02');
    const inv = await projectInvoice(t.db, 'p1', sharedInv);
    assert.ok(inv.lines.length > 0);
    assert.ok(inv.lines.every((l) => l.project_id === 'p1'));
    assert.deepEqual(inv.scope, { project_id: 'p1', shared: true, project_total: '0.02' });
    const csv = invoiceCsv(inv);
    assert.doesNotMatch(csv, /p2|vm-secret|secret-box/);
    assert.match(csv, /"project total \(lines of this project only\)","0\.02","EUR"\r\n/);
    assert.equal((await projectInvoices(t.db, 'p2')).invoices[0]!.project_total, '0.08');
  });

  test("a project alone on its account sees the whole invoice; project_total equals total", async () => {
    const list = await projectInvoices(t.db, 'p3');
    assert.equal(list.shared, false);
    assert.equal(list.invoices[0]!.total, '0.04');
    assert.equal(list.invoices[0]!.project_total, '0.04');
    const inv = await projectInvoice(t.db, 'p3', soloInv);
    const sumLines = inv.lines.reduce((s, l) => s.plus(l.amount), new Money(0));
    assert.equal(sumLines.toFixed(), inv.total);
  });

  test("another account's invoice through a project's path is not found; no account means no invoices", async () => {
    await assert.rejects(projectInvoice(t.db, 'p3', sharedInv), NotFoundError);
    await assert.rejects(projectInvoice(t.db, 'p1', soloInv), NotFoundError);
    assert.deepEqual(await projectInvoices(t.db, 'nobody'), { project_id: 'nobody', account_id: null, shared: false, invoices: [] });
  });

  test('GET /v1/invoices/{id}: a member of one project of a shared account sees only its lines; an admin the whole', async () => {
    const member = await invoiceForCaller(t.db, sharedInv, { admin: false, projectId: 'p2' });
    assert.ok(member.lines.length > 0 && member.lines.every((l) => l.project_id === 'p2'));
    assert.equal(member.scope?.project_total, '0.08');
    const adminView = await invoiceForCaller(t.db, sharedInv, { admin: true, projectId: 'p2' });
    assert.equal(adminView.scope, undefined);
    assert.deepEqual(new Set(adminView.lines.map((l) => l.project_id)), new Set(['p1', 'p2']));
    assert.equal((await invoiceForCaller(t.db, soloInv, { admin: false, projectId: 'p3' })).scope?.shared, false);
  });

  test('scopeInvoice keeps a non-shared invoice whole, including lines without a project', () => {
    const base = { id: 'i', account_id: 'a', period: { start: 's', end: 'e' }, status: 'draft' as const, currency: 'EUR', total: '3', credited: '0', policy: 'p',
      created_at: 'c', finalized_at: null, voided_at: null, credit_notes: [],
      lines: [{ line_no: 1, rated_line_id: '1', project_id: 'x', description: 'd', amount: '1' }, { line_no: 2, rated_line_id: '2', project_id: null, description: 'fee', amount: '2' }] };
    assert.equal(scopeInvoice(base, 'x', false).lines.length, 2);
    assert.equal(scopeInvoice(base, 'x', false).scope?.project_total, '3');
    assert.equal(scopeInvoice(base, 'x', true).lines.length, 1);
    assert.equal(scopeInvoice(base, 'x', true).scope?.project_total, '1');
  });

  test('over HTTP: account, list, detail, CSV and clear errors', async () => {
    const get = async (p: string) => { const r = await fetch(api.url + p); return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() }; };
    const acc = await get('/v1/projects/p1/account');
    assert.equal(acc.status, 200);
    assert.equal(JSON.parse(acc.text).scheme, 'postpaid');
    assert.equal((await get('/v1/projects/nobody/account')).status, 404);
    const list = JSON.parse((await get('/v1/projects/p1/invoices')).text);
    assert.equal(list.invoices[0].id, sharedInv);
    const detail = JSON.parse((await get(`/v1/projects/p1/invoices/${sharedInv}`)).text);
    assert.equal(detail.scope.project_total, '0.02');
    const csv = await get(`/v1/projects/p1/invoices/${sharedInv}/csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.type, /text\/csv/);
    assert.doesNotMatch(csv.text, /vm-secret/);
    assert.equal((await get(`/v1/projects/p3/invoices/${sharedInv}`)).status, 404);
    const bad = await get('/v1/projects/p1/invoices/bad%20id');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.text).error.field, 'invoice_id');
    assert.equal(JSON.parse((await get('/v1/projects/p1/invoices?x=1')).text).error.field, 'x');
    // The admin (noauth) reading the invoice directly sees the whole invoice.
    const whole = JSON.parse((await get(`/v1/invoices/${sharedInv}`)).text);
    assert.equal(whole.scope, undefined);
    assert.ok(whole.lines.some((l: { project_id: string }) => l.project_id === 'p2'));
  });
});
