/**
 * Ingest: consume samples through the analyzer's own queue, buffer them, write each
 * batch to the DFS, mark the touched windows dirty, and only then settle the
 * deliveries of the batch. Bad samples are dead-lettered one by one; their good
 * siblings are still ingested.
 */
import { defineOptions, opt, type Bus, type Consumer, type Delivery, type Disposition, type Knex, type Logger } from '@tally/common';
import { decodeBody, encodeSampleLine, UndecodableMessage } from './decode.js';
import type { Dfs } from './dfs/types.js';
import { DfsError } from './dfs/types.js';
import { stringifyJson, type JsonValue } from './json.js';
import { rawFilePath } from './layout.js';
import { DEFAULT_SAMPLE_MAX_AGE_MS, DEFAULT_SAMPLE_MAX_FUTURE_MS, eventTimeProblem } from './event-time.js';
import { Lru } from './lru.js';
import { analyzerQueueSpec, deadLetterSpec, fieldLabel } from './queues.js';
import { HOUR_US, hourStartUs } from './timestamp.js';
import { signatureProblem, VERIFY_MODES, type VerifyMode } from './verify.js';
import { markDirty } from './dirty.js';
import { windowsTouched } from './windows.js';

export const ingestOptions = defineOptions('analyzer-ingest', 'how the analyzer takes samples off the bus', {
  analyzerQueue: opt.string({
    name: 'analyzer-queue',
    default: 'tally.analyzer',
    pattern: /^[A-Za-z0-9._:-]+$/,
    help: "The analyzer's own durable queue, bound to the control exchange with notifications.sample and metering.sample; replicas share it as competing consumers. Dead letters go to <queue>.dead.",
  }),
  analyzerId: opt.string({
    name: 'analyzer-id',
    default: '',
    help: 'This analyzer in DFS file names and dead letters. Empty: <hostname>-<pid>.',
  }),
  ingestBatchSize: opt.int({ name: 'ingest-batch-size', default: 500, min: 1, max: 65535, help: 'Samples per DFS file: a batch is written when it holds this many.' }),
  ingestFlushInterval: opt.duration({ name: 'ingest-flush-interval', default: '5s', minMs: 1, help: 'A batch is written at the latest this long after its first sample arrived.' }),
  busCheckInterval: opt.duration({ name: 'bus-check-interval', default: '2s', minMs: 100, help: 'How often the analyzer probes the bus; after two failed probes it reconnects (tally analyzer) and the broker redelivers what was not acknowledged.' }),
  verify: opt.enum({
    name: 'verify',
    default: 'off',
    choices: VERIFY_MODES,
    help: "Sample signatures: off (as Ceilometer, which never verifies), warn (count and log samples whose message_signature does not match), enforce (dead-letter them).",
  }),
  sampleMaxAge: opt.duration({
    name: 'sample-max-age',
    default: '35d',
    minMs: 0,
    help: "A sample stamped more than this before the wall clock is dead-lettered (field timestamp): it would reopen windows and VM lifetimes that far back. Default 35 days, a billing month plus the agents' journal retention; 0 takes any age (to replay an archive).",
  }),
  sampleMaxFuture: opt.duration({
    name: 'sample-max-future',
    default: '10m',
    minMs: 0,
    help: 'A sample stamped more than this after the wall clock is dead-lettered (field timestamp): clock skew up to this is tolerated; a sample from the far future would keep its windows pending until then.',
  }),
  signatureSecret: opt.string({
    name: 'signature-secret',
    default: 'change this for valid signing',
    secret: true,
    help: "The agents' [publisher] telemetry_secret, to verify message_signature with (when verify is warn or enforce).",
  }),
});

export interface IngestConfig {
  analyzerQueue: string;
  analyzerId: string;
  ingestBatchSize: number;
  ingestFlushIntervalMs: number;
  gapThresholdMs: number;
  /** oslo's control_exchange (`ceilometer`). */
  controlExchange: string;
  /** Must match the deployment's declaration of the exchange (RabbitMQ answers 406 otherwise). */
  exchangeDurable: boolean;
  /** Sample message_ids remembered for dedup. */
  dedupCapacity?: number;
  /** A sample for a window closed this long after its end + gap threshold is counted late (ms; default 0). */
  allowedLatenessMs?: number;
  /** Samples older than this (ms before the clock) are dead-lettered; 0 = no limit. Default 35 days. */
  sampleMaxAgeMs?: number;
  /** Samples newer than this (ms after the clock) are dead-lettered. Default 10 minutes. */
  sampleMaxFutureMs?: number;
  /** Default `off`. */
  verify?: VerifyMode;
  signatureSecret?: string;
  /**
   * Deliveries taken off the queue at once (AMQP prefetch). Default: the batch size, at
   * most 100. When that many deliveries wait on the batch being filled, it is written early,
   * so a small prefetch never stalls ingest until the flush interval.
   */
  prefetch?: number;
}

