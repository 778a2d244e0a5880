// Publish order against the real RabbitMQ, through a TCP proxy the test cuts:
// the journal must reach the broker in journal order (first arrival of every
// message), across reconnects and across a connection lost mid-window. The
// outage test sees only one message per cycle of cpu samples, so it caught a
// reordering only when load made a window straddle two cycles; here every
// message is checked, and the cuts are made where the races are (the first
// window on a fresh connection, and a window in flight).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createLogger, memoryLogger } from '@tally/common';
import { Journal, JournalSender, controlExchange, decodeNotification, type PyDict } from '../src/index.js';
import { startProxy, type TcpProxy } from './fixtures/tcp-proxy.js';

const AMQP = new URL(process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = createLogger('test', { level: 'error' });

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A private exchange and queue, a consumer recording the first arrival of each sample id, and the agent's bus through a proxy. */
async function rig(t: TestContext): Promise<{ proxy: TcpProxy; bus: AmqpBus; firstArrivals: number[]; uniqueIds: Set<string>; deliveries: () => number; exchange: ReturnType<typeof controlExchange> }> {
  const suffix = randomBytes(4).toString('hex');
  const exchange = controlExchange(`tally-order-${suffix}`);
  const queue = { name: `tally-order-${suffix}`, durable: false, bindings: [{ exchange, routingKey: 'notifications.sample' }] };
  const proxy = await startProxy(Number(AMQP.port || 5672), AMQP.hostname);
  t.after(() => proxy.close());
  const direct = await AmqpBus.connect(AMQP.href, quiet);
  t.after(async () => {
    await direct.deleteQueue(queue.name).catch(() => undefined);
    await direct.deleteExchange(exchange.name).catch(() => undefined);
    await direct.close();
  });
  await direct.declareQueue(queue);
  const seen = new Set<string>();
  const firstArrivals: number[] = [];
  const uniqueIds = new Set<string>();
  let deliveries = 0;
  await direct.consume(queue, { prefetch: 1 }, async (d) => {
    deliveries++;
    const msg = decodeNotification(d.body);
    uniqueIds.add(msg['_unique_id'] as string);
    for (const s of (msg['payload'] as PyDict)['samples'] as PyDict[]) {
      const id = s['message_id'] as string;
      if (!seen.has(id)) firstArrivals.push(Number(id.slice(1)));
      seen.add(id);
    }
    return 'ack';
  });
  const url = new URL(AMQP.href);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const bus = await AmqpBus.connect(url.href, quiet);
  t.after(() => bus.close());
  return { proxy, bus, firstArrivals, uniqueIds, deliveries: () => deliveries, exchange };
}

const records = (from: number, n: number): PyDict[][] =>
  Array.from({ length: n }, (_, i) => [{ counter_name: 'cpu', counter_volume: BigInt(from + i), timestamp: '2026-01-01T10:00:00', message_id: `m${from + i}` }]);

const inversions = (xs: number[]): number => xs.filter((x, i) => i > 0 && x < xs[i - 1]!).length;

test('the journal reaches the broker in journal order after every reconnect (first window on a fresh connection)', async (t) => {
  const r = await rig(t);
  const journal = Journal.open({ maxBytes: 64 << 20, retentionMs: 0 }, memoryLogger());
  const sender = new JournalSender({ journal, bus: r.bus, exchange: r.exchange, log: memoryLogger() }, { publishTimeout: 10_000, retryInterval: 10, publishWindow: 32 });
  const rounds = 6;
  const perRound = 40;
  for (let round = 0; round < rounds; round++) {
    journal.append(records(round * perRound, perRound));
    assert.equal(await sender.flush(), perRound);
    // Drop the connection: the next flush reconnects, with nothing declared and no confirm channel yet.
    r.proxy.cut();
    r.proxy.restore();
    await sleep(20);
  }
  await until('every message delivered', () => r.firstArrivals.length === rounds * perRound);
  assert.equal(inversions(r.firstArrivals), 0, `first arrivals out of journal order: ${r.firstArrivals.slice(0, 80).join(',')}…`);
  assert.deepEqual(r.firstArrivals, Array.from({ length: rounds * perRound }, (_, i) => i));
});

test('a connection lost with a window in flight: the rest is re-sent after the first unconfirmed message, never ahead of it', async (t) => {
  const r = await rig(t);
  const log = memoryLogger();
  const journal = Journal.open({ maxBytes: 64 << 20, retentionMs: 0 }, log);
  const sender = new JournalSender({ journal, bus: r.bus, exchange: r.exchange, log }, { publishTimeout: 10_000, retryInterval: 10, publishWindow: 32 });
  const total = 600;
  journal.append(records(0, total));
  const ctl = new AbortController();
  const running = sender.run(ctl.signal);
  t.after(async () => { ctl.abort(); await running; });
  // Cut the connection several times while windows are in flight; the bus comes back at once,
  // so publishes of the lost window that were not sent yet would reconnect and overtake it.
  for (const at of [60, 200, 350, 480]) {
    await until(`${at} confirmed`, () => sender.stats.published >= at);
    r.proxy.cut();
    r.proxy.restore();
  }
  await until('journal drained', () => journal.depth.messages === 0);
  await until('every message delivered', () => r.firstArrivals.length === total);
  assert.ok(sender.stats.failedAttempts >= 1, 'the cuts made publishes fail');
  assert.equal(inversions(r.firstArrivals), 0, `first arrivals out of journal order: ${r.firstArrivals.slice(0, 80).join(',')}…`);
  assert.equal(r.uniqueIds.size, r.deliveries(), 'every publish, retries included, had a fresh _unique_id');
});
