import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hoursCovering, rawFilePath, rawHourPrefix, safeAnalyzerId } from './layout.js';
import { Lru } from './lru.js';
import { parseTimestampUs as ts } from './timestamp.js';
import { windowsTouched } from './windows.js';

describe('DFS layout', () => {
  it('names hourly partitions in UTC', () => {
    assert.equal(rawHourPrefix(ts('2026-11-21T20:12:51.393428')), 'raw/dt=2026-11-21/hour=20/');
    assert.equal(rawHourPrefix(ts('2026-11-21T00:30:00+01:00')), 'raw/dt=2026-11-20/hour=23/');
    assert.equal(rawFilePath(ts('2026-11-21T09:00:00'), 'host-1/x', 42), 'raw/dt=2026-11-21/hour=09/host-1_x-0000000000000042.jsonl');
    assert.equal(safeAnalyzerId('..evil'), '_evil');
  });

  it('lists the hours covering a range', () => {
    assert.deepEqual(hoursCovering(ts('2026-11-21T19:49:30'), ts('2026-11-21T21:10:30')), [ts('2026-11-21T19:00:00'), ts('2026-11-21T20:00:00'), ts('2026-11-21T21:00:00')]);
    assert.deepEqual(hoursCovering(ts('2026-11-21T20:00:00'), ts('2026-11-21T21:00:00')), [ts('2026-11-21T20:00:00')]);
  });
});

describe('windowsTouched', () => {
  const T = 630_000_000;
  it('marks only its hour when far from both edges', () => {
    assert.deepEqual(windowsTouched(ts('2026-11-21T20:30:00'), T), [ts('2026-11-21T20:00:00')]);
  });
  it('marks the previous hour within the threshold of the hour start', () => {
    // A neighbour at 19:59:59.999999 is 629.999999 s away: below the threshold.
    assert.deepEqual(windowsTouched(ts('2026-11-21T20:10:29.999998'), T), [ts('2026-11-21T19:00:00'), ts('2026-11-21T20:00:00')]);
    // The earliest counted neighbour is 20:00:00 itself: nothing of the interval lies in 19:00.
    assert.deepEqual(windowsTouched(ts('2026-11-21T20:10:29.999999'), T), [ts('2026-11-21T20:00:00')]);
  });
  it('marks the next hour within the threshold of the hour end (a later sample may have come first)', () => {
    // A neighbour at 21:00:00.000001 is 629.999999 s away: 1 µs of the interval lies in 21:00.
    assert.deepEqual(windowsTouched(ts('2026-11-21T20:49:30.000002'), T), [ts('2026-11-21T20:00:00'), ts('2026-11-21T21:00:00')]);
    assert.deepEqual(windowsTouched(ts('2026-11-21T20:49:30.000001'), T), [ts('2026-11-21T20:00:00')]);
  });
});

describe('Lru', () => {
  it('forgets the oldest key beyond capacity; set refreshes a key', () => {
    const l = new Lru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    l.set('a', 3);
    l.set('c', 4);
    assert.equal(l.get('b'), undefined);
    assert.equal(l.get('a'), 3);
    assert.equal(l.get('c'), 4);
    assert.equal(l.size, 2);
  });
});
