import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentTypeFor, resolveInside } from './static-files.js';

const root = '/srv/ui';

const cases: [string, string | undefined][] = [
  ['/', '/srv/ui/index.html'],
  ['/app.js', '/srv/ui/app.js'],
  ['/sub/', '/srv/ui/sub/index.html'],
  ['/../etc/passwd', undefined],
  ['/%2e%2e/etc/passwd', undefined],
  ['/..%2fetc%2fpasswd', undefined],
  ['/a/../../secret', undefined],
  ['/%E0%A4%A', undefined],
  ['/app.js%00.html', undefined],
  ['/..\\secret', undefined],
];
for (const [path, expected] of cases) {
  test(`resolveInside(${path})`, () => assert.equal(resolveInside(root, path), expected));
}

test('content types', () => {
  assert.equal(contentTypeFor('index.html'), 'text/html; charset=utf-8');
  assert.equal(contentTypeFor('app.js'), 'text/javascript; charset=utf-8');
  assert.equal(contentTypeFor('styles.CSS'), 'text/css; charset=utf-8');
  assert.equal(contentTypeFor('blob'), 'application/octet-stream');
});
