/**
 * Bounds of what the analyzer's jobs store, checked when a sample is accepted so that
 * nothing accepted can later fail in PostgreSQL (issue 16: `1e999999` overflowed
 * numeric, a vCPU count of 3e9 int4, a NUL in a resource id text) or turn a usage
 * quantity negative. Char scans and native string searches on the hot path: no regex,
 * no allocation.
 */
import { ValidationError } from '@tally/common';
import { isJsonObject, type JsonValue } from './json.js';

/** Longest stored text, in UTF-16 units (Nova's names and OpenStack ids are at most 255). */
export const MAX_TEXT = 255;
/** Volumes must be below 10^40 in magnitude (128-bit counters fit; decimal.js at 80 digits keeps their sums exact). */
export const MAX_VOLUME_DIGITS = 40;
/** At most this many decimal places in a volume (a double's shortest repr needs 17). */
export const MAX_VOLUME_DECIMALS = 18;
/** Longest volume literal: 40 digits, 18 decimals, sign and exponent fit with room to spare. */
export const MAX_VOLUME_TEXT = 64;
/** PostgreSQL `integer`: vcpus and memory_mb. */
export const MAX_INT4 = 2_147_483_647;

// String.prototype.isWellFormed (ES2024, V8 11.3 = Node 20) is not in the ES2023 lib the build targets.
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Why `s` cannot be stored as text, or null: too long, a NUL, or a lone surrogate
 * (PostgreSQL would store U+FFFD, so two ids could become one). Native scans
 * (`indexOf`, `isWellFormed`): measured cheaper than a charCodeAt loop.
 */
export function textProblem(s: string): string | null {
  if (s.length > MAX_TEXT) return `longer than ${MAX_TEXT} characters`;
  if (s.indexOf('\u0000') !== -1) return 'contains NUL (\\u0000), which PostgreSQL text cannot hold';
  if (!wellFormed(s)) return 'contains a lone UTF-16 surrogate (not Unicode text)';
  return null;
}

/** `s` if it can be stored as text; else a ValidationError naming `field`. */
export function checkText(field: string, s: string): string {
  const p = textProblem(s);
  if (p !== null) throw new ValidationError(field, p);
  return s;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Why the decimal text `t` (`-?\d+(\.\d+)?([eE][+-]?\d+)?`, leading zeros allowed) is
 * not a volume the jobs can store, or null. `undefined` when `t` is not such text.
 * Refused: a negative value (every meter type is a quantity: a negative gauge made
 * negative usage), |v| >= 10^40, more than 18 decimal places (exponent applied), an
 * exponent of 5 digits or more, more than 64 characters. Zero in any spelling passes.
 */
export function volumeProblem(t: string): string | null | undefined {
  const n = t.length;
  if (n > MAX_VOLUME_TEXT) return `longer than ${MAX_VOLUME_TEXT} characters`;
  let i = 0;
  const negative = t.charCodeAt(0) === 45;
  if (negative) i++;
  // Integer part: its significant digits and trailing zeros.
  const intStart = i;
  let intSig = 0;
  let intTrailingZeros = 0;
  for (; i < n && isDigit(t.charCodeAt(i)); i++) {
    const c = t.charCodeAt(i);
    if (intSig > 0 || c !== 48) intSig++;
    intTrailingZeros = c === 48 ? intTrailingZeros + 1 : 0;
  }
  if (i === intStart) return undefined;
  // Fraction: leading zeros and the position of the last non-zero digit.
  let fracLeadingZeros = 0;
  let fracLastNonZero = 0; // 1-based position; 0 when the fraction is all zeros
  if (t.charCodeAt(i) === 46) {
    const start = ++i;
    for (; i < n && isDigit(t.charCodeAt(i)); i++) {
      if (t.charCodeAt(i) !== 48) fracLastNonZero = i - start + 1;
      else if (fracLastNonZero === 0) fracLeadingZeros++;
    }
    if (i === start) return undefined;
  }
  let exp = 0;
  if (i < n && (t.charCodeAt(i) | 32) === 101) {
    i++;
    const expNegative = t.charCodeAt(i) === 45;
    if (expNegative || t.charCodeAt(i) === 43) i++;
    const start = i;
    for (; i < n && isDigit(t.charCodeAt(i)); i++) if (exp < 1e6) exp = exp * 10 + (t.charCodeAt(i) - 48);
    if (i === start) return undefined;
    if (expNegative) exp = -exp;
  }
  if (i !== n) return undefined;
  if (exp >= 1e4 || exp <= -1e4) return 'exponent out of range';
  if (intSig === 0 && fracLastNonZero === 0) return null; // zero, whatever its sign or exponent
  if (negative) return 'must not be negative';
  // Power of ten of the leading digit, and of the last non-zero one.
  const top = intSig > 0 ? intSig - 1 + exp : -(fracLeadingZeros + 1) + exp;
  const bottom = fracLastNonZero > 0 ? -fracLastNonZero + exp : intTrailingZeros + exp;
  if (top >= MAX_VOLUME_DIGITS) return `out of range: must be below 1e${MAX_VOLUME_DIGITS}`;
  if (bottom < -MAX_VOLUME_DECIMALS) return `more than ${MAX_VOLUME_DECIMALS} decimal places`;
  return null;
}

/**
 * The path of the first string or key holding a NUL inside `v` (`prefix` names `v`
 * itself), or undefined. Only walked when the message text has a `\u0000` escape.
 */
export function nulPath(v: JsonValue, prefix: string): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? prefix : undefined;
  if (Array.isArray(v)) {
    for (let k = 0; k < v.length; k++) {
      const p = nulPath(v[k] as JsonValue, `${prefix}[${k}]`);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  if (!isJsonObject(v)) return undefined;
  for (const key of Object.keys(v)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (key.includes('\u0000')) return name;
    const p = nulPath(v[key] as JsonValue, name);
    if (p !== undefined) return p;
  }
  return undefined;
}
