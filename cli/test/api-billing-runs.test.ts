/**
 * Two `tally api` processes on one database, billing the same period at the
 * same time, several times over: exactly one invoice per account, and the
 * ledger still sums to zero after finalizing through either process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, openDatabase } from '@tally/common';
import { ADMIN_DB_URL, tally, type Proc } from './helpers.js';

const ACCOUNTS = 20;

test('concurrent billing runs on two API processes produce one invoice per account', { timeout: 120_000 }, async (t) => {
  const name = `tally_api_runs_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(ADMIN_DB_URL, name);
  const dir = mkdtempSync(join(tmpdir(), 'tally-api-runs-'));
  const procs: Proc[] = [];
  const db = openDatabase(url, 2);
  t.after(async () => {
    for (const p of procs) await p.stop();
    await db.destroy();
    await dropDatabase(ADMIN_DB_URL, name);
    rmSync(dir, { recursive: true, force: true });
  });
  // noauth callers may not start runs or move money by default; this operator's policy file allows it (a trusted test network).
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, '"billing:runs:create": "rule:admin"\n"billing:invoices:write": "rule:admin"\n');
  const migrated = tally(['migrate', '--database-url', url]);
  assert.equal(await migrated.exited, 0, migrated.output());
  for (let i = 0; i < 2; i++) procs.push(tally(['api', '--database-url', url, '--port', '0', '--policy-file', policy]));
  const urls = await Promise.all(procs.map(async (p) => (await p.waitFor(/billing API on (http:\/\/[^\s/]+)\//, 30_000))[1]!));

  const post = async (base: string, path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  for (let i = 0; i < ACCOUNTS; i++) {
    const id = `acct-${i}`;
    const r = await post(urls[i % 2]!, '/v1/accounts', { id, name: id, currency: 'EUR', scheme: 'postpaid', projects: [`p-${i}`] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await db('usage_records').insert({
      window_start: new Date('2026-10-10T00:00:00Z'), window_end: new Date('2026-10-10T01:00:00Z'), resource_id: `vm-${i}`, meter: 'instance', unit: 's',
      quantity: '3600', project_id: `p-${i}`, user_id: 'u', flavor_name: 'm1.small', vcpus: 1, memory_mb: 2048, display_name: `vm-${i}`, samples: 6,
    });
  }
  const period = { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' };
  const runs = await Promise.all([0, 1, 0, 1, 0, 1].map((i) => post(urls[i]!, '/v1/billing-runs', period)));
  for (const r of runs) assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(runs.reduce((s, r) => s + (r.body['invoices_created'] as number), 0), ACCOUNTS, 'exactly one run created each invoice');
  const perAccount = (await db('invoices').groupBy('account_id').select('account_id', db.raw('count(*)::int AS n'))) as { account_id: string; n: number }[];
  assert.equal(perAccount.length, ACCOUNTS);
  assert.ok(perAccount.every((r) => r.n === 1));

  const ids = ((await db('invoices').select('id')) as { id: string }[]).map((r) => r.id);
  await Promise.all(ids.flatMap((id) => [post(urls[0]!, `/v1/invoices/${id}/finalize`, {}), post(urls[1]!, `/v1/invoices/${id}/finalize`, {})]));
  const [{ s }] = (await db('ledger_entries').select(db.raw('coalesce(sum(amount),0)::text AS s'))) as { s: string }[];
  assert.equal(Number(s), 0);
  const [{ r }] = (await db('ledger_entries').where({ book: 'receivable' }).select(db.raw('sum(amount)::text AS r'))) as { r: string }[];
  assert.equal(r, '0.400000', '20 invoices of 0.02, each debited once although finalized through both processes');
});
