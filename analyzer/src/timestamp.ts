/**
 * Exact time arithmetic in integer microseconds since the Unix epoch. Ceilometer
 * stamps samples with Python `isoformat()` (microsecond precision); going through
 * `Date` (milliseconds) would lose the sub-millisecond part.
 */
import { ValidationError } from '@tally/common';

/** One hour in microseconds: the width of a usage window. */
export const HOUR_US = 3_600_000_000;

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Parse a Python isoformat timestamp (naive UTC such as `2026-11-21T20:12:51.393428`, or
 * with `+00:00`/`Z`/another offset) into integer microseconds since the epoch.
 * Naive timestamps are UTC, as Ceilometer writes them. Throws ValidationError naming `field`.
 */
export function parseTimestampUs(text: string, field = 'timestamp'): number {
  const m = ISO.exec(text);
  if (!m) throw new ValidationError(field, `not an ISO 8601 timestamp: ${JSON.stringify(text)}`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  // Date.UTC silently rolls over (Feb 30 -> Mar 2); a round trip catches that.
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new ValidationError(field, `not a valid date/time: ${JSON.stringify(text)}`);
  }
  const micros = Number((m[7] ?? '').padEnd(6, '0'));
  let offsetUs = 0;
  const tz = m[8];
  if (tz && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    const oh = Number(tz.slice(1, 3));
    const om = Number(tz.slice(4, 6));
    if (oh > 23 || om > 59) throw new ValidationError(field, `bad UTC offset in ${JSON.stringify(text)}`);
    offsetUs = sign * (oh * 3600 + om * 60) * 1_000_000;
  }
  return ms * 1000 + micros - offsetUs;
}

/** Format microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (exact, for logs and tests). */
export function formatTimestampUs(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const frac = String(us - Math.floor(us / 1_000_000) * 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Start of the hour containing `us`. */
export function hourStartUs(us: number): number {
  return Math.floor(us / HOUR_US) * HOUR_US;
}

/**
 * Microseconds as an exact decimal string of seconds: 3599500000 -> "3599.5",
 * 1000000 -> "1". Goes through BigInt so sums beyond 2^53 µs stay exact too.
 */
export function microsToSeconds(us: number | bigint): string {
  const v = BigInt(us);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 1_000_000n;
  const frac = (a % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** A `Date` for a microsecond instant (for timestamptz columns; whole hours are exact in ms). */
export function usToDate(us: number): Date {
  return new Date(Math.floor(us / 1000));
}
