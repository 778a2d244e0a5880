import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tally } from './helpers.js';
import { runPolicyCommand } from '../src/policy-command.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const GOOD = file('good.policy', `EVENT = "VM Assignment", CLIENT_TYPE = "Platinum", RESOURCE_TYPE = "BLADE Type 4", RESOURCE_AGE > 240 * 60 * 60 (seconds), SERVICE_LEVEL = "Platinum", COST_PER_SECOND = 0.0002 (Euros)
EVENT = "ONE_OFF SERVICE 1", RESOURCE_TYPE = "BLADE Type 4", ONE_OFF_COST = 1
When the event is VM Assignment, then the cost per hour is 0.01 euros and the priority is -1.
`);

function run(args: string[]) {
  let out = '';
  let err = '';
  const code = runPolicyCommand(args, { out: (s) => (out += s), err: (s) => (err += s), read: (p) => readFileSync(p, 'utf8') });
  return { code, out, err };
}

test('tally policy validate: a valid policy (the real command)', async () => {
  const p = tally(['policy', 'validate', GOOD]);
  assert.equal(await p.exited, 0);
  assert.match(p.output(), /valid, 3 rules \(2 DSL, 1 natural\)/);
});

test('tally policy validate: every error as FILE:line:column, exit 1 (the real command)', async () => {
  const bad = file('bad.policy', 'EVENT = "x", FOO = 1\nEVENT = "x", COST_PER_HOUR = 1 (parsecs)\nWhen the event is x, the cost per hour is 1.\n');
  const p = tally(['policy', 'validate', bad]);
  assert.equal(await p.exited, 1);
  const out = p.output();
  assert.ok(out.includes(`${bad}:1:14: unknown key "FOO"`), out);
  assert.ok(out.includes(`${bad}:2:33: unknown unit "parsecs"`), out);
  assert.ok(out.includes(`${bad}:3:26: COST_PER_HOUR is a price element`), out);
  const cyc = file('cycle.policy', 'DISCOUNT_CLASS == "a", PRICE_CLASS = "b"\nPRICE_CLASS == "b", DISCOUNT_CLASS = "a"\n');
  const r = run(['validate', cyc]);
  assert.equal(r.code, 1);
  assert.match(r.err, /cycle\.policy:\d+:1: rules on lines .* form a cycle/);
});

test('tally policy format: both forms, and each parses back to the same rules', () => {
  const dsl = run(['format', GOOD]);
  assert.equal(dsl.code, 0);
  assert.match(dsl.out, /^EVENT = "VM Assignment", CLIENT_TYPE = "Platinum"/);
  const natural = run(['format', GOOD, 'natural']);
  assert.match(natural.out, /When the event is ONE_OFF SERVICE 1 and the resource type is BLADE Type 4, then the one-off cost is 1\./);
  const again = run(['format', file('n.policy', natural.out)]);
  assert.equal(again.out, dsl.out);
  assert.equal(run(['format', GOOD, 'french']).code, 2);
});

test('tally policy explain: the engine order, then rated lines with their reasons', () => {
  const e = run(['explain', GOOD]);
  assert.equal(e.code, 0);
  const order = [...e.out.matchAll(/^line (\d+) /gm)].map((m) => m[1]);
  assert.deepEqual(order, ['1', '2', '3']);
  const usage = file('usage.json', JSON.stringify({
    usage: [{ windowStart: '2026-11-01T00:00:00Z', windowEnd: '2026-11-01T01:00:00Z', resourceId: 'vm-1', meter: 'instance', unit: 's', quantity: '3600', projectId: 'p1', flavorName: 'BLADE Type 4', vcpus: 8, memoryMb: 8192 }],
    accounts: { p1: { clientType: 'Platinum', serviceLevel: 'Platinum' } },
    resources: { 'vm-1': { createdAt: '2026-10-01T00:00:00Z' } },
  }));
  const x = run(['explain', GOOD, usage]);
  assert.equal(x.code, 0, x.err);
  assert.match(x.out, /usage p1 vm-1 VM Assignment 2026-11-01T00:00:00.000Z: 0.72 EUR/);
  assert.match(x.out, /lost {3}line 3: COST_PER_HOUR|fired {2}line 3/);
  assert.match(x.out, /rate {3}COST_PER_SECOND 0.0002 x 3600 s = 0.72/);
  assert.match(x.out, /total 0.7200 EUR/);
});

test('tally policy without a verb prints its usage and exits 2', () => {
  assert.equal(run([]).code, 2);
  assert.equal(run(['validate', join(dir, 'missing')]).code, 1);
});
