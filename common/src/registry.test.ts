import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from './errors.js';
import { memoryLogger } from './log.js';
import { encodeHeartbeat, parseHeartbeat, startHeartbeat, type ComponentHeartbeat } from './registry.js';

const good: ComponentHeartbeat = {
  id: 'agent:compute-1', role: 'agent', cluster: 'agent', node: 'compute-1', version: '0.1.0', endpoints: { metrics: 'http://10.0.0.1:9464/metrics' },
  state: 'running', startedAt: '2026-12-04T10:00:00.000Z', at: '2026-12-04T10:00:10.000Z', load: null, metrics: { samples: 10 },
};

test('a heartbeat survives its wire form; bad ones are refused naming the field', () => {
  assert.deepEqual(parseHeartbeat(encodeHeartbeat(good)), good);
  const bad = (patch: Record<string, unknown>, field: string) => {
    assert.throws(() => parseHeartbeat(Buffer.from(JSON.stringify({ ...good, ...patch }))), (e: unknown) => e instanceof ValidationError && e.field === field);
  };
  bad({ role: 'wizard' }, 'role');
  bad({ state: 'lost' }, 'state');
  bad({ id: 'a b' }, 'id');
  bad({ at: 'yesterday' }, 'at');
  bad({ load: { cpuPercent: -1 } }, 'load.cpuPercent');
  bad({ metrics: { lag: 'high' } }, 'metrics.lag');
  bad({ endpoints: { api: 5 } }, 'endpoints.api');
  assert.throws(() => parseHeartbeat(Buffer.from('{')), (e: unknown) => e instanceof ValidationError && e.field === 'body');
});

test('startHeartbeat sends at start and on each interval, survives a failing sink, and deregisters on stop', async () => {
  const sent: ComponentHeartbeat[] = [];
  let fail = true;
  const log = memoryLogger();
  const loop = startHeartbeat({
    sink: (h) => (fail ? Promise.reject(new Error('db down')) : (sent.push(h), Promise.resolve())),
    log, readLoad: () => null, metrics: () => ({ n: sent.length }),
  }, { id: 'an-1', role: 'analyzer', cluster: '', version: '1' }, 20);
  await new Promise((r) => setTimeout(r, 70));
  fail = false;
  await new Promise((r) => setTimeout(r, 60));
  await loop.beat('draining');
  await loop.stop();
  assert.equal(log.lines.filter((l) => l.msg.startsWith('heartbeat not delivered')).length, 1, 'one warning per outage');
  assert.ok(sent.length >= 3);
  assert.equal(sent[0]!.cluster, 'analyzer');
  assert.deepEqual(sent.slice(-2).map((h) => h.state), ['draining', 'stopped']);
});
