/**
 * Drains the journal to the bus: publishes the oldest unconfirmed record, waits
 * for the broker's confirm, acknowledges it in the journal, and so on in order.
 * Every publish, retries included, gets a fresh envelope (`message_id`,
 * `timestamp`, `_unique_id`): the notification listener drops repeated unique ids.
 */
import { defineOptions, opt, type Bus, type ExchangeSpec, type Logger } from '@tally/common';
import { encodePollingNotificationJson } from './envelope.js';
import type { Journal } from './journal.js';

/** Options of publishing. */
export const senderOptions = defineOptions('agent-publish', "the polling agent's publishing to the bus", {
  publishTimeout: opt.duration({ name: 'publish-timeout', default: '30s', minMs: 100, help: 'A publish not confirmed by the broker within this time counts as failed and is retried (with a fresh _unique_id).' }),
  publishWindow: opt.int({ name: 'publish-window', default: 32, min: 1, max: 1024, help: 'Messages published before waiting for their confirms (in journal order; confirmed ones leave the journal in order).' }),
  retryInterval: opt.duration({ name: 'publish-retry-interval', default: '5s', minMs: 10, help: 'While the bus is away, time between attempts to resume publishing the journal.' }),
});

/** Routing key of the polling agent's notifications (`<topic>.<priority>`). */
export const SAMPLE_ROUTING_KEY = 'notifications.sample';

/** Publish one message of signed samples (serialised by `dumps`), with a fresh envelope, and wait for the confirm. */
export async function publishSamples(bus: Bus, exchange: ExchangeSpec, samplesJson: string, timeoutMs: number): Promise<void> {
  const enc = encodePollingNotificationJson(samplesJson);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`publish not confirmed within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([bus.publish({ exchange, routingKey: SAMPLE_ROUTING_KEY, body: enc.body, properties: enc.properties }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the sender runs with. */
export interface SenderDeps {
  journal: Journal;
  bus: Bus;
  exchange: ExchangeSpec;
  log: Logger;
}

/** Sender settings, in milliseconds. */
export interface SenderSettings {
  publishTimeout: number;
  retryInterval: number;
  /** Publishes in flight at most; default 32. */
  publishWindow?: number;
}

/** Counters of a sender. */
export interface SenderStats {
  published: number;
  failedAttempts: number;
  outages: number;
}

/** Publishes the journal in order; see the module comment. */
export class JournalSender {
  readonly stats: SenderStats = { published: 0, failedAttempts: 0, outages: 0 };
  private inFlight: Promise<number> | undefined;
  private downSince: number | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly d: SenderDeps, private readonly s: SenderSettings) {}

  /**
   * Publish every pending record in order; resolves with how many were published
   * when the journal is empty, rejects at the first failure (the record stays).
   * Concurrent callers share one drain.
   */
  flush(): Promise<number> {
    this.inFlight ??= this.drain().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async drain(): Promise<number> {
    let n = 0;
    for (let recs = this.d.journal.peek(this.s.publishWindow ?? 32); recs.length > 0; recs = this.d.journal.peek(this.s.publishWindow ?? 32)) {
      // Published in journal order on one channel; a window of confirms is awaited together.
      const results = await Promise.allSettled(recs.map((r) => publishSamples(this.d.bus, this.d.exchange, r.samplesJson, this.s.publishTimeout)));
      for (const [i, res] of results.entries()) {
        if (res.status === 'rejected') {
          // Later records of the window may have been confirmed too; they are published again
          // (same sample ids, fresh envelope), keeping the journal a strict in-order queue.
          this.failed(res.reason);
          throw res.reason;
        }
        this.d.journal.ack(recs[i]!.seq);
        this.stats.published++;
        n++;
        if (this.downSince !== undefined) {
          this.d.log.warn('bus back: replaying the journal', { downForMs: Date.now() - this.downSince, pending: this.d.journal.depth });
          this.downSince = undefined;
        }
      }
    }
    return n;
  }

  private failed(err: unknown): void {
    this.stats.failedAttempts++;
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.stats.outages++;
    this.d.log.error('bus unavailable: samples stay in the journal and are replayed in order when it returns', { err, bus: this.d.bus.description, pending: this.d.journal.depth });
  }

  /** Ask the loop started by {@link run} to drain now (new records were journaled). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Drain whenever woken, retrying every `retryInterval` while the bus is away, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait: number | undefined;
      try {
        await this.flush();
      } catch {
        wait = this.s.retryInterval;
      }
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          this.wakeUp = undefined;
          resolve();
        };
        const t = wait === undefined ? undefined : setTimeout(done, wait);
        this.wakeUp = wait === undefined ? done : undefined; // while backing off, new records wait for the retry
        if (wait === undefined && this.d.journal.head()) done();
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
