/**
 * The decision table: every case hand-computed. Observations every 60 s from 0 to
 * `now` = 600 s unless a case says otherwise; windows are half-open, (now − window, now].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateAt, decide, describeRule, type DecisionInput, type MemberView, type Observation } from './decide.js';
import { parseScalingPolicy, type Metric } from './policy/format.js';
import { chooseVictims } from './victim.js';

const S = 1000;
const NOW = 600 * S;
const POLICY = parseScalingPolicy(`
min_size: 1
max_size: 4
scale_out:
  step: 1
  cooldown: 60s
  when_any:
    - avg queue_depth_per_replica > 5000 over 5m
    - avg cpu_percent > 70 over 5m
scale_in:
  step: 1
  cooldown: 5m
  stabilization: 0s
  when_all:
    - avg queue_depth_per_replica < 500 over 5m
    - avg cpu_percent < 30 over 5m
`);

/** Observations at 0, 60, …, 600 s; `f(t in s)` gives the metrics. */
function series(f: (t: number) => Partial<Record<Metric, number>>, from = 0, to = 600, every = 60): Observation[] {
  const out: Observation[] = [];
  for (let t = from; t <= to; t += every) out.push({ at: t * S, values: f(t) });
  return out;
}
const running = (n: number, managed = true): MemberView[] =>
  Array.from({ length: n }, (_, i) => ({ name: `analyzer-${i + 1}`, state: 'running' as const, startedAt: i * S, managed }));
const input = (over: Partial<DecisionInput>): DecisionInput => ({ series: [], policy: POLICY, members: running(2), lastAction: undefined, now: NOW, ...over });

test('rule text reads like the decision log', () => {
  const r = POLICY.scaleOut.rules[0]!;
  assert.equal(describeRule(r, 18000), 'queue depth 18,000 > 5,000 per replica for 5 min');
  assert.equal(describeRule(POLICY.scaleOut.rules[1]!, 82.456), 'CPU 82.46 % > 70 % for 5 min');
  assert.equal(describeRule(r, null), 'queue depth no data > 5,000 per replica for 5 min');
});

test('aggregates over the half-open window (now − 5 min, now], hand-computed', () => {
  const s = series((t) => ({ queue_depth: t / 60 })); // 0,1,…,10 at 0…600 s: the window holds 6…10
  const rule = (aggregate: 'avg' | 'min' | 'max' | 'last') => ({ metric: 'queue_depth' as const, op: '>' as const, threshold: 0, windowMs: 300 * S, aggregate });
  assert.equal(aggregateAt(s, rule('avg'), NOW), 8); // (6+7+8+9+10)/5
  assert.equal(aggregateAt(s, rule('min'), NOW), 6);
  assert.equal(aggregateAt(s, rule('max'), NOW), 10);
  assert.equal(aggregateAt(s, rule('last'), NOW), 10);
  // The series must reach back a whole window: starting at 301 s it does not.
  assert.equal(aggregateAt(s.filter((o) => o.at > 300 * S), rule('avg'), NOW), null);
  // Observations without the metric are skipped.
  assert.equal(aggregateAt(s.map((o) => (o.at === NOW ? { at: o.at, values: {} } : o)), rule('avg'), NOW), 7.5);
});

