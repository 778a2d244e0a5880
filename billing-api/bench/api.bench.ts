/**
 * billing-api benchmarks on the machine's PostgreSQL:
 *  1. p50/p99 latency of the month-to-date endpoint (GET /v1/projects/:id/charges)
 *     at a fixed request rate (open loop), 10,000 projects in the database, with
 *     Keystone auth whose validations are cached (the real Keystone when
 *     TALLY_OS_KEYSTONE_ENV names a keystone.env, otherwise noauth, as printed);
 *  2. a billing run's time for 10,000 postpaid accounts.
 * BENCH_PROJECTS, BENCH_RATE (req/s), BENCH_SECONDS, BENCH_ACCOUNTS override the sizes.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { benchHeader, createDatabase, dropDatabase, memoryLogger, migrate, openDatabase } from '@tally/common';
import { analyzerMigrations } from '@tally/analyzer';
import { billingMigrations, KeystoneValidator, runBilling, startApi, type AppDeps } from '@tally/billing-api';

const ADMIN = process.env['TALLY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PROJECTS = Number(process.env['BENCH_PROJECTS'] ?? 10_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 50);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const ACCOUNTS = Number(process.env['BENCH_ACCOUNTS'] ?? 10_000);
const NOW = new Date('2026-11-21T12:00:00Z');

benchHeader('@tally/billing-api (HTTP and billing runs)', 'npm run bench -w @tally/billing-api');
const name = `tally_bench_api_${randomBytes(4).toString('hex')}`;
const db = openDatabase(await createDatabase(ADMIN, name), 8);
try {
  await migrate(db, [...analyzerMigrations, ...billingMigrations]);
  // 10,000 projects, each with one VM that ran one hour (noon) on each day of the month so far (21 rows each).
  const t0 = Date.now();
  await db.raw(`
    INSERT INTO usage_records (window_start, window_end, resource_id, meter, unit, quantity, project_id, user_id, flavor_name, vcpus, memory_mb, display_name, samples)
    SELECT h, h + interval '1 hour', 'vm-' || p, 'instance', 's', 3600, 'proj-' || p, 'u', 'm1.small', 1, 2048, 'vm', 6
    FROM generate_series(1, ?::int) p, generate_series(?::timestamptz, ?::timestamptz, interval '1 day') h`,
  [PROJECTS, '2026-11-01T12:00:00Z', '2026-11-21T11:00:00Z']);
  await db.raw('ANALYZE usage_records');
  const rows = (await db('usage_records').count('* as n')) as { n: string }[];
  process.stdout.write(`# setup: ${PROJECTS} projects, ${rows[0]!.n} hourly usage rows in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  // 1. month to date at a fixed rate.
  let auth: Pick<AppDeps, 'auth' | 'keystone' | 'keystoneUrl'> = { auth: 'noauth' };
  let token = '';
  const envFile = process.env['TALLY_OS_KEYSTONE_ENV'];
  if (envFile) {
    const env = Object.fromEntries(readFileSync(envFile, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const url = env['KEYSTONE_URL']!;
    const keystone = new KeystoneValidator({ url, user: 'billing', password: 'billing-pass', project: 'service', userDomain: 'Default', projectDomain: 'Default', cacheTtlMs: 300_000 });
    auth = { auth: 'keystone', keystone, keystoneUrl: url };
    const res = await fetch(`${url}/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'admin-pass' } } },
      scope: { project: { name: 'admin', domain: { name: 'Default' } } } } }) });
    token = res.headers.get('x-subject-token') ?? '';
  }
  const api = await startApi({ db, log: memoryLogger(), clock: () => NOW, ...auth }, { host: '127.0.0.1', port: 0 });
  const get = async (p: number): Promise<number> => {
    const t = process.hrtime.bigint();
    const r = await fetch(`${api.url}/v1/projects/proj-${p}/charges`, { headers: token ? { 'x-auth-token': token } : {} });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let i = 0; i < 20; i++) await get(1 + (i % PROJECTS)); // warm-up; fills the validation cache
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = Date.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(get(1 + Math.floor(Math.random() * PROJECTS)).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  await api.close();
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
  process.stdout.write(`${`month-to-date charges, ${RATE} req/s for ${SECONDS} s, ${PROJECTS} projects (${auth.auth}${envFile ? ', validation cached' : ''})`.padEnd(66)} ${String(latencies.length).padStart(7)} reqs   p50 ${pct(0.5)} ms  p99 ${pct(0.99)} ms  max ${latencies[latencies.length - 1]!.toFixed(1)} ms\n`);

  // 2. a billing run for ACCOUNTS postpaid accounts (one project each), October: one day of usage each.
  await db.raw(`INSERT INTO accounts (id, name, currency, scheme) SELECT 'acct-' || p, 'Account ' || p, 'EUR', 'postpaid' FROM generate_series(1, ?::int) p`, [ACCOUNTS]);
  await db.raw(`INSERT INTO account_projects (project_id, account_id) SELECT 'proj-' || p, 'acct-' || p FROM generate_series(1, ?::int) p`, [ACCOUNTS]);
  await db.raw(`
    INSERT INTO usage_records (window_start, window_end, resource_id, meter, unit, quantity, project_id, user_id, flavor_name, vcpus, memory_mb, display_name, samples)
    SELECT h, h + interval '1 hour', 'vm-' || p, 'instance', 's', 3600, 'proj-' || p, 'u', 'm1.small', 1, 2048, 'vm', 6
    FROM generate_series(1, ?::int) p, generate_series('2026-10-10T00:00:00Z'::timestamptz, '2026-10-10T23:00:00Z', interval '1 hour') h`, [ACCOUNTS]);
  const r0 = process.hrtime.bigint();
  const report = await runBilling({ db, log: memoryLogger() }, 'bench', { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') });
  const runMs = Number(process.hrtime.bigint() - r0) / 1e6;
  process.stdout.write(`${`billing run, ${ACCOUNTS} postpaid accounts (one invoice each)`.padEnd(66)} ${String(report.invoices_created).padStart(7)} invs   ${(runMs / 1000).toFixed(1)} s  ${Math.round((report.invoices_created / runMs) * 1000)} invoices/s\n`);
  const r1 = process.hrtime.bigint();
  const again = await runBilling({ db, log: memoryLogger() }, 'bench', { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-11-01T00:00:00Z') });
  process.stdout.write(`${'billing run again (idempotent: nothing to create)'.padEnd(66)} ${String(again.invoices_created).padStart(7)} invs   ${(Number(process.hrtime.bigint() - r1) / 1e9).toFixed(1)} s\n`);
} finally {
  await db.destroy();
  await dropDatabase(ADMIN, name);
}
