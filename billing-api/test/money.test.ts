/**
 * Money on the real PostgreSQL: billing runs (idempotent, crash-safe),
 * invoices through their states, credit notes, the ledger's own guarantees
 * (balanced, append-only, idempotent), top-ups and low-balance alerts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { memoryLogger, ValidationError, type Knex } from '@tally/common';
import { createAccount, getAccount, topUp } from '../src/accounts/accounts.js';
import { chargeWallet } from '../src/accounts/charge.js';
import { ledgerSum, post } from '../src/accounts/ledger.js';
import { creditNote, finalizeInvoice, getInvoice, invoiceCsv, voidInvoice } from '../src/invoices/invoices.js';
import { runBilling } from '../src/invoices/run.js';
import { Money } from '../src/rating.js';
import { NOAUTH_CREDENTIALS } from '../src/auth/middleware.js';
import { freshDatabase, insertUsage, type TestDb } from './helpers.js';

const OCT = { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') };
const admin = { creds: { ...NOAUTH_CREDENTIALS, user_id: 'test-admin', authenticated: 'True' as const, roles: ['admin'] }, requestId: 'req-test' };
const log = memoryLogger();
let t: TestDb;

async function seed(db: Knex, accounts: number, prefix = 'acct'): Promise<void> {
  for (let i = 0; i < accounts; i++) {
    const id = `${prefix}-${String(i).padStart(4, '0')}`;
    await createAccount(db, admin, { id, name: id, currency: 'EUR', scheme: 'postpaid', lowBalanceThreshold: '0', projects: [`${id}-p1`, `${id}-p2`] });
    await insertUsage(db, [
      { project: `${id}-p1`, resource: `${id}-vm1`, hour: '2026-10-03T00:00:00Z', seconds: '3600', flavor: 'm1.small', vcpus: 1 },
      { project: `${id}-p1`, resource: `${id}-vm1`, hour: '2026-10-03T01:00:00Z', seconds: String(600 + i), flavor: 'm1.small', vcpus: 1 },
      { project: `${id}-p2`, resource: `${id}-vm2`, hour: '2026-10-20T10:00:00Z', seconds: '1800', flavor: 'c8.custom', vcpus: 8 },
    ]);
  }
}

async function snapshot(db: Knex): Promise<unknown[]> {
  const ids = ((await db('invoices').orderBy('id').select('id')) as { id: string }[]).map((r) => r.id);
  const out = [];
  for (const id of ids) {
    const inv = await getInvoice(db, id);
    out.push({ id, account: inv.account_id, total: inv.total, status: inv.status, lines: inv.lines.map((l) => [l.line_no, l.project_id, l.description, l.amount]) });
  }
  return out;
}

before(async () => {
  t = await freshDatabase('money');
});
after(async () => {
  await t?.drop();
});

describe('billing runs and invoices', () => {
  test('a run makes one invoice per account; running it again makes none; lines reference rated lines', async () => {
    await seed(t.db, 3);
    const first = await runBilling({ db: t.db, log }, 'test', OCT);
    assert.equal(first.invoices_created, 3);
    const second = await runBilling({ db: t.db, log }, 'test', OCT);
    assert.equal(second.invoices_created, 0);
    assert.equal(second.invoices_existing, 3);
    const [{ n }] = (await t.db('invoices').count('* as n')) as { n: string }[];
    assert.equal(Number(n), 3);
    const inv = await getInvoice(t.db, ((await t.db('invoices').where({ account_id: 'acct-0000' }).first('id')) as { id: string }).id);
    // 1 h + 600 s of m1.small at 0.02/h = 0.023333..., and 0.5 h of 8 vCPU at 0.02 = 0.08
    assert.equal(inv.total, new Money('0.023333').plus('0.08').toFixed());
    assert.equal(inv.status, 'draft');
    for (const l of inv.lines) {
      const rated = (await t.db('rated_lines').where({ id: l.rated_line_id }).first()) as { amount: string; invoice_id: string };
      assert.equal(new Money(rated.amount).toFixed(), l.amount);
      assert.equal(rated.invoice_id, inv.id);
    }
    const csv = invoiceCsv(inv);
    assert.match(csv, /^"invoice_id","line_no","rated_line_id","project_id","description","amount","currency"\r\n/);
    assert.ok(csv.trimEnd().endsWith(`"${inv.id}","","","","total","${inv.total}","EUR"`));
  });

  test('a run in many small concurrent batches counts every invoice it creates', async () => {
    const db = await freshDatabase('batches');
    try {
      await seed(db.db, 12, 'b');
      const r = await runBilling({ db: db.db, log }, 'test', OCT, undefined, { batchSize: 1 });
      assert.equal(r.invoices_created, 12);
      assert.equal((await runBilling({ db: db.db, log }, 'test', OCT, undefined, { batchSize: 5 })).invoices_existing, 12);
    } finally {
      await db.drop();
    }
  });

  test('finalize, credit notes and void move the receivable; the ledger always sums to zero', async () => {
    const id = ((await t.db('invoices').where({ account_id: 'acct-0001' }).first('id')) as { id: string }).id;
    const inv = await finalizeInvoice(t.db, admin, id);
    assert.equal(inv.status, 'finalized');
    await finalizeInvoice(t.db, admin, id);
    assert.equal((await getAccount(t.db, 'acct-0001')).balance.receivable, inv.total, 'finalizing twice debits once');
    await creditNote(t.db, admin, id, { amount: '0.01', reason: 'goodwill', idempotencyKey: 'k1' });
    await creditNote(t.db, admin, id, { amount: '0.01', reason: 'goodwill', idempotencyKey: 'k1' });
    assert.equal((await getAccount(t.db, 'acct-0001')).balance.receivable, new Money(inv.total).minus('0.01').toFixed());
    await assert.rejects(creditNote(t.db, admin, id, { amount: '5', reason: 'too much', idempotencyKey: 'k2' }), (e: unknown) => e instanceof ValidationError && e.field === 'amount');
    assert.equal(await ledgerSum(t.db), '0');
    const voided = await voidInvoice(t.db, admin, id);
    assert.equal(voided.status, 'void');
    assert.equal((await getAccount(t.db, 'acct-0001')).balance.receivable, '0');
    assert.equal(await ledgerSum(t.db), '0');
    await assert.rejects(finalizeInvoice(t.db, admin, id), /only a draft can be finalized/);
  });

  test('the ledger refuses updates, deletes and unbalanced transactions by itself', async () => {
    await assert.rejects(t.db('ledger_entries').update({ amount: '1' }), /append-only/);
    await assert.rejects(t.db('ledger_transactions').delete(), /append-only/);
    await assert.rejects(t.db.transaction(async (trx) => {
      const [{ id }] = (await trx('ledger_transactions').insert({ idempotency_key: 'bad', kind: 'test' }).returning('id')) as { id: string }[];
      await trx('ledger_entries').insert({ txn_id: id, book: 'cash', amount: '1' });
    }), /does not balance/);
    await assert.rejects(post(t.db, 'x', 'test', null, '', [{ book: 'cash', accountId: null, amount: new Money(1) }]), /does not balance/);
  });

  test('a run killed halfway (SIGKILL) and rerun gives the same invoices as an uninterrupted run', { timeout: 120_000 }, async () => {
    const killed = await freshDatabase('killed');
    const clean = await freshDatabase('clean');
    try {
      await seed(killed.db, 60, 'k');
      await seed(clean.db, 60, 'k');
      const url = killed.url;
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./run-child.ts', import.meta.url)), url, OCT.start.toISOString(), OCT.end.toISOString()], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      let childExit: unknown;
      void exited.then((c) => { childExit = c; });
      for (const deadline = Date.now() + 60_000; ;) {
        const [{ n }] = (await killed.db('invoices').count('* as n')) as { n: string }[];
        if (Number(n) >= 5) break;
        assert.equal(childExit, undefined, 'the child run ended before it could be killed');
        assert.ok(Date.now() < deadline, 'the child run made no invoices within 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      await exited;
      const [{ n: partial }] = (await killed.db('invoices').count('* as n')) as { n: string }[];
      assert.ok(Number(partial) < 60, `the run was interrupted (${partial} of 60 invoices)`);
      await runBilling({ db: killed.db, log }, 'rerun', OCT);
      await runBilling({ db: clean.db, log }, 'once', OCT);
      assert.deepEqual(await snapshot(killed.db), await snapshot(clean.db));
    } finally {
      await killed.drop();
      await clean.drop();
    }
  });
});

describe('prepaid wallets', () => {
  test('top-ups are idempotent; debits follow usage; a low balance opens one alert until topped up', async () => {
    await createAccount(t.db, admin, { id: 'wallet-1', name: 'w', currency: 'EUR', scheme: 'prepaid', lowBalanceThreshold: '0.99', projects: ['wallet-p'] });
    await t.db('accounts').where({ id: 'wallet-1' }).update({ charged_until: new Date('2026-10-01T00:00:00Z') });
    await insertUsage(t.db, [{ project: 'wallet-p', resource: 'w-vm', hour: '2026-10-02T00:00:00Z', seconds: '3600', flavor: 'm1.large', vcpus: 4 }]);
    const a = await topUp(t.db, admin, 'wallet-1', { amount: '1.00', idempotencyKey: 'pay-1' });
    const b = await topUp(t.db, admin, 'wallet-1', { amount: '1.00', idempotencyKey: 'pay-1' });
    assert.equal(a.created, true);
    assert.equal(b.created, false);
    assert.equal(b.account.balance.wallet, '1');
    assert.equal(b.account.low_balance_alert, null);
    assert.equal(await chargeWallet(t.db, 'wallet-1', new Date('2026-10-05T00:30:00Z')), '0.08');
    assert.equal(await chargeWallet(t.db, 'wallet-1', new Date('2026-10-05T00:30:00Z')), '0', 'the same hours are never debited twice');
    const low = await getAccount(t.db, 'wallet-1');
    assert.equal(low.balance.available, '0.92');
    assert.equal(low.low_balance_alert?.balance, '0.92');
    await topUp(t.db, admin, 'wallet-1', { amount: '5', idempotencyKey: 'pay-2' });
    assert.equal((await getAccount(t.db, 'wallet-1')).low_balance_alert, null);
    assert.equal(await ledgerSum(t.db), '0');
  });
});

describe('the schedule', () => {
  test('a tick debits wallets and bills the previous month for every account, once', async () => {
    const { billingTick } = await import('../src/invoices/schedule.js');
    await createAccount(t.db, admin, { id: 'sched-1', name: 's', currency: 'EUR', scheme: 'postpaid', lowBalanceThreshold: '0', projects: ['sched-p'] });
    await billingTick({ db: t.db, log }, new Date('2026-11-02T08:10:00Z'));
    await billingTick({ db: t.db, log }, new Date('2026-11-02T09:10:00Z'));
    const n = (await t.db('invoices').where({ account_id: 'sched-1' }).count('* as n')) as { n: string }[];
    assert.equal(Number(n[0]!.n), 1);
    const accounts = (await t.db('accounts').count('* as n')) as { n: string }[];
    const octInvoices = (await t.db('invoices').where({ period_start: OCT.start, period_end: OCT.end }).count('* as n')) as { n: string }[];
    assert.equal(octInvoices[0]!.n, accounts[0]!.n);
    assert.equal((await getAccount(t.db, 'wallet-1')).charged_until, '2026-11-02T09:00:00.000Z');
    assert.equal(await ledgerSum(t.db), '0');
  });
});
