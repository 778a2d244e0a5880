import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldLifetimes, spanForWindow, unionIntervals, type Lifetime } from './span.js';
import { HOUR_US } from './timestamp.js';

const S = 1_000_000;
const H0 = 1_795_291_200_000_000;
const W0 = { startUs: H0, endUs: H0 + HOUR_US };
const W1 = { startUs: H0 + HOUR_US, endUs: H0 + 2 * HOUR_US };
const life = (resourceId: string, projectId: string, first: number, last: number): Lifetime => ({ resourceId, projectId, firstUs: H0 + first * S, lastUs: H0 + last * S });

describe('billing span per project (seed 000)', () => {
  const lifetimes = [life('a', 'p', 0, 1000), life('b', 'p', 500, 2000), life('c', 'p', 5000, 6000), life('d', 'q', -100, 100), life('e', 'q', 3000, 4000)];
  it('runs from the first VM start until all VMs are deleted (union of lifetimes)', () => {
    assert.deepEqual(spanForWindow(lifetimes, W0), [
      { projectId: 'p', spanUs: 2000 * S, vms: 2 }, // [0, 2000]: a and b overlap
      { projectId: 'q', spanUs: (100 + 600) * S, vms: 2 }, // [0, 100] inside W0 + [3000, 3600)
    ]);
    assert.deepEqual(spanForWindow(lifetimes, W1), [
      { projectId: 'p', spanUs: 1000 * S, vms: 1 }, // [5000, 6000]
      { projectId: 'q', spanUs: 400 * S, vms: 1 }, // [3600, 4000]
    ]);
  });
  it('a stopped VM that comes back keeps the span open across the stop', () => {
    // One VM: heartbeats at 0..600 s, stopped, back at 3 h: its lifetime spans the stop.
    const m = foldLifetimes(new Map(), [0, 300, 600, 3 * 3600, 600].map((t) => ({ resourceId: 'vm', projectId: 'p', timestampUs: H0 + t * S })));
    assert.deepEqual([...m.values()], [life('vm', 'p', 0, 3 * 3600)]);
    assert.deepEqual(spanForWindow([...m.values()], W1), [{ projectId: 'p', spanUs: HOUR_US, vms: 1 }]);
  });
  it('merges touching and nested intervals', () => {
    assert.deepEqual(unionIntervals([[5, 6], [0, 2], [2, 3], [1, 1.5]]), [[0, 3], [5, 6]]);
  });
  it('folds heartbeats in any order to the same lifetimes; the project is the latest one', () => {
    const beats = [{ resourceId: 'vm', projectId: 'p', timestampUs: 1 }, { resourceId: 'vm', projectId: 'q', timestampUs: 9 }, { resourceId: 'vm', projectId: null, timestampUs: 20 }];
    const one = [...foldLifetimes(new Map(), beats).values()];
    const two = [...foldLifetimes(new Map(), [...beats].reverse()).values()];
    assert.deepEqual(one, [{ resourceId: 'vm', projectId: 'q', firstUs: 1, lastUs: 9 }]);
    assert.deepEqual(two, one);
  });
});
