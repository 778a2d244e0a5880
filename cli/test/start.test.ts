/**
 * The newcomer's path: `tally start` with nothing configured brings up the
 * embedded PostgreSQL, the in-process bus, the simulated fleet, the analyzer
 * and the page; charges appear for several projects; Ctrl-C (SIGINT) stops
 * every part, the embedded PostgreSQL last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tally, freePort, eventually } from './helpers.js';

test('tally start: embedded everything, non-zero charges for several projects, clean Ctrl-C', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-start-'));
  chmodSync(dir, 0o755); // as root, the embedded PostgreSQL runs as `postgres` and must reach its folder
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [port, pgPort] = [await freePort(), await freePort()];
  const p = tally(['start', '--data-dir', join(dir, 'data'), '--port', String(port), '--embedded-pg-port', String(pgPort),
    '--sim-vms', '12', '--sim-projects', '3', '--sim-backfill', '6h', '--sim-speed', '1200']);
  t.after(() => p.stop('SIGKILL'));
  const url = (await p.waitFor(/open (http:\/\/\S+?)\/?\s/, 120_000))[1] as string;

  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /<script[^>]+src="[^"]*app\.js"/);

  const projects = await eventually('non-zero charges for at least two projects', 120_000, async () => {
    const body = (await (await fetch(`${url}/v1/projects`)).json()) as { projects: { project_id: string; total: string }[] };
    const charged = body.projects.filter((x) => /^\d+\.\d{4}$/.test(x.total) && x.total !== '0.0000');
    return charged.length >= 2 ? charged : undefined;
  });
  const first = projects[0];
  assert.ok(first);
  const detail = (await (await fetch(`${url}/v1/projects/${first.project_id}/charges`)).json()) as { total: string; resources: unknown[]; daily: { amount: string }[] };
  assert.ok(detail.resources.length > 0);
  assert.ok(detail.daily.some((d) => d.amount !== '0.000000' && Number(d.amount) > 0), JSON.stringify(detail.daily));

  assert.equal(await p.stop('SIGINT'), 0, p.output().slice(-2000));
  const out = p.output();
  assert.match(out, /stopped part=analyzer/);
  assert.match(out, /stopped part="embedded PostgreSQL"/);
  assert.doesNotMatch(out, /failed to stop cleanly/);
  // The server is gone: its pid file is removed on a clean shutdown.
  assert.equal(existsSync(join(dir, 'data', 'pg', 'postmaster.pid')), false, readFileSync(join(dir, 'data', 'postgres.log'), 'utf8').slice(-1000));
});
