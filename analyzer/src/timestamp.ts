/**
 * Exact time arithmetic in integer microseconds since the Unix epoch. Ceilometer
 * stamps samples with Python `isoformat()` (microsecond precision); going through
 * `Date` (milliseconds) would lose the sub-millisecond part.
 */
import { ValidationError } from '@tally/common';

/** One hour in microseconds: the width of a usage window. */
export const HOUR_US = 3_600_000_000;

const digit = (text: string, i: number): number => {
  const c = text.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};
/** The number of `len` ASCII digits at `i`, or -1. */
function digits(text: string, i: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) {
    const d = digit(text, i + k);
    if (d < 0) return -1;
    v = v * 10 + d;
  }
  return v;
}
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/**
 * Parse a Python isoformat timestamp (naive UTC such as `2026-11-21T20:12:51.393428`, or
 * with `+00:00`/`Z`/another offset) into integer microseconds since the epoch:
 * `YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}][Z|±HH:MM]`. Naive timestamps are UTC, as Ceilometer
 * writes them. Impossible dates (Feb 30, hour 24) are refused, never rolled over, and
 * so are years before 0100. Throws ValidationError naming `field`. One char scan, no
 * regex and no Date: it runs once per sample on ingest's hot path.
 */
export function parseTimestampUs(text: string, field = 'timestamp'): number {
  const n = text.length;
  const sep = text.charCodeAt(10);
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  const s = digits(text, 17, 2);
  let ok = n >= 19 && y >= 0 && mo >= 0 && d >= 0 && h >= 0 && mi >= 0 && s >= 0 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 &&
    (sep === 84 || sep === 32) && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58;
  let i = 19;
  let micros = 0;
  if (ok && text.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && i - start < 7 && digit(text, i) >= 0) micros = micros * 10 + digit(text, i++);
    const len = i - start;
    ok = len >= 1 && len <= 6;
    for (let k = len; k < 6; k++) micros *= 10;
  }
  let offsetSign = 0;
  let oh = 0;
  let om = 0;
  if (ok && i < n) {
    const c = text.charCodeAt(i);
    if (c === 90) ok = i + 1 === n; // Z
    else if (c === 43 || c === 45) {
      oh = digits(text, i + 1, 2);
      om = digits(text, i + 4, 2);
      ok = i + 6 === n && oh >= 0 && om >= 0 && text.charCodeAt(i + 3) === 58;
      offsetSign = c === 45 ? -1 : 1;
    } else ok = false;
  }
  if (!ok) throw new ValidationError(field, `not an ISO 8601 timestamp: ${JSON.stringify(text)}`);
  const monthDays = mo === 2 && isLeap(y) ? 29 : (MONTH_DAYS[mo - 1] ?? 0);
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > monthDays || h > 23 || mi > 59 || s > 59) {
    throw new ValidationError(field, `not a valid date/time: ${JSON.stringify(text)}`);
  }
  if (oh > 23 || om > 59) throw new ValidationError(field, `bad UTC offset in ${JSON.stringify(text)}`);
  const seconds = ((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s - offsetSign * (oh * 3600 + om * 60);
  return seconds * 1_000_000 + micros;
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
