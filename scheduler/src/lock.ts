/**
 * One scheduler acts at a time: the active one holds a PostgreSQL session advisory lock
 * on a connection of its own; a second replica tries each round and waits (standby). If
 * the holder dies, its connection closes and PostgreSQL releases the lock, so a standby
 * takes over at its next try. Losing the connection loses the lock: `held()` turns false.
 */
import pg from 'pg';
import type { Logger } from '@tally/common';

/** The lock key (pg_advisory_lock's bigint): hashtext('tally-scheduler') is computed by the server. */
export const SCHEDULER_LOCK_NAME = 'tally-scheduler';

export interface LeaderLock {
  /** Try to take the lock (no wait); true while held. */
  tryAcquire(): Promise<boolean>;
  held(): boolean;
  release(): Promise<void>;
}

export class PgAdvisoryLock implements LeaderLock {
  private client: pg.Client | undefined;
  private isHeld = false;

  constructor(private readonly url: string, private readonly log: Logger, private readonly name = SCHEDULER_LOCK_NAME) {}

  held(): boolean {
    return this.isHeld;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.isHeld) return true;
    if (!this.client) {
      const c = new pg.Client({ connectionString: this.url, application_name: 'tally-scheduler-lock' });
      c.on('error', (err) => {
        if (this.isHeld) this.log.error('lost the scheduler lock with its connection', { err });
        this.isHeld = false;
        this.client = undefined;
      });
      await c.connect();
      this.client = c;
    }
    const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [this.name]);
    this.isHeld = r.rows[0]?.ok === true;
    return this.isHeld;
  }

  async release(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.isHeld = false;
    if (c) await c.end().catch(() => undefined);
  }
}
