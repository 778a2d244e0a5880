// Hand-computed tables: Nova's events laid over heartbeats (T = 630 s, a poll every 5 min).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceRows, map, type InstanceRecord } from '../mapreduce.js';
import { spanForWindow } from '../span.js';
import { HOUR_US } from '../timestamp.js';
import type { NovaAction, NovaFlavor } from './decode.js';
import { novaInstanceRows } from './overlay.js';
import { timeline, type TimelineEvent } from './timeline.js';
import { mergeLifetimes, overlayRows } from './window.js';

const S = 1_000_000;
const MIN = 60 * S;
const T = 630 * S;
// 2026-11-02T10:00:00Z
const H10 = Date.parse('2026-11-02T10:00:00Z') * 1000;
const W = { startUs: H10, endUs: H10 + HOUR_US };
const at = (h: number, m: number, s = 0) => H10 + (h - 10) * HOUR_US + m * MIN + s * S;

const SMALL: NovaFlavor = { name: 'm1.small', flavorId: '2', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0 };
const MEDIUM: NovaFlavor = { name: 'm1.medium', flavorId: '3', vcpus: 2, memoryMb: 4096, rootGb: 40, ephemeralGb: 0 };

/** Heartbeats of vm-1 at these instants, with the flavor the agent's metadata shows. */
const beats = (ts: number[], f: NovaFlavor = SMALL): InstanceRecord[] =>
  ts.map((t) => ({ resourceId: 'vm-1', timestampUs: t, projectId: 'p1', userId: 'u1', flavorName: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, displayName: 'web' }));
let n = 0;
const ev = (action: NovaAction, t: number, flavor: NovaFlavor | null = SMALL, format: 'versioned' | 'legacy' = 'versioned'): TimelineEvent => ({ messageId: `m${++n}`, action, format, atUs: t, flavor });
const every5 = (from: number, to: number) => Array.from({ length: Math.floor((to - from) / (5 * MIN)) + 1 }, (_, i) => from + i * 5 * MIN);
const rows = (recs: InstanceRecord[], events: TimelineEvent[], w = W) => novaInstanceRows('vm-1', recs, timeline(events), w, T)
  .sort((a, b) => a.windowStart.getTime() - b.windowStart.getTime() || (a.meter < b.meter ? -1 : 1)).map((r) => [r.windowStart.toISOString().slice(11, 19), r.windowEnd.toISOString().slice(11, 19), r.meter, r.quantity, r.flavorName, r.samples]);

