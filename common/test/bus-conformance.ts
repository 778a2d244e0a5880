/**
 * One conformance suite for every Bus driver: the in-process bus and RabbitMQ
 * must behave the same for everything Tally relies on.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Bus, Delivery, ExchangeSpec, QueueSpec } from '@tally/common';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function busConformance(name: string, open: () => Promise<Bus>): void {
  describe(`Bus conformance: ${name}`, () => {
    let bus: Bus;
    const id = randomBytes(4).toString('hex');
    const ex: ExchangeSpec = { name: `tally.test.${id}`, type: 'topic', durable: false, autoDelete: false };
    const queues: string[] = [];
    const q = (suffix: string, keys: string[]): QueueSpec => {
      const spec = { name: `tally.test.${id}.${suffix}`, durable: true, bindings: keys.map((routingKey) => ({ exchange: ex, routingKey })) };
      queues.push(spec.name);
      return spec;
    };
    const send = (key: string, text: string) =>
      bus.publish({ exchange: ex, routingKey: key, body: Buffer.from(text), properties: { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, priority: 0, headers: {} } });

    before(async () => {
      bus = await open();
    });
    after(async () => {
      for (const name of queues) await bus.deleteQueue(name).catch(() => undefined);
      await bus.deleteExchange(ex.name).catch(() => undefined);
      await bus.close();
    });

    it('buffers messages published before anyone consumes, and routes by topic', async () => {
      const spec = q('buffer', ['notifications.sample']);
      await bus.declareQueue(spec);
      await send('notifications.sample', 'one');
      await send('notifications.info', 'not for this queue');
      await send('notifications.sample', 'two');
      await waitFor(() => false, 'nothing', 0).catch(() => undefined);
      const got: string[] = [];
      const c = await bus.consume(spec, { prefetch: 10 }, (d) => {
        got.push(d.body.toString());
        return Promise.resolve('ack');
      });
      await waitFor(() => got.length === 2, 'two deliveries');
      await sleep(100);
      assert.deepEqual(got, ['one', 'two']);
      await c.cancel();
    });

    it('keeps the body bytes and the message properties', async () => {
      const spec = q('props', ['metering.sample']);
      let seen: Delivery | undefined;
      const c = await bus.consume(spec, { prefetch: 1 }, (d) => {
        seen = d;
        return Promise.resolve('ack');
      });
      const body = '{"oslo.version": "2.0", "x": "\\u00fc"}';
      await send('metering.sample', body);
      await waitFor(() => seen !== undefined, 'delivery');
      assert.ok(seen);
      assert.equal(seen.body.toString('utf8'), body);
      assert.equal(seen.routingKey, 'metering.sample');
      assert.equal(seen.exchange, ex.name);
      assert.equal(seen.properties.contentType, 'application/json');
      assert.equal(seen.properties.contentEncoding, 'utf-8');
      assert.equal(seen.properties.deliveryMode, 2);
      assert.equal(seen.redelivered, false);
      await c.cancel();
    });

    it('gives every bound queue its own copy (an analyzer never steals from Ceilometer)', async () => {
      const a = q('copy-a', ['notifications.sample']);
      const b = q('copy-b', ['notifications.*']);
      await bus.declareQueue(a);
      await bus.declareQueue(b);
      await send('notifications.sample', 'both');
      await waitFor(() => false, '', 0).catch(() => undefined);
      const got: string[] = [];
      const ca = await bus.consume(a, { prefetch: 5 }, (d) => (got.push('a:' + d.body.toString()), Promise.resolve('ack')));
      const cb = await bus.consume(b, { prefetch: 5 }, (d) => (got.push('b:' + d.body.toString()), Promise.resolve('ack')));
      await waitFor(() => got.length === 2, 'both copies');
      assert.deepEqual(got.sort(), ['a:both', 'b:both']);
      await ca.cancel();
      await cb.cancel();
    });

    it('redelivers a requeued message, marked redelivered', async () => {
      const spec = q('requeue', ['k.requeue']);
      const seen: boolean[] = [];
      const c = await bus.consume(spec, { prefetch: 1 }, (d) => {
        seen.push(d.redelivered);
        return Promise.resolve(seen.length === 1 ? 'requeue' : 'ack');
      });
      await send('k.requeue', 'again');
      await waitFor(() => seen.length === 2, 'redelivery');
      assert.deepEqual(seen, [false, true]);
      await sleep(100);
      assert.equal(seen.length, 2, 'acked message is not delivered a third time');
      await c.cancel();
    });

    it('shares a queue between competing consumers, each message once', async () => {
      const spec = q('compete', ['k.compete']);
      const got = new Map<string, string>();
      const mk = (who: string) => (d: Delivery) => {
        const body = d.body.toString();
        assert.equal(got.has(body), false, `duplicate delivery of ${body}`);
        got.set(body, who);
        return sleep(5).then(() => 'ack' as const);
      };
      const c1 = await bus.consume(spec, { prefetch: 1 }, mk('one'));
      const c2 = await bus.consume(spec, { prefetch: 1 }, mk('two'));
      for (let i = 0; i < 20; i++) await send('k.compete', `m${i}`);
      await waitFor(() => got.size === 20, '20 deliveries');
      const counts = [...got.values()].reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>());
      assert.ok((counts.get('one') ?? 0) > 0 && (counts.get('two') ?? 0) > 0, `both consumers got work: ${JSON.stringify([...counts])}`);
      await c1.cancel();
      await c2.cancel();
    });

    it('holds at most `prefetch` unsettled deliveries', async () => {
      const spec = q('prefetch', ['k.prefetch']);
      let inFlight = 0;
      let peak = 0;
      let done = 0;
      const c = await bus.consume(spec, { prefetch: 3 }, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(30);
        inFlight--;
        done++;
        return 'ack';
      });
      for (let i = 0; i < 12; i++) await send('k.prefetch', `p${i}`);
      await waitFor(() => done === 12, '12 settled');
      assert.equal(peak, 3);
      await c.cancel();
    });

    it('counts ready messages and deletes queues', async () => {
      const spec = q('depth', ['k.depth']);
      await bus.declareQueue(spec);
      for (let i = 0; i < 4; i++) await send('k.depth', `d${i}`);
      await waitFor(() => false, '', 0).catch(() => undefined);
      let depth = 0;
      const end = Date.now() + 3000;
      while (depth < 4 && Date.now() < end) {
        depth = await bus.queueDepth(spec.name);
        if (depth < 4) await sleep(20);
      }
      assert.equal(depth, 4);
      await bus.deleteQueue(spec.name);
    });

    it('refuses to redeclare an exchange with other flags', async () => {
      await assert.rejects(bus.declareExchange({ ...ex, durable: true }), /PRECONDITION_FAILED|406/);
      // The bus stays usable afterwards.
      const spec = q('after406', ['k.after']);
      let got = 0;
      const c = await bus.consume(spec, { prefetch: 1 }, () => (got++, Promise.resolve('ack')));
      await send('k.after', 'still works');
      await waitFor(() => got === 1, 'delivery after 406');
      await c.cancel();
    });
  });
}
