/**
 * RabbitMQ driver on amqplib: one connection, a confirm channel for
 * publishing (each publish resolves on the broker's confirm), and one channel
 * per consumer with its own prefetch.
 *
 * Reconnection: when the connection drops, unconfirmed publishes reject and
 * the next operation (publish, declare, consume, …) opens a new connection, so
 * a producer that retries (the polling agent's journal) resumes once the broker
 * is back. Consumers of the lost connection are not re-established.
 *
 * Order: publishes reach the broker in call order, and a failed publish fails
 * every publish called before the failure and not yet sent (see `publish`).
 */
import amqplib from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from '../log.js';
import { UnavailableError } from '../errors.js';
import type { Bus, ConsumeOptions, Consumer, ExchangeSpec, Handler, MessageProperties, OutgoingMessage, QueueSpec } from './types.js';

export class AmqpBus implements Bus {
  readonly description: string;
  private confirm: ConfirmChannel | undefined;
  private readonly declared = new Set<string>();
  private readonly consumers = new Set<{ ch: Channel; tag: string }>();
  private closing = false;
  private current: ChannelModel | undefined;
  private reconnecting: Promise<ChannelModel> | undefined;
  /** Settles when the last publish called has been sent (or has failed); see {@link publish}. */
  private publishTurn: Promise<void> = Promise.resolve();
  /** Bumped by every failed publish; publishes called before the bump are not sent. */
  private publishEpoch = 0;

  private constructor(conn: ChannelModel, private readonly url: string, private readonly log: Logger) {
    const u = new URL(url);
    this.description = `${u.protocol}//${u.host}${u.pathname}`;
    this.adopt(conn);
  }

  private adopt(conn: ChannelModel): void {
    this.current = conn;
    conn.on('error', (err: Error) => this.log.warn('AMQP connection error', { err }));
    conn.on('close', () => {
      if (this.current !== conn) return;
      this.current = undefined;
      this.confirm = undefined;
      this.declared.clear();
      if (!this.closing) this.log.warn('AMQP connection closed; the next operation reconnects');
    });
  }

  private static async open(url: string): Promise<ChannelModel> {
    try {
      return await amqplib.connect(url, { clientProperties: { connection_name: 'tally' } });
    } catch (e) {
      const u = new URL(url);
      throw new UnavailableError('amqp', `cannot connect to ${u.host}: ${(e as Error).message}`, e);
    }
  }

  static async connect(url: string, log: Logger): Promise<AmqpBus> {
    return new AmqpBus(await AmqpBus.open(url), url, log);
  }

  /** The live connection, reconnecting (once, shared by concurrent callers) after a drop. */
  private async conn(): Promise<ChannelModel> {
    if (this.current) return this.current;
    if (this.closing) throw new UnavailableError('amqp', 'bus closed');
    this.reconnecting ??= AmqpBus.open(this.url).then((c) => {
      if (this.closing) {
        void c.close().catch(() => undefined);
        throw new UnavailableError('amqp', 'bus closed');
      }
      this.adopt(c);
      this.log.info('AMQP reconnected', { bus: this.description });
      return c;
    }).finally(() => { this.reconnecting = undefined; });
    return this.reconnecting;
  }

  private async confirmChannel(): Promise<ConfirmChannel> {
    if (!this.confirm) {
      const ch = await (await this.conn()).createConfirmChannel();
      ch.on('error', (err: Error) => this.log.warn('AMQP publish channel error', { err }));
      ch.on('close', () => {
        if (this.confirm === ch) this.confirm = undefined;
        this.declared.clear();
      });
      this.confirm = ch;
    }
    return this.confirm;
  }

  async declareExchange(spec: ExchangeSpec): Promise<void> {
    const key = `x:${spec.name}:${spec.type}:${spec.durable}:${spec.autoDelete}`;
    if (this.declared.has(key)) return;
    // A separate channel: a 406 on a mismatched declaration closes the channel it came on.
    await this.withChannel((ch) => ch.assertExchange(spec.name, spec.type, { durable: spec.durable, autoDelete: spec.autoDelete }));
    this.declared.add(key);
  }

  async declareQueue(spec: QueueSpec): Promise<void> {
    await this.withChannel((ch) => this.assertQueueOn(ch, spec));
  }

  private async assertQueueOn(ch: Channel, spec: QueueSpec): Promise<void> {
    for (const b of spec.bindings) await this.declareExchange(b.exchange);
    await ch.assertQueue(spec.name, { durable: spec.durable, autoDelete: false });
    for (const b of spec.bindings) await ch.bindQueue(spec.name, b.exchange.name, b.routingKey);
  }