describe('Nova events over heartbeats', () => {
  it('a VM shut off for two days and then deleted: running ends at the power_off, the project span at the delete', () => {
    const hb = beats(every5(at(10, 1), at(10, 51)));
    const events = [ev('create', at(10, 0)), ev('power_off', at(10, 53, 30)), ev('delete', at(10, 53, 30) + 48 * HOUR_US)];
    // 10:00:00 (create) .. 10:53:30 (power_off): 3210 s; the heartbeats alone say 10:01 .. 10:51 = 3000 s.
    assert.deepEqual(rows(hb, events), [
      ['10:00:00', '11:00:00', 'instance', '3210', 'm1.small', 11],
      ['10:00:00', '11:00:00', 'instance.memory', String(2048 * 3210), 'm1.small', 11],
      ['10:00:00', '11:00:00', 'instance.vcpus', '3210', 'm1.small', 11],
    ]);
    assert.equal(instanceRows('vm-1', hb, W, T)[0]!.quantity, '3000');
    // The span: the whole first hour (from the create), every hour of the two days, 53.5 min of the last.
    const lives = mergeLifetimes([{ resourceId: 'vm-1', projectId: 'p1', firstUs: at(10, 1), lastUs: at(10, 51) }],
      [{ resourceId: 'vm-1', projectId: 'p1', startUs: at(10, 0), deletedUs: at(10, 53, 30) + 48 * HOUR_US, createdUs: at(9, 59, 50) }]);
    const span = (h: number) => spanForWindow(lives, { startUs: H10 + h * HOUR_US, endUs: H10 + (h + 1) * HOUR_US })[0]?.spanUs ?? 0;
    assert.deepEqual([span(0), span(1), span(24), span(47), span(48), span(49)], [3600 * S, 3600 * S, 3600 * S, 3600 * S, 3210 * S, 0]);
    // Before it is deleted the span is open: every hour while Nova has the VM.
    const open = mergeLifetimes([], [{ resourceId: 'vm-1', projectId: 'p1', startUs: at(10, 0), deletedUs: null, createdUs: null }]);
    assert.equal(spanForWindow(open, { startUs: H10 + 40 * HOUR_US, endUs: H10 + 41 * HOUR_US })[0]?.spanUs, 3600 * S);
  });

  it('a resize at 10:20 splits the hour exactly: 20 min at the old flavor, 40 min at the new one', () => {
    // Polls until 10:15 (m1.small), down while resizing, polls from 10:25 (m1.medium).
    const hb = [...beats(every5(at(10, 0), at(10, 15))), ...beats(every5(at(10, 25), at(11, 0)), MEDIUM)];
    const events = [ev('create', at(9, 0)), ev('resize_finish', at(10, 20), MEDIUM), ev('resize_confirm', at(10, 21), MEDIUM)];
    assert.deepEqual(rows(hb, events), [
      ['10:00:00', '10:20:00', 'instance', '1200', 'm1.small', 4],
      ['10:00:00', '10:20:00', 'instance.memory', String(2048 * 1200), 'm1.small', 4],
      ['10:00:00', '10:20:00', 'instance.vcpus', '1200', 'm1.small', 4],
      ['10:20:00', '11:00:00', 'instance', '2400', 'm1.medium', 7],
      ['10:20:00', '11:00:00', 'instance.memory', String(4096 * 2400), 'm1.medium', 7],
      ['10:20:00', '11:00:00', 'instance.vcpus', String(2 * 2400), 'm1.medium', 7],
    ]);
    // The heartbeats alone bill 10:15-10:25 at the old flavor and keep one row for the hour.
    assert.deepEqual(instanceRows('vm-1', hb, W, T).map((r) => [r.meter, r.quantity]), [['instance', '3600'], ['instance.vcpus', String(900 + 600 + 2 * 2100)], ['instance.memory', String(2048 * 1500 + 4096 * 2100)]]);
  });

  it('a shelve: off from shelve.end to unshelve.end, with the exact edges', () => {
    const hb = [...beats(every5(at(10, 0), at(10, 30))), ...beats([at(10, 48), at(10, 53), at(10, 58), at(11, 3)])];
    const events = [ev('create', at(9, 0)), ev('shelve', at(10, 32)), ev('shelve_offload', at(10, 32, 30)), ev('unshelve', at(10, 45))];
    // [10:00, 10:32) + [10:45, 11:00) = 32 + 15 min; the heartbeats alone: 30 + 12 min.
    assert.deepEqual(rows(hb, events)[0], ['10:00:00', '11:00:00', 'instance', String(47 * 60), 'm1.small', 10]);
    assert.equal(instanceRows('vm-1', hb, W, T)[0]!.quantity, String(42 * 60));
  });

  it('a delete before the last sample: the sample after the delete adds nothing, in whatever order they came', () => {
    const hb = beats(every5(at(10, 0), at(10, 15)));
    const events = [ev('create', at(9, 0)), ev('delete', at(10, 12, 30))];
    assert.deepEqual(rows(hb, events)[0], ['10:00:00', '11:00:00', 'instance', '750', 'm1.small', 4]);
    assert.deepEqual(rows([...hb].reverse().sort((a, b) => a.timestampUs - b.timestampUs), [...events].reverse())[0], ['10:00:00', '11:00:00', 'instance', '750', 'm1.small', 4]);
    // Without the last sample the power-off edge still ends it at the delete.
    assert.deepEqual(rows(hb.slice(0, 3), events)[0], ['10:00:00', '11:00:00', 'instance', '750', 'm1.small', 3]);
  });

  it('duplicates: redelivered events and their legacy twins change nothing', () => {
    const hb = beats(every5(at(10, 1), at(10, 51)));
    const once = [ev('create', at(10, 0)), ev('power_off', at(10, 53, 30))];
    const twice = [...once, ...once.map((e) => ({ ...e })), ev('create', at(10, 0, 1), SMALL, 'legacy'), ev('power_off', at(10, 53, 29), SMALL, 'legacy')];
    assert.deepEqual(rows(hb, twice), rows(hb, once));
    // A legacy event alone (a deployment with unversioned notifications) is used.
    assert.deepEqual(rows(hb, [ev('create', at(10, 0), SMALL, 'legacy'), ev('power_off', at(10, 53, 30), SMALL, 'legacy')]), rows(hb, once));
  });

  it('a stopped instance resized stays stopped: its heartbeats (a stale domain) add nothing', () => {
    const hb = beats(every5(at(10, 0), at(10, 55)));
    const events = [ev('create', at(9, 0)), ev('power_off', at(10, 10)), ev('resize_finish', at(10, 30), MEDIUM), ev('resize_confirm', at(10, 31), MEDIUM)];
    assert.deepEqual(rows(hb, events).filter((r) => r[2] === 'instance').map((r) => [r[0], r[1], r[3], r[4]]), [['10:00:00', '10:30:00', '600', 'm1.small'], ['10:30:00', '11:00:00', '0', 'm1.medium']]);
  });

  it('a power_off with nothing known before it keeps the heartbeats before and adds the edge', () => {
    const hb = beats(every5(at(10, 0), at(10, 40)));
    assert.deepEqual(rows(hb, [ev('power_off', at(10, 42))])[0], ['10:00:00', '11:00:00', 'instance', String(42 * 60), 'm1.small', 9]);
  });

  it('with no events the rows are exactly those of instanceRows (random heartbeats, 300 cases)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let c = 0; c < 300; c++) {
      const ts: number[] = [];
      for (let t = H10 - HOUR_US / 2 + Math.floor(rand() * 600) * S; t < H10 + 1.5 * HOUR_US; t += Math.floor(rand() * 900 + 30) * S + Math.floor(rand() * S)) ts.push(t);
      const recs = map(ts.map((t, i) => ({ ...beats([t], i % 7 === 0 ? MEDIUM : SMALL)[0]! }))).get('vm-1')?.records ?? [];
      const inRange = recs.filter((r) => r.timestampUs >= W.startUs - T && r.timestampUs < W.endUs + T);
      assert.deepEqual(novaInstanceRows('vm-1', inRange, [], W, T), instanceRows('vm-1', recs, W, T), `case ${c}`);
    }
  });

  it('overlayRows replaces only the instance rows of instances Nova told of', () => {
    const a = beats(every5(at(10, 0), at(10, 55)));
    const b = a.map((r) => ({ ...r, resourceId: 'vm-2' }));
    const base = [...instanceRows('vm-1', a, W, T), ...instanceRows('vm-2', b, W, T), { ...instanceRows('vm-1', a, W, T)[0]!, meter: 'cpu', unit: 'ns', quantity: '5' }];
    const out = overlayRows(base, [...a, ...b], new Map([['vm-1', timeline([ev('delete', at(10, 30))])]]), W, T);
    assert.deepEqual(out.filter((r) => r.meter === 'instance').map((r) => [r.resourceId, r.quantity]), [['vm-1', '1800'], ['vm-2', String(55 * 60)]]);
    assert.ok(out.some((r) => r.resourceId === 'vm-1' && r.meter === 'cpu'), 'measured meters are kept');
  });
});
