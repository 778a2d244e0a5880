/**
 * Quotes off the event loop: one worker thread prices quotes one at a time; a
 * few more wait their turn and beyond that a caller is told to retry (503). A
 * quote that runs over its time budget has its worker ended and replaced, so a
 * request can never hold the API. The work of one quote is bounded by the route
 * (resource-hours), this bounds how many run and for how long.
 */
import { Worker } from 'node:worker_threads';
import { TallyError, UnavailableError, ValidationError } from '@tally/common';
import type { QuoteRequest } from '../pricing/index.js';

/** A quote to price: the live versions as source text, the request, the clock. */
export interface QuoteTask {
  id: string;
  now: string;
  versions: { effectiveFrom: string; source: string; label: string }[];
  request: QuoteRequest;
}

/** The worker's answer: the quote's JSON as UTF-8 bytes (transferred, not copied), or the error it met. */
export type QuoteReply = { ok: true; json: Uint8Array } | { ok: false; code: string; message: string; field?: string };

/** Limits of the runner. */
export interface QuoteRunnerOptions {
  /** Quotes waiting beyond the one being priced (default 8). */
  queue?: number;
  /** Longest a quote may take, ms (default 10 s). */
  timeoutMs?: number;
}

interface Job {
  task: QuoteTask;
  resolve: (json: Buffer) => void;
  reject: (e: Error) => void;
}

// The core names camelCase fields; the API's are snake_case.
const API_FIELDS: Record<string, string> = { durationSeconds: 'duration_seconds', ageSeconds: 'age_seconds', resourceType: 'resource_type' };
const apiField = (f: string): string => f.replace(/[A-Za-z]+/g, (w) => API_FIELDS[w] ?? w);

/** Runs quotes on a worker thread. */
export class QuoteRunner {
  private worker: Worker | undefined;
  private readonly waiting: Job[] = [];
  private busy: Job | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: number;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(o: QuoteRunnerOptions = {}) {
    this.queue = o.queue ?? 8;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** Price `task`; resolves with the quote's JSON as UTF-8 bytes. */
  run(task: QuoteTask): Promise<Buffer> {
    if (this.closed) return Promise.reject(new UnavailableError('quotes', 'the API is shutting down'));
    if (this.waiting.length >= this.queue) return Promise.reject(new UnavailableError('quotes', 'too many quotes are being priced'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ task, resolve, reject });
      this.next();
    });
  }

  /** End the worker; quotes still waiting are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.waiting.splice(0)) j.reject(new UnavailableError('quotes', 'the API is shutting down'));
    this.finish();
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private spawn(): Worker {
    // Built, the worker is plain .js. Under tsx (tests) the sources are .ts: a tiny
    // bootstrap registers tsx's loader inside the worker first.
    const w = import.meta.url.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); });`, { eval: true })
      : new Worker(new URL('./worker.js', import.meta.url));
    w.unref();
    w.on('message', (r: QuoteReply) => {
      const job = this.finish();
      if (!job) return;
      if (r.ok) job.resolve(Buffer.from(r.json.buffer, r.json.byteOffset, r.json.byteLength));
      else if (r.code === 'validation_failed') job.reject(new ValidationError(apiField(r.field ?? 'body'), r.message.replace(/^[^:]*: /, '')));
      else job.reject(new TallyError(r.code, r.message));
      this.next();
    });
    w.on('error', (err) => {
      this.worker = undefined;
      this.finish()?.reject(new TallyError('internal_error', `quote worker failed: ${err.message}`));
      this.next();
    });
    return w;
  }

  private finish(): Job | undefined {
    const job = this.busy;
    this.busy = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return job;
  }

  private next(): void {
    if (this.busy || this.closed) return;
    const job = this.waiting.shift();
    if (!job) return;
    this.busy = job;
    this.worker ??= this.spawn();
    this.timer = setTimeout(() => {
      // Over budget: end this worker (a new one prices the next quote).
      const w = this.worker;
      this.worker = undefined;
      w?.removeAllListeners();
      void w?.terminate();
      this.finish()?.reject(new UnavailableError('quotes', `the quote took longer than ${this.timeoutMs / 1000} s; ask for fewer resource-hours`));
      this.next();
    }, this.timeoutMs);
    this.timer.unref();
    this.worker.postMessage(job.task);
  }
}
