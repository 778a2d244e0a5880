import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { evaluate, parseCheck, type Credentials } from './rules.js';

const creds = (roles: string[], project: string | null = 'p1', authenticated: 'True' | 'False' = 'True'): Credentials =>
  ({ user_id: 'u', user_name: 'u', project_id: project, project_name: null, roles, authenticated });
const rules = new Map([['admin', parseCheck('role:admin')], ['loop', parseCheck('rule:loop')]]);

const cases: [string, Credentials, Record<string, string>, boolean][] = [
  ['', creds([]), {}, true],
  ['@', creds([]), {}, true],
  ['!', creds(['admin']), {}, false],
  ['role:admin', creds(['Admin']), {}, true],
  ['role:admin', creds(['member']), {}, false],
  ['rule:admin', creds(['admin']), {}, true],
  ['rule:missing', creds(['admin']), {}, false],
  ['rule:loop', creds(['admin']), {}, false],
  ['project_id:%(project_id)s', creds([], 'p1'), { project_id: 'p1' }, true],
  ['project_id:%(project_id)s', creds([], 'p1'), { project_id: 'p2' }, false],
  ['project_id:%(project_id)s', creds([], null), {}, false],
  ['role:member and project_id:%(project_id)s', creds(['member'], 'p1'), { project_id: 'p1' }, true],
  ['role:member and project_id:%(project_id)s', creds(['reader'], 'p1'), { project_id: 'p1' }, false],
  ['role:a or role:b and role:c', creds(['a']), {}, true],
  ['(role:a or role:b) and role:c', creds(['a']), {}, false],
  ['not role:a', creds(['b']), {}, true],
  ['not (role:a or role:b)', creds(['b']), {}, false],
  ['rule:admin and authenticated:True', creds(['admin'], null, 'False'), {}, false],
  ['rule:admin and authenticated:True', creds(['admin'], null, 'True'), {}, true],
];
for (const [text, c, target, want] of cases) {
  test(`"${text}" with roles [${c.roles.join(',')}] project ${c.project_id} on ${JSON.stringify(target)} → ${want}`, () => {
    assert.equal(evaluate(parseCheck(text), c, target, rules), want);
  });
}

for (const bad of ['role:', 'and role:a', '(role:a', 'role:a)', 'role:a or', 'justaword', 'role:a role:b']) {
  test(`"${bad}" is refused naming the rule`, () => {
    assert.throws(() => parseCheck(bad, 'billing:x'), (e: unknown) => e instanceof ValidationError && e.field === 'billing:x');
  });
}
