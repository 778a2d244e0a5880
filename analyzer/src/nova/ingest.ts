/**
 * Nova's instance notifications off the bus: the analyzer's own queue on Nova's
 * exchange (never Nova's own `versioned_notifications.info` / `notifications.info`
 * queues, which other consumers may read), each event stored once in PostgreSQL
 * with its body before the delivery is acknowledged, bad bodies dead-lettered to
 * `<queue>.dead` with the reason and the field, other notifications acknowledged
 * and counted. A timer keeps the spans of instances Nova still has coming.
 */
import { defineOptions, opt, ValidationError, type Bus, type Consumer, type Delivery, type Disposition, type ExchangeSpec, type Knex, type Logger, type QueueSpec } from '@tally/common';
import { deadLetterSpec } from '../queues.js';
import { decodeNotification } from './decode.js';
import { markOpenSpans, storeEvent } from './store.js';

export const NOVA_FORMATS = ['off', 'versioned', 'unversioned', 'both'] as const;
export type NovaFormat = (typeof NOVA_FORMATS)[number];

export const novaOptions = defineOptions('analyzer-nova', "Nova's instance notifications: exact lifetimes, the flavor in force, the project span", {
  novaNotifications: opt.enum({
    name: 'nova-notifications',
    default: 'both',
    choices: NOVA_FORMATS,
    help: "Which of Nova's notifications to read: versioned (topic nova-versioned-topic), unversioned (the legacy topic nova-legacy-topic), both (an action reported in both counts once, the versioned event wins), or off. Match Nova's [notifications] notification_format.",
  }),
  novaExchange: opt.string({ name: 'nova-exchange', default: 'nova', pattern: /^[A-Za-z0-9._:-]+$/, help: "Nova's control exchange (oslo's control_exchange in nova.conf)." }),
  novaQueue: opt.string({ name: 'nova-queue', default: '', pattern: /^[A-Za-z0-9._:-]+$/, help: "The analyzer's own durable queue for Nova's notifications; replicas share it. Empty: <analyzer-queue>.nova. Dead letters go to <queue>.dead." }),
  novaVersionedTopic: opt.string({ name: 'nova-versioned-topic', default: 'versioned_notifications', pattern: /^[A-Za-z0-9._-]+$/, help: "Nova's [notifications] versioned_notifications_topics (the routing key is <topic>.info)." }),
  novaLegacyTopic: opt.string({ name: 'nova-legacy-topic', default: 'notifications', pattern: /^[A-Za-z0-9._-]+$/, help: "Nova's [oslo_messaging_notifications] topics for the legacy notifications (routing key <topic>.info)." }),
});

export interface NovaIngestConfig {
  queue: string;
  exchange: string;
  exchangeDurable: boolean;
  format: Exclude<NovaFormat, 'off'>;
  versionedTopic: string;
  legacyTopic: string;
  gapThresholdMs: number;
  /** How often the spans of instances Nova still has are marked (ms). */
  markIntervalMs: number;
  analyzerId: string;
  prefetch?: number;
}

export interface NovaIngestStats {
  messages: number;
  events: number;
  duplicates: number;
  ignored: number;
  deadLetters: number;
  failures: number;
}

/** The routing keys the queue is bound with. */
export function novaRoutingKeys(cfg: Pick<NovaIngestConfig, 'format' | 'versionedTopic' | 'legacyTopic'>): string[] {
  const keys: string[] = [];
  if (cfg.format !== 'unversioned') keys.push(`${cfg.versionedTopic}.info`);
  if (cfg.format !== 'versioned') keys.push(`${cfg.legacyTopic}.info`);
  return keys;
}

/** Takes Nova's notifications off the bus into PostgreSQL. */
export class NovaIngestor {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private marking: Promise<unknown> = Promise.resolve();
  private readonly dead: ReturnType<typeof deadLetterSpec>;
  private readonly clock: () => number;
  private readonly counters: NovaIngestStats = { messages: 0, events: 0, duplicates: 0, ignored: 0, deadLetters: 0, failures: 0 };

  constructor(private readonly deps: { bus: Bus; db: Knex; log: Logger; clock?: () => number }, private readonly cfg: NovaIngestConfig) {
    this.dead = deadLetterSpec(cfg.queue);
    this.clock = deps.clock ?? Date.now;
  }

  /** The queue spec: the analyzer's own durable queue bound to Nova's exchange. */
  queueSpec(): QueueSpec {
    const exchange: ExchangeSpec = { name: this.cfg.exchange, type: 'topic', durable: this.cfg.exchangeDurable, autoDelete: false };
    return { name: this.cfg.queue, durable: true, bindings: novaRoutingKeys(this.cfg).map((routingKey) => ({ exchange, routingKey })) };
  }

  async start(): Promise<void> {
    await this.deps.bus.declareQueue(this.dead.queue);
    this.consumer = await this.deps.bus.consume(this.queueSpec(), { prefetch: this.cfg.prefetch ?? 50 }, (d) => this.handle(d));
    this.timer = setInterval(() => void this.markSpans(), this.cfg.markIntervalMs);
    this.timer.unref();
    void this.markSpans();
  }

  /** Mark the spans of open instances up to now (also run by the timer). */
  markSpans(): Promise<unknown> {
    this.marking = this.marking.then(() => markOpenSpans(this.deps.db, this.clock() * 1000)).catch((e: unknown) => this.deps.log.error('marking open spans failed', { error: e }));
    return this.marking;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const c = this.consumer;
    this.consumer = undefined;
    await c?.cancel();
    await this.marking;
  }

  stats(): NovaIngestStats {
    return { ...this.counters };
  }

  /** Handle one delivery (exposed for tests): acknowledged once its event is stored. */
  async handle(d: Delivery): Promise<Disposition> {
    this.counters.messages++;
    const body = d.body.toString('utf8');
    let decoded;
    try {
      decoded = decodeNotification(body);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      return (await this.deadLetter(d, e.message, e.field, body)) ? 'reject' : 'requeue';
    }
    if (decoded.kind === 'ignored') {
      this.counters.ignored++;
      return 'ack';
    }
    try {
      const fresh = await this.deps.db.transaction((trx) => storeEvent(trx, decoded.event, body, this.cfg.gapThresholdMs * 1000));
      if (fresh) this.counters.events++;
      else this.counters.duplicates++;
      return 'ack';
    } catch (e) {
      this.counters.failures++;
      this.deps.log.error('storing a Nova event failed; the delivery is requeued', { messageId: decoded.event.messageId, error: e });
      return 'requeue';
    }
  }

  private async deadLetter(d: Delivery, reason: string, field: string | undefined, body: string): Promise<boolean> {
    const letter = { reason, field: field ?? null, analyzer_id: this.cfg.analyzerId, exchange: d.exchange, routing_key: d.routingKey, at: new Date(this.clock()).toISOString(), body };
    try {
      await this.deps.bus.publish({ exchange: this.dead.exchange, routingKey: this.dead.routingKey, body: Buffer.from(JSON.stringify(letter), 'utf8'), properties: { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 } });
      this.counters.deadLetters++;
      this.deps.log.warn('Nova notification dead-lettered', { reason, field, routingKey: d.routingKey });
      return true;
    } catch (e) {
      this.deps.log.error('dead letter not published; delivery requeued', { reason, error: e });
      return false;
    }
  }
}
