/**
 * The scheduler's routes over HTTP (noauth, acting as an admin): components, alerts and
 * their acknowledgement (audited), scaling policies validated with the field named,
 * versioned and audited, and the clusters view.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger, migrate, raiseAlert } from '@tally/common';
import { recordHeartbeat, schedulerMigrations } from '@tally/scheduler';
import { startApi, type RunningApi } from '../src/server.js';
import { billingMigrations } from '../src/policy.js';
import { freshDatabase, type TestDb } from './helpers.js';

let t: TestDb;
let api: RunningApi;

before(async () => {
  t = await freshDatabase('schedapi');
  await migrate(t.db, [...billingMigrations, ...schedulerMigrations]);
  api = await startApi({ db: t.db, log: memoryLogger(), auth: 'noauth' }, { host: '127.0.0.1', port: 0 });
});
after(async () => {
  await api?.close();
  await t?.drop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(api.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const hb = (id: string, role: 'agent' | 'analyzer', at: string) => ({
  id, role, cluster: role, node: 'node-1', version: '0.1.0', endpoints: {}, state: 'running' as const, startedAt: '2026-12-04T09:00:00.000Z', at, metrics: { ack_rate: 2 },
  load: { cpuPercent: 12.5, memoryPercent: 40, memoryTotalBytes: 1, diskReadBytesPerS: 0, diskWriteBytesPerS: 0, netInBytesPerS: 0, netOutBytesPerS: 0, processCpuPercent: 3, processRssBytes: 9, cpus: 2 },
});

describe('scheduler routes', () => {
  test('GET /v1/components lists registered parts and filters them; a bad filter is a 400 naming it', async () => {
    await recordHeartbeat(t.db, hb('agent:node-1', 'agent', '2026-12-04T10:00:00.000Z'));
    await recordHeartbeat(t.db, hb('an-1', 'analyzer', '2026-12-04T10:00:00.000Z'));
    const all = await call('GET', '/v1/components');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.components.map((c: any) => [c.id, c.role, c.state, c.load.cpuPercent]), [['agent:node-1', 'agent', 'running', 12.5], ['an-1', 'analyzer', 'running', 12.5]]);
    assert.deepEqual((await call('GET', '/v1/components?role=analyzer')).body.components.map((c: any) => c.id), ['an-1']);
    for (const [q, field] of [['role=wizard', 'role'], ['state=gone', 'state'], ['colour=red', 'colour'], ['cluster=a%20b', 'cluster']]) {
      const r = await call('GET', `/v1/components?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error.field, field);
    }
  });

  test('GET /v1/alerts and acknowledgement: the acknowledger is recorded and audited', async () => {
    const { id } = await raiseAlert(t.db, { key: 'component-lost:an-9', kind: 'component_lost', severity: 'critical', source: 'scheduler', message: 'an-9 is silent' });
    const open = await call('GET', '/v1/alerts?state=unacknowledged');
    assert.deepEqual(open.body.alerts.map((a: any) => [a.id, a.kind, a.acknowledged_at]), [[id, 'component_lost', null]]);
    const ack = await call('POST', `/v1/alerts/${id}/acknowledge`);
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.ok(ack.body.alert.acknowledged_at);
    assert.deepEqual((await call('GET', '/v1/alerts?state=unacknowledged')).body.alerts, []);
    assert.equal((await call('GET', '/v1/alerts')).body.alerts.length, 1, 'acknowledged, still open');
    assert.equal((await call('POST', '/v1/alerts/999999/acknowledge')).status, 404);
    assert.equal((await call('POST', '/v1/alerts/x1/acknowledge')).body.error.field, 'alert_id');
    assert.equal((await call('GET', '/v1/alerts?state=closed')).body.error.field, 'state');
    const audit = await call('GET', '/v1/audit?target_type=alert');
    assert.deepEqual(audit.body.events.map((e: any) => [e.action, e.target_id]), [['alert.acknowledge', id]]);
  });

  test('scaling policies: validated naming the field, stored as versions, audited, deleted back to the default', async () => {
    const bad = await call('PUT', '/v1/scaling-policies/analyzer', { source: 'max_size: 3\nscale_out:\n  when_any: ["avg cpu_percent > 70 over soon"]\n' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'scale_out.when_any[0].over');
    const v = await call('POST', '/v1/scaling-policies/validate', { source: 'min_size: 4\nmax_size: 2' });
    assert.deepEqual(v.body, { valid: false, field: 'max_size', message: 'max_size: must be at least min_size (4)' });
    assert.deepEqual((await call('POST', '/v1/scaling-policies/validate', { source: 'max_size: 2' })).body, { valid: true });
    assert.equal((await call('PUT', '/v1/scaling-policies/analyzer', { source: 'max_size: 2', extra: 1 })).body.error.field, 'extra');
    const text = 'min_size: 1\nmax_size: 5\nscale_out:\n  when_any: ["avg queue_depth_per_replica > 1000 over 1m"]\n';
    const put = await call('PUT', '/v1/scaling-policies/analyzer', { source: text });
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.deepEqual([put.body.cluster, put.body.version, put.body.source, put.body.created_by], ['analyzer', 1, text, 'noauth']);
    assert.equal((await call('PUT', '/v1/scaling-policies/analyzer', { source: text.replace('5', '6') })).body.version, 2);
    const versions = await call('GET', '/v1/scaling-policies/analyzer');
    assert.deepEqual(versions.body.versions.map((x: any) => x.version), [2, 1]);
    const clusters = await call('GET', '/v1/scheduler/clusters');
    const c = clusters.body.clusters.find((x: any) => x.cluster === 'analyzer');
    assert.deepEqual([c.policy.label, c.policy.max_size, c.size, c.members.map((m: any) => [m.name, m.managed, m.load.cpuPercent])], ['analyzer v2', 6, 1, [['an-1', false, 12.5]]]);
    assert.deepEqual((await call('GET', '/v1/audit?target_type=scaling_policy')).body.events.map((e: any) => [e.action, e.target_id]),
      [['scaling_policy.version.add', 'analyzer v2'], ['scaling_policy.version.add', 'analyzer v1']]);
    assert.equal((await call('DELETE', '/v1/scaling-policies/analyzer')).status, 204);
    assert.equal((await call('GET', '/v1/scaling-policies/analyzer')).status, 404);
    assert.equal((await call('GET', '/v1/scheduler/clusters')).body.clusters.find((x: any) => x.cluster === 'analyzer').policy.label, 'default v0');
    assert.equal((await call('DELETE', '/v1/scaling-policies/analyzer')).status, 404);
    assert.deepEqual((await call('GET', '/v1/scheduler/decisions?cluster=analyzer')).body, { decisions: [] });
    assert.equal((await call('GET', '/v1/scheduler/actions?limit=0')).body.error.field, 'limit');
  });
});
