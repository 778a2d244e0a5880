// Nova's notifications as Nova Zed sent them on the bus (test/fixtures/nova-notifications.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ValidationError } from '@tally/common';
import { formatTimestampUs } from '../timestamp.js';
import { decodeNotification, type NovaEvent } from './decode.js';
import { effectiveEvents, stateAt, timeline } from './timeline.js';

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/nova-notifications.json', import.meta.url), 'utf8')) as { server: string; bodies: string[] };
const decoded = fixture.bodies.map((b) => decodeNotification(b));
const events = decoded.flatMap((d) => (d.kind === 'event' ? [d.event] : []));

describe("Nova's real notifications", () => {
  it('every action of the server is decoded in both formats; other event types are ignored', () => {
    assert.deepEqual(decoded.filter((d) => d.kind === 'ignored').map((d) => d.kind === 'ignored' && d.eventType).sort(),
      ['compute.instance.update', 'instance.create.start', 'instance.exists', 'instance.update', 'scheduler.select_destinations.start']);
    assert.deepEqual(events.map((e) => `${e.format}:${e.action}`), [
      'legacy:create', 'versioned:create', 'legacy:power_off', 'versioned:power_off', 'legacy:power_on', 'versioned:power_on',
      'legacy:resize_finish', 'versioned:resize_finish', 'legacy:resize_confirm', 'versioned:resize_confirm', 'legacy:shelve', 'versioned:shelve',
      'legacy:shelve_offload', 'versioned:shelve_offload', 'legacy:unshelve', 'versioned:unshelve', 'legacy:delete', 'versioned:delete',
    ]);
    for (const e of events) {
      assert.equal(e.instanceId, fixture.server);
      assert.equal(e.projectId, 'd100ae691d5347598c49119bb3d159af');
      assert.equal(e.userId, '8d010485003d45d79693a889dc6a1364');
      assert.equal(e.displayName, 'vm1');
      assert.equal(formatTimestampUs(e.createdUs!), '2026-12-04T02:36:26.000000Z', `${e.eventType} created_at`);
    }
    const v = (a: string) => events.find((e) => e.format === 'versioned' && e.action === a) as NovaEvent;
    assert.equal(formatTimestampUs(v('create').atUs), '2026-12-04T02:36:29.731397Z');
    assert.deepEqual(v('create').flavor, { name: 'm1.tiny', flavorId: '1', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 });
    assert.deepEqual(v('resize_finish').flavor, { name: 'm1.small', flavorId: '2', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0 });
    const legacy = events.find((e) => e.format === 'legacy' && e.action === 'resize_finish')!;
    assert.deepEqual(legacy.flavor, v('resize_finish').flavor, 'the legacy payload gives the same flavor');
  });

  it("the timeline: the versioned event of each twin counts; state and flavor at Nova's instants", () => {
    assert.deepEqual(effectiveEvents(events).map((e) => e.format), Array(9).fill('versioned'));
    const tl = timeline(events);
    assert.deepEqual(tl.map((t) => [formatTimestampUs(t.atUs).slice(17, 26), t.action, t.state, t.flavor?.name, t.flavorChanged]), [
      ['29.731397', 'create', 'on', 'm1.tiny', false],
      ['30.953459', 'power_off', 'off', 'm1.tiny', false],
      ['32.011260', 'power_on', 'on', 'm1.tiny', false],
      ['37.719903', 'resize_finish', 'on', 'm1.small', true],
      ['39.820625', 'resize_confirm', 'on', 'm1.small', false],
      ['42.532212', 'shelve', 'off', 'm1.small', false],
      ['43.150946', 'shelve_offload', 'off', 'm1.small', false],
      ['45.720234', 'unshelve', 'on', 'm1.small', false],
      ['46.964504', 'delete', 'deleted', 'm1.small', false],
    ]);
    assert.equal(stateAt(tl, tl[0]!.atUs - 1).state, 'unknown');
    assert.equal(stateAt(tl, tl[8]!.atUs + 3_600_000_000).state, 'deleted');
    // A deployment with only the legacy format gets the same states and flavors.
    const legacy = timeline(events.filter((e) => e.format === 'legacy'));
    assert.deepEqual(legacy.map((t) => [t.state, t.flavor?.name]), tl.map((t) => [t.state, t.flavor?.name]));
  });

  it('a body that cannot be used names the field; an untracked event type is no error', () => {
    const env = (m: Record<string, unknown>) => JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(m) });
    const good = JSON.parse(JSON.parse(fixture.bodies.find((b) => b.includes('instance.delete.end') && !b.includes('compute.instance'))!)['oslo.message'] as string) as Record<string, any>;
    const cases: [string | Buffer, string][] = [
      ['not json', 'body'],
      [JSON.stringify({ 'oslo.message': 5 }), 'oslo.message'],
      [env({ payload: {} }), 'event_type'],
      [env({ ...good, message_id: undefined }), 'message_id'],
      [env({ ...good, timestamp: 'yesterday' }), 'timestamp'],
      [env({ ...good, payload: { 'nova_object.data': { ...good['payload']['nova_object.data'], uuid: '' } } }), 'payload.nova_object.data.uuid'],
      [env({ ...good, payload: { 'nova_object.data': { ...good['payload']['nova_object.data'], tenant_id: 7 } } }), 'payload.nova_object.data.tenant_id'],
      [env({ ...good, payload: 'x' }), 'payload'],
      [env({ event_type: 'compute.instance.create.end', message_id: 'x', timestamp: '2026-12-04 02:36:29', payload: { instance_id: 'i', tenant_id: 't', vcpus: -1 } }), 'payload.vcpus'],
    ];
    for (const [body, field] of cases) {
      assert.throws(() => decodeNotification(body), (e: unknown) => e instanceof ValidationError && e.field === field, `${field}: ${String(body).slice(0, 60)}`);
    }
    assert.deepEqual(decodeNotification(env({ event_type: 'instance.rebuild.end', payload: {} })), { kind: 'ignored', eventType: 'instance.rebuild.end' });
    // A v1 body without the envelope decodes too.
    const v1 = decodeNotification(JSON.stringify(good));
    assert.equal(v1.kind === 'event' && v1.event.action, 'delete');
  });
});
