/**
 * Orderly shutdown: parts are stopped in the reverse order of starting, once,
 * on SIGINT/SIGTERM; a second signal forces the exit.
 */
import type { Logger } from '@tally/common';

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export class Lifecycle {
  private readonly parts: Stoppable[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  /** Register a started part; it will be stopped before everything registered earlier. */
  add(name: string, stop: () => Promise<void>): void {
    this.parts.push({ name, stop });
  }

  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.parts].reverse()) {
        try {
          await p.stop();
          this.log.info('stopped', { part: p.name });
        } catch (err) {
          this.log.error('failed to stop cleanly', { part: p.name, err });
        }
      }
    })();
    return this.stopping;
  }

  /** Resolves when a signal arrived and every part has stopped. */
  untilSignal(): Promise<void> {
    return new Promise((resolve) => {
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          this.log.warn('second signal: exiting without waiting', { signal: sig });
          process.exit(130);
        }
        this.log.info('shutting down', { signal: sig });
        void this.stopAll().then(resolve);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  }
}
