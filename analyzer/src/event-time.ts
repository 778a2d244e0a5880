/**
 * The window of event times ingest accepts around its wall clock (issue 16 item 11):
 * a sample from 9999 kept its windows pending forever and the processing lag at 0; one
 * from long ago would reopen every window and VM lifetime back to it. Both are
 * dead-lettered (field `timestamp`); the bounds are ingest's sample-max-age and
 * sample-max-future options.
 */

/** Default of sample-max-age (35 days: a billing month plus the agents' journal retention). */
export const DEFAULT_SAMPLE_MAX_AGE_MS = 35 * 24 * 3600 * 1000;
/** Default of sample-max-future (10 minutes of clock skew). */
export const DEFAULT_SAMPLE_MAX_FUTURE_MS = 10 * 60 * 1000;

/**
 * Why a sample stamped `tsUs` is refused at wall clock `nowMs`, or null.
 * `maxAgeMs` 0: any age passes.
 */
export function eventTimeProblem(tsUs: number, nowMs: number, maxAgeMs: number, maxFutureMs: number): string | null {
  const ms = tsUs / 1000;
  if (maxAgeMs > 0 && ms < nowMs - maxAgeMs) return `timestamp: more than ${maxAgeMs / 1000} s (sample-max-age) before the analyzer's clock, ${new Date(nowMs).toISOString()}`;
  if (ms > nowMs + maxFutureMs) return `timestamp: more than ${maxFutureMs / 1000} s (sample-max-future) after the analyzer's clock, ${new Date(nowMs).toISOString()}`;
  return null;
}
