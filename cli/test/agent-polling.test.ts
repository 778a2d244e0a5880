/** `tally agent --polling-config`: a Ceilometer polling.yaml selects the meters; a bad one is refused naming the field. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createLogger, type Delivery } from '@tally/common';
import { decodeNotification, type PyDict } from '@tally/ceilometer-publisher';
import { AMQP_URL, tally, eventually } from './helpers.js';

test('tally agent --once --polling-config polls the meters the file names, and refuses a bad file', { timeout: 60_000 }, async (t) => {
  const id = randomBytes(4).toString('hex');
  const exchange = `tally-polling-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'tally-polling-'));
  const bus = await AmqpBus.connect(AMQP_URL, createLogger('test', { level: 'error' }));
  const queue = `tally.polling.${id}`;
  t.after(async () => {
    await bus.deleteQueue(queue).catch(() => undefined);
    await bus.deleteExchange(exchange).catch(() => undefined);
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const got: Delivery[] = [];
  await bus.consume({ name: queue, durable: false, bindings: [{ exchange: { name: exchange, type: 'topic', durable: false, autoDelete: false }, routingKey: 'notifications.sample' }] }, { prefetch: 50 }, async (d) => { got.push(d); return 'ack'; });
  writeFileSync(join(dir, 'polling.yaml'), 'sources:\n  - name: billing\n    interval: 600\n    meters: [cpu, "disk.device.*.bytes"]\n');
  writeFileSync(join(dir, 'bad.yaml'), 'sources:\n  - name: billing\n    interval: 600\n    meters: [cpu, "!memory.*"]\n');
  const common = ['--amqp-url', AMQP_URL, '--control-exchange', exchange, '--journal-dir', join(dir, 'journal'), '--sim-vms', '3'];

  const ok = tally(['agent', '--once', ...common, '--polling-config', join(dir, 'polling.yaml')]);
  assert.equal(await ok.exited, 0, ok.output());
  const messages = Number(/^\{"messages":(\d+)/m.exec(ok.output())![1]);
  await eventually('the messages', 10_000, async () => (got.length === messages ? true : undefined)).catch((e: Error) => { throw new Error(`${e.message}: got ${got.length} of ${messages}; ${ok.output().slice(-500)}`); });
  const names = new Set(got.flatMap((d) => ((decodeNotification(d.body)['payload'] as PyDict)['samples'] as PyDict[]).map((s) => s['counter_name'])));
  assert.deepEqual([...names].sort(), ['cpu', 'disk.device.read.bytes', 'disk.device.write.bytes']);

  const bad = tally(['agent', '--once', ...common, '--polling-config', join(dir, 'bad.yaml')]);
  assert.equal(await bad.exited, 1);
  assert.match(bad.output(), /sources\[0\]\.meters: both included and excluded meters specified/);
});