const cases: { name: string; input: DecisionInput; want: Partial<ReturnType<typeof decide>> }[] = [
  {
    name: 'queue depth per replica over its threshold for the whole window: add one',
    input: input({ series: series(() => ({ queue_depth_per_replica: 18000, cpu_percent: 50 })) }),
    want: { action: 'out', count: 1, fromSize: 2, toSize: 3, reason: 'queue depth 18,000 > 5,000 per replica for 5 min' },
  },
  {
    // (4000 + 4000 + 6000 + 6000 + 6000) / 5 = 5200 > 5000; the 300 s sample (0) is outside the window.
    name: 'average just over: 5,200 > 5,000',
    input: input({ series: series((t) => ({ queue_depth_per_replica: t <= 300 ? 0 : t <= 420 ? 4000 : 6000, cpu_percent: 50 })) }),
    want: { action: 'out', count: 1, reason: 'queue depth 5,200 > 5,000 per replica for 5 min' },
  },
  {
    // (4000 × 3 + 6000 × 2) / 5 = 4800: hold.
    name: 'average just under: 4,800 is not > 5,000',
    input: input({ series: series((t) => ({ queue_depth_per_replica: t <= 480 ? 4000 : 6000, cpu_percent: 50 })) }),
    want: { action: 'hold', reason: 'within thresholds' },
  },
  {
    name: 'not a whole window of data yet: hold, say so',
    input: input({ series: series(() => ({ queue_depth_per_replica: 18000, cpu_percent: 90 }), 360) }),
    want: { action: 'hold', reason: 'within thresholds (4 rules without a whole window of data yet)' },
  },
  {
    name: 'at max size with a scale-out rule holding: hold, flagged for an alert',
    input: input({ members: running(4), series: series(() => ({ queue_depth_per_replica: 18000, cpu_percent: 50 })) }),
    want: { action: 'hold', blockedBy: 'max', overThresholdAtMax: true, reason: 'at max size 4 while queue depth 18,000 > 5,000 per replica for 5 min' },
  },
  {
    name: 'scale-out cooldown: an action 30 s ago blocks (60 s cooldown)',
    input: input({ lastAction: { direction: 'out', at: NOW - 30 * S }, series: series(() => ({ queue_depth_per_replica: 18000, cpu_percent: 50 })) }),
    want: { action: 'hold', blockedBy: 'cooldown' },
  },
  {
    name: 'scale-out cooldown over exactly at 60 s',
    input: input({ lastAction: { direction: 'out', at: NOW - 60 * S }, series: series(() => ({ queue_depth_per_replica: 18000, cpu_percent: 50 })) }),
    want: { action: 'out', count: 1 },
  },
  {
    name: 'combined: the queue is idle but CPU is high: adding wins (any scale-out rule)',
    input: input({ series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 80 })) }),
    want: { action: 'out', count: 1, reason: 'CPU 80 % > 70 % for 5 min' },
  },
  {
    name: 'combined: both scale-out rules hold: both named, still one step',
    input: input({ series: series(() => ({ queue_depth_per_replica: 9000, cpu_percent: 80 })) }),
    want: { action: 'out', count: 1, reason: 'queue depth 9,000 > 5,000 per replica for 5 min; CPU 80 % > 70 % for 5 min' },
  },
  {
    name: 'combined: every scale-in rule holds: remove one',
    input: input({ series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 25 })) }),
    want: { action: 'in', count: 1, toSize: 1, reason: 'queue depth 10 < 500 per replica for 5 min and CPU 25 % < 30 % for 5 min' },
  },
  {
    name: 'combined: only one of two scale-in rules holds: hold',
    input: input({ series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 50 })) }),
    want: { action: 'hold', reason: 'within thresholds' },
  },
  {
    name: 'at min size: never below it',
    input: input({ members: running(1), series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 5 })) }),
    want: { action: 'hold', blockedBy: 'min' },
  },
  {
    name: 'scale-in cooldown: 2 min after a scale-out (5 min cooldown)',
    input: input({ lastAction: { direction: 'out', at: NOW - 120 * S }, series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 5 })) }),
    want: { action: 'hold', blockedBy: 'cooldown' },
  },
  {
    name: 'below min size (no members): add up to min, without data or cooldown',
    input: input({ members: [], lastAction: { direction: 'in', at: NOW - S } }),
    want: { action: 'out', count: 1, fromSize: 0, toSize: 1, reason: 'below min size 1 (0 members)' },
  },
  {
    name: 'below min size, but the last scale-out failed 10 s ago (quota): wait for the cooldown',
    input: input({ members: [], lastAction: { direction: 'out', at: NOW - 10 * S, failed: true } }),
    want: { action: 'hold', blockedBy: 'cooldown' },
  },
  {
    name: 'above max size (the policy was lowered): remove down to it',
    input: input({ members: running(6) }),
    want: { action: 'in', count: 2, toSize: 4, reason: 'above max size 4 (6 members)' },
  },
  {
    name: 'a member still starting: one action at a time',
    input: input({ members: [...running(2), { name: 'analyzer-3', state: 'creating', startedAt: NOW, managed: true }], series: series(() => ({ queue_depth_per_replica: 18000 })) }),
    want: { action: 'hold', blockedBy: 'in_progress', reason: 'waiting for analyzer-3 (creating)' },
  },
  {
    name: 'scale in, but every member was started by an operator: hold',
    input: input({ members: running(2, false), series: series(() => ({ queue_depth_per_replica: 10, cpu_percent: 5 })) }),
    want: { action: 'hold', blockedBy: 'no_managed_member' },
  },
  {
    name: 'step clipped to max: step 3 from 3 members with max 4 adds 1',
    input: input({ members: running(3), policy: { ...POLICY, scaleOut: { ...POLICY.scaleOut, step: 3 } }, series: series(() => ({ queue_depth_per_replica: 18000 })) }),
    want: { action: 'out', count: 1, toSize: 4 },
  },
];

