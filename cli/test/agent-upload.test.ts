/**
 * `tally agent --once` journals and publishes to the real RabbitMQ; then
 * `tally agent upload --since … --until …` re-publishes the same samples from
 * the journal's retained store, and `--upload-via-bus` sends the control message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createLogger, type Delivery } from '@tally/common';
import { AGENT_CONTROL_EXCHANGE, SIM_FLAVORS, decodeNotification, parseUploadRequest, uploadKey, writeTestNodeFile, type PyDict } from '@tally/ceilometer-publisher';
import { AMQP_URL, tally, eventually } from './helpers.js';

const small = SIM_FLAVORS[1]!;

test('tally agent upload re-publishes the journaled samples of a range', { timeout: 60_000 }, async (t) => {
  const id = randomBytes(4).toString('hex');
  const exchange = `tally-upload-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'tally-upload-'));
  const bus = await AmqpBus.connect(AMQP_URL, createLogger('test', { level: 'error' }));
  const ex = { name: exchange, type: 'topic' as const, durable: false, autoDelete: false };
  const queues = [`tally.upload.${id}.capture`, `tally.upload.${id}.control`];
  t.after(async () => {
    for (const q of queues) await bus.deleteQueue(q).catch(() => undefined);
    await bus.deleteExchange(exchange).catch(() => undefined);
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const captured: Delivery[] = [];
  await bus.consume({ name: queues[0]!, durable: false, bindings: [{ exchange: ex, routingKey: 'notifications.sample' }] }, { prefetch: 100 }, async (d) => { captured.push(d); return 'ack'; });
  const control: Delivery[] = [];
  await bus.consume({ name: queues[1]!, durable: false, bindings: [{ exchange: AGENT_CONTROL_EXCHANGE, routingKey: uploadKey(`upload-${id}`) }] }, { prefetch: 10 }, async (d) => { control.push(d); return 'ack'; });

  const uri = writeTestNodeFile(join(dir, 'node.xml'), [{
    uuid: `d0d0d0d0-0000-4000-8000-0000${id}`, name: 'instance-00000301', displayName: 'up-1', flavor: small, userId: 'u', projectId: 'p', state: 'running',
    disks: [{ dev: 'vda' }], nics: [{ tap: 'tap0d0d0d0d-00', mac: 'fa:16:3e:00:03:01' }],
  }]);
  const common = ['--amqp-url', AMQP_URL, '--control-exchange', exchange, '--journal-dir', join(dir, 'journal')];
  const since = new Date(Date.now() - 60_000).toISOString();
  const agent = tally(['agent', '--once', ...common, '--libvirt-uri', uri, '--agent-host', `upload-${id}`]);
  assert.equal(await agent.exited, 0, agent.output());
  const polled = Number(/^\{"messages":\d+,"samples":(\d+)/m.exec(agent.output())![1]);
  assert.ok(polled > 10);
  const ids = (ds: Delivery[]) => ds.flatMap((d) => ((decodeNotification(d.body)['payload'] as PyDict)['samples'] as PyDict[]).map((s) => s['message_id'] as string));
  await eventually('the first cycle', 10_000, async () => (ids(captured).length === polled ? true : undefined));
  const first = ids(captured).sort();

  const until = new Date(Date.now() + 60_000).toISOString();
  const up = tally(['agent', 'upload', ...common, '--since', since, '--until', until]);
  assert.equal(await up.exited, 0, up.output());
  assert.match(up.output(), new RegExp(`"samples":${polled}\\b`));
  await eventually('the uploaded samples', 10_000, async () => (ids(captured).length === 2 * polled ? true : undefined));
  assert.deepEqual(ids(captured).slice(polled).sort(), first, 'the same samples again (same ids, so consumers deduplicate)');

  const empty = tally(['agent', 'upload', ...common, '--since', until, '--until', new Date(Date.now() + 120_000).toISOString()]);
  assert.equal(await empty.exited, 0, empty.output());
  assert.match(empty.output(), /"samples":0/);

  const bad = tally(['agent', 'upload', ...common, '--since', since]);
  assert.equal(await bad.exited, 1);
  assert.match(bad.output(), /until: required/);

  const viaBus = tally(['agent', 'upload', ...common, '--since', since, '--until', until, '--upload-via-bus', '--upload-host', `upload-${id}`]);
  assert.equal(await viaBus.exited, 0, viaBus.output());
  await eventually('the control message', 10_000, async () => (control.length === 1 ? true : undefined));
  assert.deepEqual(parseUploadRequest(control[0]!.body), { since: new Date(since), until: new Date(until) });
});
