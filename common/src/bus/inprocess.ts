/**
 * In-process bus for embedded mode (agent and analyzer in one process). It
 * follows AMQP semantics closely enough to pass the same conformance suite:
 * topic routing, queues that buffer until consumed, competing consumers,
 * prefetch, ack / requeue / reject. Nothing survives the process.
 */
import type { Bus, ConsumeOptions, Consumer, Delivery, ExchangeSpec, Handler, OutgoingMessage, QueueSpec } from './types.js';
import { topicMatches } from './types.js';

interface Message { delivery: Omit<Delivery, 'redelivered'>; redelivered: boolean }
interface ConsumerState { prefetch: number; inFlight: number; handler: Handler; active: boolean }
interface QueueState {
  name: string;
  ready: Message[];
  consumers: ConsumerState[];
  next: number;
}

export class InProcessBus implements Bus {
  readonly description = 'in-process';
  private readonly exchanges = new Map<string, ExchangeSpec>();
  private readonly queues = new Map<string, QueueState>();
  private readonly bindings: { exchange: string; routingKey: string; queue: string }[] = [];
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  declareExchange(spec: ExchangeSpec): Promise<void> {
    this.assertOpen();
    const existing = this.exchanges.get(spec.name);
    if (existing && (existing.type !== spec.type || existing.durable !== spec.durable || existing.autoDelete !== spec.autoDelete)) {
      return Promise.reject(new Error(`exchange ${spec.name}: PRECONDITION_FAILED (declared with other flags)`));
    }
    this.exchanges.set(spec.name, spec);
    return Promise.resolve();
  }

  async declareQueue(spec: QueueSpec): Promise<void> {
    this.assertOpen();
    if (!this.queues.has(spec.name)) this.queues.set(spec.name, { name: spec.name, ready: [], consumers: [], next: 0 });
    for (const b of spec.bindings) {
      await this.declareExchange(b.exchange);
      if (!this.bindings.some((x) => x.exchange === b.exchange.name && x.routingKey === b.routingKey && x.queue === spec.name)) {
        this.bindings.push({ exchange: b.exchange.name, routingKey: b.routingKey, queue: spec.name });
      }
    }
  }

  async publish(msg: OutgoingMessage): Promise<void> {
    this.assertOpen();
    await this.declareExchange(msg.exchange);
    const type = msg.exchange.type;
    const targets = new Set<string>();
    for (const b of this.bindings) {
      if (b.exchange !== msg.exchange.name) continue;
      const hit = type === 'fanout' || (type === 'direct' ? b.routingKey === msg.routingKey : topicMatches(b.routingKey, msg.routingKey));
      if (hit) targets.add(b.queue);
    }
    for (const name of targets) {
      const q = this.queues.get(name);
      if (!q) continue;
      q.ready.push({
        delivery: { body: Buffer.from(msg.body), exchange: msg.exchange.name, routingKey: msg.routingKey, properties: { ...msg.properties } },
        redelivered: false,
      });
      this.dispatch(q);
    }
  }

  async consume(queue: QueueSpec, opts: ConsumeOptions, handler: Handler): Promise<Consumer> {
    await this.declareQueue(queue);
    const q = this.queues.get(queue.name) as QueueState;
    const c: ConsumerState = { prefetch: Math.max(1, opts.prefetch), inFlight: 0, handler, active: true };
    q.consumers.push(c);
    this.dispatch(q);
    return {
      cancel: () => {
        c.active = false;
        q.consumers = q.consumers.filter((x) => x !== c);
        return Promise.resolve();
      },
    };
  }

  queueDepth(queue: string): Promise<number> {
    return Promise.resolve(this.queues.get(queue)?.ready.length ?? 0);
  }

  deleteQueue(queue: string): Promise<void> {
    this.queues.delete(queue);
    for (let i = this.bindings.length - 1; i >= 0; i--) if (this.bindings[i]?.queue === queue) this.bindings.splice(i, 1);
    return Promise.resolve();
  }

  deleteExchange(exchange: string): Promise<void> {
    this.exchanges.delete(exchange);
    for (let i = this.bindings.length - 1; i >= 0; i--) if (this.bindings[i]?.exchange === exchange) this.bindings.splice(i, 1);
    return Promise.resolve();
  }

  /** Waits for handlers in flight, then refuses further use. */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queues.values()) for (const c of q.consumers) c.active = false;
    await Promise.allSettled([...this.pending]);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('bus is closed');
  }

  /** Hand ready messages to consumers round-robin, respecting each one's prefetch. */
  private dispatch(q: QueueState): void {
    while (q.ready.length > 0) {
      const live = q.consumers.filter((c) => c.active && c.inFlight < c.prefetch);
      if (live.length === 0) return;
      const c = live[q.next++ % live.length] as ConsumerState;
      const m = q.ready.shift() as Message;
      c.inFlight++;
      const run = (async () => {
        let disposition: 'ack' | 'requeue' | 'reject';
        try {
          disposition = await c.handler({ ...m.delivery, redelivered: m.redelivered });
        } catch {
          disposition = 'requeue';
        }
        c.inFlight--;
        if (disposition === 'requeue') q.ready.unshift({ delivery: m.delivery, redelivered: true });
        // Let other work run before redelivering, so a failing handler cannot spin.
        setImmediate(() => this.dispatch(q));
      })();
      this.pending.add(run);
      void run.finally(() => this.pending.delete(run));
    }
  }
}
