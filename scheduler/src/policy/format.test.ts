import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { DEFAULT_SCALING_POLICY_TEXT, parseScalingPolicy } from './format.js';

test('the default policy parses, with the defaults filled in', () => {
  const p = parseScalingPolicy(DEFAULT_SCALING_POLICY_TEXT);
  assert.equal(p.minSize, 1);
  assert.equal(p.maxSize, 3);
  assert.deepEqual(p.scaleOut.rules[0], { aggregate: 'avg', metric: 'queue_depth_per_replica', op: '>', threshold: 5000, windowMs: 120_000 });
  assert.deepEqual([p.scaleIn.cooldownMs, p.scaleIn.stabilizationMs, p.victim], [300_000, 300_000, 'newest']);
});

test('both rule forms mean the same; JSON is accepted too', () => {
  const a = parseScalingPolicy('max_size: 2\nscale_out:\n  when_any: ["max cpu_percent > 70.5 over 90s"]\n');
  const b = parseScalingPolicy('{"max_size": 2, "scale_out": {"when_any": [{"metric": "cpu_percent", "above": 70.5, "over": "90s", "aggregate": "max"}]}}');
  assert.deepEqual(a, b);
  assert.equal(a.scaleOut.rules[0]!.windowMs, 90_000);
});

test('a bad policy is refused naming the field', () => {
  const bad = (text: string, field: string, message?: RegExp) => assert.throws(() => parseScalingPolicy(text), (e: unknown) => {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.field, field, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
  bad('max_size: [', 'source', /not valid YAML/);
  bad('- 1', 'source', /mapping/);
  bad('min_size: 1', 'max_size');
  bad('min_size: 3\nmax_size: 2', 'max_size', /at least min_size \(3\)/);
  bad('max_size: 2\nmin_size: -1', 'min_size');
  bad('max_size: 2\nvictim: oldest', 'victim');
  bad('max_size: 2\nmax_sise: 3', 'max_sise', /unknown field/);
  bad('max_size: 2\nscale_out: {stepp: 2}', 'scale_out.stepp', /unknown field/);
  bad('max_size: 2\nscale_out: {step: 0}', 'scale_out.step');
  bad('max_size: 2\nscale_out: {cooldown: soon}', 'scale_out.cooldown');
  bad('max_size: 2\nscale_out: {when_any: ["avg cpu_percent > 70 over 5m", "cpu is high"]}', 'scale_out.when_any[1]');
  bad('max_size: 2\nscale_out: {when_any: ["avg bogus > 70 over 5m"]}', 'scale_out.when_any[0].metric');
  bad('max_size: 2\nscale_in: {when_all: [{metric: cpu_percent, below: 5}]}', 'scale_in.when_all[0].over');
  bad('max_size: 2\nscale_in: {when_all: [{metric: cpu_percent, below: 5, above: 9, over: 1m}]}', 'scale_in.when_all[0].above');
  bad('max_size: 2\nscale_in: {when_all: [{metric: cpu_percent, below: "5", over: 1m}]}', 'scale_in.when_all[0].below');
  bad('max_size: 2\nscale_in: {when_any: []}', 'scale_in.when_any', /unknown field/);
  bad('max_size: 2\nqueue: "a b"', 'queue');
});
