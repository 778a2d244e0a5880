/**
 * Clocks for the agent: the system clock, and an accelerated clock for the
 * simulated fleet that replays a backfill window quickly and then runs at 1x.
 */
import type { Clock } from './poller.js';

/** A clock the agent loop can wait on. */
export interface AgentClock extends Clock {
  /** Resolve once `now()` ≥ `when` (or when `signal` aborts). */
  sleepUntil(when: Date, signal?: AbortSignal): Promise<void>;
}

function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    // Always a real timer, even for 0 ms: a loop that is behind schedule must still yield to the event loop.
    const t = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Wall-clock time. */
export const systemClock: AgentClock = {
  now: () => new Date(),
  sleepUntil: (when, signal) => sleepReal(when.getTime() - Date.now(), signal),
};

/**
 * Simulated time t(r) = min(start + speed·(r − r0), r): it starts `backfillMs`
 * in the past, runs `speed` times faster than real time until it has caught up,
 * then follows real time. It is never ahead of real time.
 */
export class AcceleratedClock implements AgentClock {
  private readonly r0: number;
  private readonly start: number;

  constructor(private readonly speed: number, backfillMs: number, private readonly realNow: () => number = Date.now) {
    if (!(speed >= 1)) throw new RangeError('speed must be >= 1');
    this.r0 = realNow();
    this.start = this.r0 - backfillMs;
  }

  now(): Date {
    const r = this.realNow();
    return new Date(Math.min(this.start + this.speed * (r - this.r0), r));
  }

  /** The real time at which simulated time reaches `when` (both branches of the min must pass it). */
  realTimeOf(when: Date): number {
    return Math.max(this.r0 + (when.getTime() - this.start) / this.speed, when.getTime());
  }

  sleepUntil(when: Date, signal?: AbortSignal): Promise<void> {
    return sleepReal(Math.ceil(this.realTimeOf(when) - this.realNow()), signal);
  }
}
