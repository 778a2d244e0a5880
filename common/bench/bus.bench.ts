import { InProcessBus, AmqpBus, bench, benchHeader, createLogger, type Bus } from '@tally/common';

const N = 20_000;
const body = Buffer.alloc(1024, 'x');

async function roundTrip(bus: Bus, tag: string): Promise<void> {
  const ex = { name: `tally.bench.${tag}`, type: 'topic' as const, durable: false, autoDelete: false };
  const q = { name: `tally.bench.${tag}.q`, durable: true, bindings: [{ exchange: ex, routingKey: 'k' }] };
  let got = 0;
  let done: () => void = () => undefined;
  const c = await bus.consume(q, { prefetch: 1000 }, () => {
    if (++got === N) done();
    return Promise.resolve('ack');
  });
  const all = new Promise<void>((r) => (done = r));
  // A sliding window of unconfirmed publishes, as the agent would do under load.
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < N; i++) {
    const p = bus.publish({ exchange: ex, routingKey: 'k', body, properties: { contentType: 'application/json', deliveryMode: 2 } });
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 1000) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await all;
  await c.cancel();
  await bus.deleteQueue(q.name);
  await bus.deleteExchange(ex.name);
}

benchHeader('@tally/common', 'npm run bench -w @tally/common');
const mem = new InProcessBus();
await bench('in-process bus: publish + consume + ack, 1 KiB', N, () => roundTrip(mem, `m${Math.random().toString(36).slice(2, 8)}`), 3);
await mem.close();
const url = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';
try {
  const amqp = await AmqpBus.connect(url, createLogger('bench', { level: 'error' }));
  await bench('RabbitMQ: persistent publish w/ confirms + consume + ack, 1 KiB', N, () => roundTrip(amqp, `a${Math.random().toString(36).slice(2, 8)}`), 3);
  await amqp.close();
} catch (e) {
  process.stdout.write(`RabbitMQ at ${url} not reachable (${(e as Error).message}); AMQP figure not measured\n`);
}
