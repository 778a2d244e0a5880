/**
 * Billing periods from query parameters: half-open `[start, end)` in UTC,
 * month to date by default.
 */
import { ValidationError } from '@tally/common';

/** A half-open time span `[start, end)`. */
export interface Period {
  start: Date;
  end: Date;
}

/** Longest period one request may ask for, so a query stays cheap. */
export const MAX_PERIOD_DAYS = 366;
const DAY_MS = 86_400_000;

// A date, or a date-time with an explicit offset: a timestamp without a zone is ambiguous.
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Parse `YYYY-MM-DD` (UTC midnight) or an ISO 8601 date-time with `Z` or an offset. */
export function parseTimestamp(field: string, text: string): Date {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) throw new ValidationError(field, `must be a date (YYYY-MM-DD) or an ISO 8601 time with a zone, e.g. 2026-11-01T00:00:00Z; got ${JSON.stringify(text.slice(0, 64))}`);
  const [, y, mo, d, h, mi, s] = m;
  // Date.UTC reads years 0-99 as 1900-1999, and nothing is billed before the epoch.
  if (Number(y) < 1970) throw new ValidationError(field, `must be in 1970 or later; got ${JSON.stringify(text)}`);
  // Date.UTC silently rolls 2026-02-30 over into March; check each part instead.
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)));
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h ?? 0)
    || check.getUTCMinutes() !== Number(mi ?? 0) || check.getUTCSeconds() !== Number(s ?? 0)) {
    throw new ValidationError(field, `is not a real date/time: ${JSON.stringify(text)}`);
  }
  const date = new Date(m[4] === undefined ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime())) throw new ValidationError(field, `is not a valid time: ${JSON.stringify(text)}`);
  return date;
}

/** 00:00 UTC on the first day of `now`'s UTC month. */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * Resolve optional `start`/`end` texts into a period. Defaults: month to date
 * (UTC month start to now). Rejects `end <= start` and spans over MAX_PERIOD_DAYS.
 */
export function resolvePeriod(now: Date, input: { start?: string | undefined; end?: string | undefined }): Period {
  const end = input.end === undefined ? now : parseTimestamp('end', input.end);
  const start = input.start === undefined ? monthStart(input.end === undefined ? now : new Date(end.getTime() - 1)) : parseTimestamp('start', input.start);
  if (end.getTime() <= start.getTime()) throw new ValidationError('end', `must be after start (${start.toISOString()})`);
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) throw new ValidationError('end', `the period may span at most ${MAX_PERIOD_DAYS} days`);
  return { start, end };
}

/** Every UTC day (YYYY-MM-DD) that overlaps `[start, end)`, in order. */
export function utcDays(period: Period): string[] {
  const days: string[] = [];
  for (let t = Date.UTC(period.start.getUTCFullYear(), period.start.getUTCMonth(), period.start.getUTCDate()); t < period.end.getTime(); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}