  /**
   * Publishes go onto the wire strictly in call order, on one confirm channel:
   * each waits for the one called before it to be handed to a channel (or to
   * fail) before it declares, picks the channel and sends. Without this,
   * concurrent publishes on a fresh connection (every reconnect clears the
   * declared set) raced through their own exchange declarations and confirm
   * channels and reached the broker in any order.
   *
   * A failure fences: when a publish fails (not sent, nacked, or lost with its
   * channel), every publish called before that failure and not yet sent fails
   * too instead of going out on a new connection ahead of the failed one, so
   * a caller that retries from its first failure (the agent's journal) never
   * has a later message delivered before an earlier one.
   */
  async publish(msg: OutgoingMessage): Promise<void> {
    const epoch = this.publishEpoch;
    const fence = (): void => {
      if (this.publishEpoch === epoch) this.publishEpoch++;
    };
    const previous = this.publishTurn;
    let sent!: () => void;
    this.publishTurn = new Promise<void>((resolve) => { sent = resolve; });
    let confirmed: Promise<void>;
    try {
      await previous;
      if (this.publishEpoch !== epoch) throw new UnavailableError('amqp', 'publish not sent: an earlier publish failed (publishes stay in order)');
      await this.declareExchange(msg.exchange);
      const ch = await this.confirmChannel();
      confirmed = AmqpBus.send(ch, msg, fence);
    } catch (e) {
      fence();
      throw e;
    } finally {
      sent();
    }
    await confirmed;
  }

  /** Hand `msg` to `ch`; resolves on the broker's confirm, calls `onFail` before rejecting. */
  private static send(ch: ConfirmChannel, msg: OutgoingMessage, onFail: () => void): Promise<void> {
    const p = msg.properties ?? {};
    return new Promise<void>((resolve, reject) => {
      const options = {
        contentType: p.contentType,
        contentEncoding: p.contentEncoding,
        headers: p.headers ?? {},
        deliveryMode: p.deliveryMode,
        priority: p.priority,
        messageId: p.messageId,
        mandatory: false,
      };
      try {
        ch.publish(msg.exchange.name, msg.routingKey, msg.body, options, (err: unknown) => {
          if (!err) return resolve();
          onFail();
          reject(new UnavailableError('amqp', 'publish not confirmed', err));
        });
      } catch (err) {
        // The channel closed under us (amqplib throws synchronously).
        onFail();
        reject(new UnavailableError('amqp', 'publish not sent', err));
      }
    });
  }

  async consume(queue: QueueSpec, opts: ConsumeOptions, handler: Handler): Promise<Consumer> {
    const ch = await (await this.conn()).createChannel();
    ch.on('error', (err: Error) => this.log.warn('AMQP consumer channel error', { queue: queue.name, err }));
    await this.assertQueueOn(ch, queue);
    await ch.prefetch(Math.max(1, opts.prefetch));
    // Deliveries being handled: the channel is closed only once they are settled.
    let handling = 0;
    let settled: (() => void) | undefined;
    const { consumerTag } = await ch.consume(queue.name, (m) => {
      if (m === null) return; // cancelled by the broker
      handling++;
      const properties: MessageProperties = {
        contentType: m.properties.contentType as string | undefined,
        contentEncoding: m.properties.contentEncoding as string | undefined,
        headers: (m.properties.headers ?? {}) as Record<string, unknown>,
        deliveryMode: m.properties.deliveryMode as 1 | 2 | undefined,
        priority: m.properties.priority as number | undefined,
        messageId: m.properties.messageId as string | undefined,
      };
      void handler({ body: m.content, exchange: m.fields.exchange, routingKey: m.fields.routingKey, properties, redelivered: m.fields.redelivered })
        .catch((err: unknown) => {
          this.log.error('consumer handler failed; requeueing', { queue: queue.name, err });
          return 'requeue' as const;
        })
        .then((d) => {
          try {
            if (d === 'ack') ch.ack(m);
            else ch.nack(m, false, d === 'requeue');
          } catch (err) {
            // The channel died; the broker redelivers unacked messages.
            this.log.warn('could not settle delivery', { queue: queue.name, err });
          }
          if (--handling === 0) settled?.();
        });
    });
    const entry = { ch, tag: consumerTag };
    this.consumers.add(entry);
    return {
      cancel: async () => {
        this.consumers.delete(entry);
        await ch.cancel(consumerTag).catch(() => undefined);
        // Closing the channel would requeue deliveries still being handled; let them settle
        // first (a handler that waits on a batch write can take longer than any fixed delay),
        // but never hold the channel open for more than 30 s.
        const idle = handling === 0 ? Promise.resolve() : new Promise<void>((r) => (settled = r));
        const cap = new Promise<void>((r) => setTimeout(r, 30_000).unref());
        void Promise.race([idle, cap]).then(() => setTimeout(() => void ch.close().catch(() => undefined), 50).unref());
      },
    };
  }

  /** A short-lived channel for one operation: a broker error closes only that channel. */
  private async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const ch = await (await this.conn()).createChannel();
    ch.on('error', () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async queueDepth(queue: string): Promise<number> {
    return this.withChannel(async (ch) => (await ch.checkQueue(queue)).messageCount);
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.withChannel((ch) => ch.deleteQueue(queue));
  }

  async deleteExchange(exchange: string): Promise<void> {
    await this.withChannel((ch) => ch.deleteExchange(exchange));
    for (const k of [...this.declared]) if (k.startsWith(`x:${exchange}:`)) this.declared.delete(k);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const c of this.consumers) await c.ch.cancel(c.tag).catch(() => undefined);
    if (this.confirm) await this.confirm.waitForConfirms().catch(() => undefined);
    await this.current?.close().catch(() => undefined);
  }
}
