import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger, openDatabase } from '@tally/common';
import { startApi, type RunningApi } from '../src/server.js';

let dir: string;
let api: RunningApi;
// The static files need no database: an unreachable one proves it.
const db = openDatabase('postgres://postgres@127.0.0.1:1/none', 1);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tally-ui-'));
  const ui = join(dir, 'ui');
  mkdirSync(ui);
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Tally</title>');
  writeFileSync(join(ui, 'app.js'), 'console.log("tally")');
  writeFileSync(join(ui, 'styles.css'), 'body{}');
  writeFileSync(join(dir, 'secret.txt'), 'top secret');
  symlinkSync(join(dir, 'secret.txt'), join(ui, 'link.txt'));
  api = await startApi({ db, log: memoryLogger(), auth: 'noauth', uiDir: ui }, { host: '127.0.0.1', port: 0 });
});

after(async () => {
  await api?.close();
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw request, so `..` reaches the server unnormalised (fetch would resolve it). */
function raw(path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  const u = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const files: [string, string, RegExp][] = [
  ['/', 'text/html; charset=utf-8', /<title>Tally/],
  ['/index.html', 'text/html; charset=utf-8', /<title>Tally/],
  ['/app.js', 'text/javascript; charset=utf-8', /console\.log/],
  ['/styles.css', 'text/css; charset=utf-8', /body\{\}/],
];
for (const [path, type, body] of files) {
  test(`serves ${path} as ${type}`, async () => {
    const r = await raw(path);
    assert.equal(r.status, 200);
    assert.equal(r.type, type);
    assert.match(r.body, body);
  });
}

test('HEAD gives headers without a body', async () => {
  const r = await raw('/app.js', 'HEAD');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/javascript; charset=utf-8');
  assert.equal(r.body, '');
});

for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/link.txt', '/missing.js', '/%E0%A4%A']) {
  test(`no file outside the UI folder or missing: ${path} -> 404 error shape`, async () => {
    const r = await raw(path);
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /top secret/);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'not_found');
  });
}

test('API routes still win over static files', async () => {
  const r = await raw('/v1/nothing');
  assert.equal(r.status, 404);
});
