import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@tally/common';
import { ForbiddenError, loadAccessPolicy, parseAccessPolicyFile, AccessPolicy, renderAccessPolicySample, RULE_DEFAULTS } from './policy.js';
import type { Credentials } from './rules.js';

const who = (roles: string[], project: string | null, authenticated: 'True' | 'False' = 'True'): Credentials =>
  ({ user_id: 'u', user_name: 'u', project_id: project, project_name: null, roles, authenticated });

test('defaults: admin everywhere, reader and member on their own project only', () => {
  const p = new AccessPolicy();
  assert.ok(p.allows('billing:charges:get', who(['admin'], 'x'), { project_id: 'p1' }));
  assert.ok(p.allows('billing:charges:get', who(['reader'], 'p1'), { project_id: 'p1' }));
  assert.ok(!p.allows('billing:charges:get', who(['reader'], 'p2'), { project_id: 'p1' }));
  assert.ok(!p.allows('billing:charges:get', who(['member', 'reader'], 'p2'), { project_id: 'p1' }));
  assert.ok(!p.allows('billing:charges:get', who([], 'p1'), { project_id: 'p1' }));
  assert.ok(!p.allows('billing:runs:create', who(['member'], 'p1')));
  assert.ok(p.allows('billing:runs:create', who(['admin'], 'p1')));
  assert.ok(!p.allows('billing:runs:create', who(['admin'], null, 'False')), 'noauth may not start billing runs');
  assert.throws(() => p.enforce('billing:runs:create', who(['reader'], 'p1')), ForbiddenError);
});

test('an override changes one rule; references to unknown rules are refused naming the rule', () => {
  const p = new AccessPolicy(parseAccessPolicyFile('"billing:charges:get": "rule:admin"\n'));
  assert.ok(!p.allows('billing:charges:get', who(['reader'], 'p1'), { project_id: 'p1' }));
  assert.throws(() => new AccessPolicy({ 'billing:charges:get': 'rule:nope' }), (e: unknown) => e instanceof ValidationError && e.field === 'billing:charges:get');
  assert.throws(() => parseAccessPolicyFile('- a\n- b\n'), ValidationError);
  assert.throws(() => parseAccessPolicyFile('"billing:charges:get": 3\n'), (e: unknown) => e instanceof ValidationError && e.field === 'billing:charges:get');
});

test('loadAccessPolicy reads a YAML file; an unreadable file names policy-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-policy-'));
  try {
    const f = join(dir, 'policy.yaml');
    writeFileSync(f, '# operator overrides\n"billing:policies:list": "rule:admin"\n');
    assert.ok(!loadAccessPolicy(f).allows('billing:policies:list', who(['member'], 'p1')));
    assert.throws(() => loadAccessPolicy(join(dir, 'missing.yaml')), (e: unknown) => e instanceof ValidationError && e.field === 'policy-file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the sample lists every rule, and uncommented it loads to the same decisions as the defaults', () => {
  const sample = renderAccessPolicySample();
  for (const d of RULE_DEFAULTS) assert.ok(sample.includes(`#${JSON.stringify(d.name)}: ${JSON.stringify(d.check)}`), d.name);
  const uncommented = sample.split('\n').filter((l) => l.startsWith('#"')).map((l) => l.slice(1)).join('\n');
  const p = new AccessPolicy(parseAccessPolicyFile(uncommented));
  const d = new AccessPolicy();
  for (const r of RULE_DEFAULTS) {
    for (const c of [who(['admin'], 'p1'), who(['reader'], 'p1'), who(['member'], 'p2'), who(['admin'], null, 'False')]) {
      assert.equal(p.allows(r.name, c, { project_id: 'p1' }), d.allows(r.name, c, { project_id: 'p1' }), r.name);
    }
  }
});