export interface IngestDeps {
  bus: Bus;
  dfs: Dfs;
  db: Knex;
  log: Logger;
  /** Wall clock in ms (file sequence numbers, dead-letter stamps). */
  clock?: () => number;
}

export interface IngestStats {
  messages: number;
  samples: number;
  duplicates: number;
  deadLetters: number;
  batches: number;
  files: number;
  batchFailures: number;
  /** Samples whose signature did not verify (dead-lettered under `enforce`, kept under `warn`). */
  badSignatures: number;
  /** Samples for windows already closed (see allowed-lateness): they rerun their window. */
  lateSamples: number;
  /**
   * Event time of the newest sample ingested (µs), 0 before the first: processing lag =
   * now − this. A sample stamped ahead of the clock (skew within sample-max-future)
   * counts as stamped now, so the lag never reads 0 because of one fast clock.
   */
  newestSampleUs: number;
  /** Dead letters by the field at fault (`body` for a whole body; metadata paths folded into `resource_metadata`). */
  deadLettersByField: Record<string, number>;
}

interface Batch {
  lines: Map<number, string[]>;
  windows: Set<number>;
  ids: string[];
  size: number;
  /** Deliveries waiting on this batch. */
  deliveries: number;
  done: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** Takes samples off the bus into the DFS. */
export class Ingestor {
  private consumer: Consumer | undefined;
  private batch: Batch;
  private seq: number;
  private readonly inflight = new Set<Promise<void>>();
  private readonly seen: Lru<string, Promise<void>>;
  private readonly clock: () => number;
  private readonly dead: ReturnType<typeof deadLetterSpec>;
  private readonly counters: IngestStats = { messages: 0, samples: 0, duplicates: 0, deadLetters: 0, batches: 0, files: 0, batchFailures: 0, badSignatures: 0, lateSamples: 0, newestSampleUs: 0, deadLettersByField: {} };

  constructor(private readonly deps: IngestDeps, private readonly cfg: IngestConfig) {
    this.clock = deps.clock ?? Date.now;
    // Sequence numbers start at the clock (µs) so a restarted analyzer with a fixed id never reuses a name.
    this.seq = this.clock() * 1000;
    this.seen = new Lru(cfg.dedupCapacity ?? 100_000);
    this.dead = deadLetterSpec(cfg.analyzerQueue);
    this.batch = this.newBatch();
  }

  /** Declare the dead-letter queue and start consuming the analyzer queue. */
  async start(): Promise<void> {
    await this.deps.bus.declareQueue(this.dead.queue);
    // Handlers wait for their batch's write, so enough deliveries must be in flight to fill a batch.
    // Each waiting delivery keeps its decoded message in memory, so the default stays small:
    // a prefetch of the batch size (2000 messages of 50 samples) held 100k samples, 1 GB.
    this.consumer = await this.deps.bus.consume(analyzerQueueSpec(this.cfg), { prefetch: this.prefetch() }, (d) => this.handle(d));
  }

  private prefetch(): number {
    return Math.max(1, this.cfg.prefetch ?? Math.min(this.cfg.ingestBatchSize, 100));
  }

  /** Write the current batch now; resolves once it (and any batch in flight) is settled. */
  async flush(): Promise<void> {
    this.flushBatch();
    await Promise.allSettled([...this.inflight]);
  }

  /** Stop consuming, write what is buffered, and wait until every delivery is settled. */
  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    await c?.cancel();
    await this.flush();
  }

  stats(): IngestStats {
    return { ...this.counters, deadLettersByField: { ...this.counters.deadLettersByField } };
  }

