/**
 * What a driver does for the scheduler: create a member (an analyzer server or process),
 * tell its state, list the members it knows (so a restarted scheduler adopts what it
 * created before), and delete one. Every call is idempotent: creating a name that exists
 * returns the existing member, deleting one that is gone succeeds.
 */
import { TallyError } from '@tally/common';

/** What to create. `name` is also the analyzer id the member runs with. */
export interface MemberSpec {
  cluster: string;
  name: string;
  /** The scaling action this belongs to (recorded with the member, e.g. in Nova metadata). */
  actionId: string;
  /** The broker queue the analyzer consumes. */
  queue: string;
}

/** `building` (starting), `active` (running), `error` (failed; will not start), `gone` (does not exist). */
export type DriverStatus = 'building' | 'active' | 'error' | 'gone';

export interface DriverMember {
  name: string;
  ref: string;
  status: DriverStatus;
  detail?: string;
}

export interface Driver {
  /** `local` or `nova`. */
  readonly name: string;
  create(spec: MemberSpec): Promise<{ ref: string }>;
  status(cluster: string, name: string, ref: string | null): Promise<DriverMember>;
  list(cluster: string): Promise<DriverMember[]>;
  delete(cluster: string, name: string, ref: string | null): Promise<void>;
  /** Release connections; the local driver also stops the processes it started. */
  close(): Promise<void>;
}

/** A driver call refused or failed. `quota`: the cloud refused for lack of quota (an operator must act). */
export class DriverError extends TallyError {
  constructor(readonly driver: string, readonly reason: 'quota' | 'refused' | 'failed', message: string, opts: { transient?: boolean; cause?: unknown; status?: number } = {}) {
    super(reason === 'quota' ? 'driver_quota' : reason === 'refused' ? 'driver_refused' : 'driver_failed', `${driver}: ${message}`, opts);
    this.status = opts.status;
  }
  readonly status: number | undefined;
}
