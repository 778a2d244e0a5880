/**
 * OpenStack tier: the Horizon plugin's Python tests (the REST proxy views:
 * token forwarded, errors passed through), run by Debian's python3 with Debian's
 * Horizon and Django, which scripts/openstack/horizon.sh installs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const plugin = fileURLToPath(new URL('../../plugins/horizon-panel/', import.meta.url));

test('the proxy views pass their Python tests in Debian\'s Horizon', { timeout: 120_000 }, () => {
  const run = spawnSync('/usr/bin/python3', ['-W', 'ignore::DeprecationWarning', '-m', 'unittest', 'discover', '-v', '-s', 'tally_dashboard/tests', '-t', '.'], {
    cwd: plugin,
    encoding: 'utf8',
    env: { ...process.env, DJANGO_SETTINGS_MODULE: 'openstack_dashboard.settings' },
  });
  const out = `${run.stdout}\n${run.stderr}`;
  assert.equal(run.status, 0, out);
  const ran = /Ran (\d+) tests?/.exec(out);
  assert.ok(ran && Number(ran[1]) >= 10, `expected at least 10 Python tests:\n${out}`);
  assert.match(out, /\nOK\s*$/, out);
});