  /** Handle one delivery; exposed for tests. Resolves once the delivery's samples are durable. */
  async handle(d: Delivery): Promise<Disposition> {
    this.counters.messages++;
    let msg;
    try {
      msg = decodeBody(d.body);
    } catch (e) {
      if (!(e instanceof UndecodableMessage)) throw e;
      // Dead-letter the whole body, then drop it: nothing in it can ever be ingested.
      return (await this.deadLetter(d, e.message, e.field, { body: d.body.toString('utf8') })) ? 'reject' : 'requeue';
    }
    for (const r of msg.rejected) {
      if (!(await this.deadLetter(d, r.reason, r.field, { sample: r.wire ?? null, index: r.index }))) return 'requeue';
    }
    const waits = new Set<Promise<void>>();
    const verify = this.cfg.verify ?? 'off';
    const nowMs = this.clock();
    for (const { sample, wire, index } of msg.samples) {
      const late = eventTimeProblem(sample.timestampUs, nowMs, this.cfg.sampleMaxAgeMs ?? DEFAULT_SAMPLE_MAX_AGE_MS, this.cfg.sampleMaxFutureMs ?? DEFAULT_SAMPLE_MAX_FUTURE_MS);
      if (late !== null) {
        if (!(await this.deadLetter(d, late, 'timestamp', { sample: wire, index }))) return 'requeue';
        continue;
      }
      if (verify !== 'off') {
        const problem = signatureProblem(wire, this.cfg.signatureSecret ?? '');
        if (problem !== null) {
          this.counters.badSignatures++;
          if (verify === 'enforce') {
            if (!(await this.deadLetter(d, problem, 'message_signature', { sample: wire, index }))) return 'requeue';
            continue;
          }
          this.deps.log.warn('sample signature does not verify; kept (verify = warn)', { messageId: sample.message_id, meter: sample.counter_name, problem });
        }
      }
      const earlier = this.seen.get(sample.message_id);
      if (earlier) {
        // A redelivery or a per-meter copy (notifier:// per_meter_topic): settle with the original's write.
        this.counters.duplicates++;
        waits.add(earlier);
        continue;
      }
      const b = this.batch;
      const hour = hourStartUs(sample.timestampUs);
      if ((hour + HOUR_US + this.cfg.gapThresholdMs * 1000) / 1000 + (this.cfg.allowedLatenessMs ?? 0) <= nowMs) this.counters.lateSamples++;
      const eventUs = Math.min(sample.timestampUs, nowMs * 1000);
      if (eventUs > this.counters.newestSampleUs) this.counters.newestSampleUs = eventUs;
      const lines = b.lines.get(hour) ?? [];
      lines.push(encodeSampleLine(wire));
      b.lines.set(hour, lines);
      for (const w of windowsTouched(sample.timestampUs, this.cfg.gapThresholdMs * 1000)) b.windows.add(w);
      b.ids.push(sample.message_id);
      b.size++;
      this.counters.samples++;
      this.seen.set(sample.message_id, b.done);
      waits.add(b.done);
      if (b.size === 1) b.timer = setTimeout(() => this.flushBatch(), this.cfg.ingestFlushIntervalMs);
      if (b.size >= this.cfg.ingestBatchSize) this.flushBatch();
    }
    // Every delivery the broker lets us hold waits on this batch: write it now, or ingest stalls until the timer.
    if (waits.has(this.batch.done) && ++this.batch.deliveries >= this.prefetch()) this.flushBatch();
    try {
      await Promise.all(waits);
      return 'ack';
    } catch {
      return 'requeue';
    }
  }

  private newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Failures are reported through the handlers that await it; never as unhandled.
    done.catch(() => undefined);
    return { lines: new Map(), windows: new Set(), ids: [], size: 0, deliveries: 0, done, resolve, reject, timer: undefined };
  }

  private flushBatch(): void {
    const b = this.batch;
    if (b.timer) clearTimeout(b.timer);
    if (b.size === 0) return;
    this.batch = this.newBatch();
    const p = this.write(b).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async write(b: Batch): Promise<void> {
    try {
      for (const [hour, lines] of [...b.lines].sort((x, y) => x[0] - y[0])) {
        await this.writeUnique(hour, lines.join('\n') + '\n');
      }
      await markDirty(this.deps.db, b.windows);
      this.counters.batches++;
      b.resolve();
    } catch (e) {
      this.counters.batchFailures++;
      this.deps.log.error('batch write failed; its deliveries are requeued', { samples: b.size, error: e });
      // Forget the ids so the redelivered samples are written, not skipped as duplicates.
      for (const id of b.ids) if (this.seen.get(id) === b.done) this.seen.delete(id);
      b.reject(e);
    }
  }

  private async writeUnique(hour: number, data: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const path = rawFilePath(hour, this.cfg.analyzerId, this.seq++);
      try {
        await this.deps.dfs.writeFile(path, data);
        this.counters.files++;
        return;
      } catch (e) {
        // A name taken by an earlier run (clock stepped back): take the next one.
        if (e instanceof DfsError && e.code === 'dfs_exists' && attempt < 100) continue;
        throw e;
      }
    }
  }

  private async deadLetter(d: Delivery, reason: string, field: string | undefined, what: { body: string } | { sample: JsonValue; index: number }): Promise<boolean> {
    const letter: Record<string, unknown> = {
      reason,
      field: field ?? null,
      analyzer_id: this.cfg.analyzerId,
      exchange: d.exchange,
      routing_key: d.routingKey,
      at: new Date(this.clock()).toISOString(),
      ...what,
    };
    try {
      // Lossless, so a dead-lettered counter above 2^53 is kept exactly for replay.
      const body = Buffer.from(stringifyJson(letter), 'utf8');
      await this.deps.bus.publish({ exchange: this.dead.exchange, routingKey: this.dead.routingKey, body, properties: { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 } });
      this.counters.deadLetters++;
      const label = fieldLabel(field);
      this.counters.deadLettersByField[label] = (this.counters.deadLettersByField[label] ?? 0) + 1;
      this.deps.log.warn('dead-lettered', { reason, field, routingKey: d.routingKey });
      return true;
    } catch (e) {
      this.deps.log.error('dead letter not published; delivery requeued', { reason, error: e });
      return false;
    }
  }
}
