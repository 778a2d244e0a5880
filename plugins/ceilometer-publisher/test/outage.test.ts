// Outage: the agent publishes to the real RabbitMQ through a TCP proxy the test
// controls; the proxy is cut for several polling cycles and restored. Every
// polled sample must arrive, and the distinct sample message ids must equal the
// count polled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createLogger, memoryLogger, defaults } from '@tally/common';
import { AcceleratedClock, Journal, SimulatedFleet, agentOptions, controlExchange, decodeNotification, runAgent, type PyDict } from '../src/index.js';
import { startProxy } from './fixtures/tcp-proxy.js';

const AMQP = new URL(process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('agent loses nothing while the connection to RabbitMQ is cut for several cycles', async (t) => {
  const suffix = randomBytes(4).toString('hex');
  const exchange = controlExchange(`tally-outage-${suffix}`);
  const queue = { name: `tally-outage-${suffix}`, durable: false, bindings: [{ exchange, routingKey: 'notifications.sample' }] };
  const quiet = createLogger('test', { level: 'error' });
  const proxy = await startProxy(Number(AMQP.port || 5672), AMQP.hostname);
  t.after(() => proxy.close());
  const dir = mkdtempSync(join(tmpdir(), 'tally-outage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The consumer talks to the broker directly.
  const direct = await AmqpBus.connect(AMQP.href, quiet);
  t.after(async () => {
    await direct.deleteQueue(queue.name).catch(() => undefined);
    await direct.deleteExchange(exchange.name).catch(() => undefined);
    await direct.close();
  });
  await direct.declareQueue(queue);
  const received = new Map<string, number>();
  const cpuOrder: string[] = [];
  let deliveries = 0;
  const uniqueIds = new Set<string>();
  await direct.consume(queue, { prefetch: 1 }, async (d) => {
    deliveries++;
    const msg = decodeNotification(d.body);
    uniqueIds.add(msg['_unique_id'] as string);
    for (const s of (msg['payload'] as PyDict)['samples'] as PyDict[]) {
      const id = s['message_id'] as string;
      received.set(id, (received.get(id) ?? 0) + 1);
      if (s['counter_name'] === 'cpu' && received.get(id) === 1) cpuOrder.push(s['timestamp'] as string);
    }
    return 'ack';
  });

  const proxyUrl = new URL(AMQP.href);
  proxyUrl.hostname = '127.0.0.1';
  proxyUrl.port = String(proxy.port);
  const agentBus = await AmqpBus.connect(proxyUrl.href, quiet);
  t.after(() => agentBus.close());

  const log = memoryLogger();
  const clock = new AcceleratedClock(1_000, 7 * 86_400_000); // a 300 s polling interval takes 0.3 s (for the 10 min of backfill)
  const fleet = new SimulatedFleet({ vms: 5, projects: 2, seed: 'outage', clock });
  const journal = Journal.open({ dir, maxBytes: 64 << 20, retentionMs: 0 }, log);
  const { libvirtUri: _u, once: _o, ...base } = defaults(agentOptions);
  let polled = 0;
  let cycles = 0;
  const handle = runAgent(
    { hypervisor: fleet, bus: agentBus, log, clock, exchange, journal },
    { ...base, host: 'compute-outage', pollingInterval: 300_000, publishTimeout: 2_000, retryInterval: 100 },
    (r) => { polled += r.samples; cycles++; },
  );
  t.after(() => handle.stop());

  await until('two cycles before the outage', () => cycles >= 2 && received.size === polled).catch((e) => { console.error({ cycles, polled, got: received.size, depth: journal.depth, stats: handle.sender.stats, log: log.lines.filter((l) => l.level !== 'debug').slice(0, 8) }); throw e; });
  proxy.cut();
  const cutAt = cycles;
  await until('four cycles during the outage', () => cycles >= cutAt + 4);
  assert.ok(journal.depth.messages > 0, 'samples of the outage wait in the journal');
  const duringOutage = received.size;
  assert.ok(duringOutage < polled, 'nothing got through while cut');
  proxy.restore();
  const backAt = cycles;
  await until('two cycles after the outage', () => cycles >= backAt + 2);
  await handle.stop();
  await until('every polled sample delivered', () => received.size === polled && journal.depth.messages === 0);

  assert.equal(received.size, polled, 'distinct sample message ids == samples polled');
  assert.equal(journal.stats.droppedSamples, 0);
  assert.equal(uniqueIds.size, deliveries, 'every publish carried a fresh _unique_id');
  assert.ok(handle.sender.stats.outages >= 1 && handle.sender.stats.failedAttempts >= 1);
  assert.deepEqual([...cpuOrder].sort(), cpuOrder, 'replayed in order');
  assert.ok(log.lines.some((l) => l.level === 'error' && /bus unavailable/.test(l.msg)));
  assert.ok(log.lines.some((l) => /bus back/.test(l.msg)));
  journal.close();
});
