import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from './config.js';
import { requestHeaders } from './api.js';

test('readConfig: standalone defaults, Horizon project and admin modes', () => {
  assert.deepEqual(readConfig({}), { apiBase: '', mode: 'all' });
  assert.deepEqual(readConfig({ apiBase: '/api/tally/', mode: 'project', projectId: 'p1' }), { apiBase: '/api/tally', mode: 'project', projectId: 'p1' });
  assert.deepEqual(readConfig({ apiBase: '/horizon/api/tally', mode: 'all' }), { apiBase: '/horizon/api/tally', mode: 'all' });
  assert.deepEqual(readConfig({ apiBase: '/api/tally', mode: 'project', projectId: 'p1', projectName: 'demo' }), { apiBase: '/api/tally', mode: 'project', projectId: 'p1', projectName: 'demo' });
});

test('readConfig names the bad attribute', () => {
  assert.throws(() => readConfig({ mode: 'everything' }), /data-mode/);
  assert.throws(() => readConfig({ mode: 'project' }), /data-project-id/);
  assert.throws(() => readConfig({ apiBase: 'javascript:alert(1)' }), /data-api-base/);
});

test('requestHeaders: AJAX marker always, CSRF token only when the cookie is there', () => {
  assert.deepEqual(requestHeaders(''), { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' });
  const h = requestHeaders('sessionid=x; csrftoken=abc%3D123; other=1');
  assert.equal(h['X-CSRFToken'], 'abc=123');
  assert.equal(h['X-Requested-With'], 'XMLHttpRequest');
});
