import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tally, ROOT } from './helpers.js';

test('etc/tally.sample.yaml is what `tally config sample` prints (regenerate: node bin/tally.js config sample > etc/tally.sample.yaml)', async () => {
  const p = tally(['config', 'sample']);
  assert.equal(await p.exited, 0);
  assert.equal(p.output(), readFileSync(join(ROOT, 'etc', 'tally.sample.yaml'), 'utf8'));
});

test('a bad option is refused with every bad key named, before anything starts', async () => {
  const p = tally(['api', '--port', 'eighty', '--database-url', 'mysql://x', '--nope', '--auth-strategy', 'ldap']);
  assert.equal(await p.exited, 1);
  const out = p.output();
  assert.match(out, /port \(flag\): must be an integer/);
  assert.match(out, /database-url \(flag\): scheme must be one of postgres, postgresql/);
  assert.match(out, /nope \(flag\): unknown option/);
  assert.match(out, /auth-strategy \(flag\): must be one of noauth, keystone, got "ldap"/);
});

test('tally agent refuses the in-process bus, which would lose every sample', async () => {
  const p = tally(['agent', '--once'], { TALLY_AMQP_URL: '' });
  assert.equal(await p.exited, 1);
  assert.match(p.output(), /amqp-url is required/);
});
