import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesPerSecond, clock, describeDecision, parseAlerts, parseClusters, parseDecisions, queueCell } from './scheduler-data.js';
import { readConfig } from './config.js';

const NOW = new Date('2026-12-04T12:30:00Z');
const d = (action: 'out' | 'in' | 'hold', members: string[], reason: string) => ({
  id: '1', cluster: 'analyzer', at: '2026-12-04T12:04:10Z', action, count: members.length, from_size: 2, to_size: 3, reason, blocked_by: null, policy: 'analyzer v1', action_id: null, members,
});

test('decision log lines read as the operator expects', () => {
  assert.equal(describeDecision(d('out', ['analyzer-3'], 'queue depth 18,000 > 5,000 per replica for 5 min'), NOW), 'added analyzer-3 at 12:04: queue depth 18,000 > 5,000 per replica for 5 min');
  assert.equal(describeDecision(d('in', ['analyzer-3'], 'highest queue depth 0 < 40 for 3 s'), NOW), 'removed analyzer-3 at 12:04: highest queue depth 0 < 40 for 3 s');
  assert.equal(describeDecision(d('hold', [], 'within thresholds'), NOW), 'held at 12:04: within thresholds');
  assert.equal(clock('2026-12-03T23:59:00Z', NOW), '12-03 23:59');
});

test('answers are checked, never guessed', () => {
  assert.throws(() => parseClusters({ clusters: [{ cluster: 'a' }] }), /policy/);
  assert.throws(() => parseDecisions({ decisions: [{ at: 'x', action: 'out' }] }), /reason/);
  assert.throws(() => parseAlerts({}), /alerts/);
  assert.equal(parseDecisions({ decisions: [d('out', ['a-1'], 'r')] }).length, 1);
});

test('figures: rates, queue cell; the scheduler mode', () => {
  assert.equal(bytesPerSecond(1_234_567), '1.2 MB/s');
  assert.equal(bytesPerSecond(512), '512 B/s');
  assert.equal(bytesPerSecond(undefined), '—');
  const c = { observation: { at: '', metrics: { queue_depth: 18000, queue_depth_per_replica: 6000 } } } as never;
  assert.equal(queueCell(c), '18,000 (6,000 per replica)');
  assert.deepEqual(readConfig({ apiBase: '/api/tally', mode: 'scheduler' }), { apiBase: '/api/tally', mode: 'scheduler' });
  assert.deepEqual(readConfig({ mode: 'all', scheduler: 'inline' }), { apiBase: '', mode: 'all', schedulerInline: true });
});