for (const c of cases) {
  test(`decide: ${c.name}`, () => {
    const d = decide(c.input);
    const got = Object.fromEntries(Object.keys(c.want).map((k) => [k, d[k as keyof typeof d]]));
    assert.deepEqual(got, c.want);
  });
}

// Flapping: a 1-minute scale-in rule with a 3-minute stabilisation window.
const FLAPPY = parseScalingPolicy(`
min_size: 1
max_size: 4
scale_out:
  cooldown: 0s
  stabilization: 2m
  when_any: [avg queue_depth_per_replica > 5000 over 1m]
scale_in:
  cooldown: 0s
  stabilization: 3m
  when_all: [avg queue_depth_per_replica < 500 over 1m]
`);

test('flapping: one quiet sample between busy ones never removes a member (stabilisation)', () => {
  // Busy (1000 per replica: neither add nor remove) at 540 s, quiet (100) otherwise: at 600 s the scale-in rule holds,
  // but at 540 s it did not, inside the 3-minute window (420 s, 600 s].
  const s = series((t) => ({ queue_depth_per_replica: t === 540 ? 1000 : 100 }));
  const d = decide({ series: s, policy: FLAPPY, members: running(3), lastAction: undefined, now: NOW });
  assert.equal(d.action, 'hold');
  assert.equal(d.blockedBy, 'stabilization');
  assert.equal(d.reason, 'not yet stable for 3 min: queue depth 100 < 500 per replica for 1 min');
  // At 660 s the busy 540 s sample is still inside (480 s, 660 s]; at 720 s it has left (540 s, 720 s]: remove one.
  const at = (end: number) => decide({ series: series((t) => ({ queue_depth_per_replica: t === 540 ? 1000 : 100 }), 0, end), policy: FLAPPY, members: running(3), lastAction: undefined, now: end * S });
  assert.equal(at(660).action, 'hold');
  assert.deepEqual([at(720).action, at(720).count], ['in', 1]);
});

test('flapping: a single busy spike does not add a member when scale-out is stabilised; a lasting one does', () => {
  const spike = series((t) => ({ queue_depth_per_replica: t === 600 ? 20000 : 100 }));
  const d = decide({ series: spike, policy: FLAPPY, members: running(2), lastAction: undefined, now: NOW });
  assert.deepEqual([d.action, d.blockedBy], ['hold', 'stabilization']);
  // Busy at 480, 540 and 600 s: every observation of (480 s, 600 s] recommended adding.
  const lasting = series((t) => ({ queue_depth_per_replica: t >= 480 ? 20000 : 100 }));
  assert.equal(decide({ series: lasting, policy: FLAPPY, members: running(2), lastAction: undefined, now: NOW }).action, 'out');
});

test('flapping: the scale-in cooldown after a scale-out stops an add/remove/add cycle', () => {
  const p = { ...POLICY, scaleIn: { ...POLICY.scaleIn, cooldownMs: 300 * S } };
  const quiet = series(() => ({ queue_depth_per_replica: 10, cpu_percent: 5 }));
  const after = (ago: number) => decide({ series: quiet, policy: p, members: running(3), lastAction: { direction: 'out', at: NOW - ago * S }, now: NOW });
  assert.equal(after(299).action, 'hold');
  assert.equal(after(300).action, 'in');
});

test('victims: newest first by default; least-loaded by process CPU; never one this scheduler did not create', () => {
  const m: MemberView[] = [
    { name: 'analyzer-1', state: 'running', startedAt: 1, managed: false, processCpuPercent: 0 },
    { name: 'analyzer-2', state: 'running', startedAt: 2, managed: true, processCpuPercent: 50 },
    { name: 'analyzer-3', state: 'running', startedAt: 3, managed: true, processCpuPercent: 10 },
    { name: 'analyzer-4', state: 'running', startedAt: 3, managed: true, processCpuPercent: 90 },
    { name: 'analyzer-5', state: 'creating', startedAt: 9, managed: true },
  ];
  assert.deepEqual(chooseVictims(m, 2, 'newest').map((x) => x.name), ['analyzer-4', 'analyzer-3']);
  assert.deepEqual(chooseVictims(m, 2, 'least-loaded').map((x) => x.name), ['analyzer-3', 'analyzer-2']);
  assert.deepEqual(chooseVictims(m, 9, 'newest').map((x) => x.name), ['analyzer-4', 'analyzer-3', 'analyzer-2']);
});
