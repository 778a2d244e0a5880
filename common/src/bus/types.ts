/**
 * The message bus interface. Two drivers implement it: RabbitMQ through
 * amqplib (`amqp://` URLs) and an in-process bus (embedded mode); one
 * conformance suite (`bus.conformance.ts`) runs against both.
 */

/** An AMQP exchange. Flags must match the broker's existing declaration (RabbitMQ answers 406 otherwise). */
export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
  durable: boolean;
  autoDelete: boolean;
}

export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  /** 2 = persistent (what oslo.messaging sends). */
  deliveryMode?: 1 | 2;
  priority?: number;
  messageId?: string;
}

export interface OutgoingMessage {
  exchange: ExchangeSpec;
  routingKey: string;
  body: Buffer;
  properties?: MessageProperties;
}

export interface QueueSpec {
  name: string;
  durable: boolean;
  /** Each binding routes messages from `exchange` with a matching `routingKey` pattern into the queue. */
  bindings: { exchange: ExchangeSpec; routingKey: string }[];
}

export interface Delivery {
  body: Buffer;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  /** True when the broker delivered this message before (a consumer died or requeued it). */
  redelivered: boolean;
}

/**
 * What to do with a delivery once the handler is done:
 * `ack` removes it; `requeue` gives it back for redelivery (transient failure);
 * `reject` drops it from the queue (only after it was dead-lettered by the handler).
 */
export type Disposition = 'ack' | 'requeue' | 'reject';

export type Handler = (delivery: Delivery) => Promise<Disposition>;

export interface ConsumeOptions {
  /** Deliveries in flight (not yet settled) at most. */
  prefetch: number;
}

export interface Consumer {
  /** Stop receiving; deliveries in flight are still settled by their handlers. */
  cancel(): Promise<void>;
}

export interface Bus {
  /** A name for logs: `amqp://host:port/vhost` (no credentials) or `in-process`. */
  readonly description: string;
  declareExchange(spec: ExchangeSpec): Promise<void>;
  /** Declare a queue and its bindings (declaring the exchanges too). */
  declareQueue(spec: QueueSpec): Promise<void>;
  /**
   * Publish one message; resolves once the broker has confirmed it (publisher
   * confirms), rejects if it cannot be confirmed. The exchange is declared first.
   * Concurrent publishes are sent in call order; once one fails, those called
   * before the failure that are not yet sent fail too (never sent ahead of it).
   */
  publish(msg: OutgoingMessage): Promise<void>;
  /** Declare `queue` and consume it; handlers may run concurrently up to `prefetch`. */
  consume(queue: QueueSpec, opts: ConsumeOptions, handler: Handler): Promise<Consumer>;
  /** Number of messages ready in a queue (for tests and status). */
  queueDepth(queue: string): Promise<number>;
  deleteQueue(queue: string): Promise<void>;
  deleteExchange(exchange: string): Promise<void>;
  close(): Promise<void>;
}

/** AMQP topic matching: `*` is one word, `#` is zero or more words. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    const w = p[i];
    if (w === '#') {
      for (let n = j; n <= k.length; n++) if (match(i + 1, n)) return true;
      return false;
    }
    if (j === k.length) return false;
    return (w === '*' || w === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}
