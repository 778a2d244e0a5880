/**
 * Lossless JSON: number literals are kept as their exact text (`LosslessNumber`),
 * because Ceilometer's cumulative counters exceed 2^53 and must never be rounded
 * through a JS number on their way to the DFS.
 */
import { isLosslessNumber, LosslessNumber, stringify } from 'lossless-json';
import type { JsonObject, JsonValue } from './json-value.js';
import { parseLossless } from './lossless-parse.js';

export type { JsonObject, JsonValue } from './json-value.js';

/** Parse JSON text keeping every number literal exact (same values as lossless-json's parse). Throws SyntaxError on bad JSON. */
export function parseJson(text: string): JsonValue {
  return parseLossless(text);
}

/** Serialise a lossless value (plain JS values mixed in are fine) to JSON text; number literals are written as received. */
export function stringifyJson(value: JsonValue | Record<string, unknown>): string {
  const fast = stringifyPlain(value);
  if (fast !== undefined) return fast;
  const out = stringify(value);
  // stringify only returns undefined for undefined/functions, which JsonValue excludes.
  if (out === undefined) throw new TypeError('value is not serialisable as JSON');
  return out;
}

/**
 * The output of lossless-json's stringify for a value made only of what the lossless
 * parser returns (null, booleans, strings, LosslessNumbers, arrays, plain objects), one
 * native `JSON.stringify` per string instead of lossless-json's generic walk; undefined
 * when anything else is inside (the caller then uses lossless-json).
 */
function stringifyPlain(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v !== 'object') return undefined;
  if (v instanceof LosslessNumber) return v.value;
  if (Array.isArray(v)) {
    let out = '[';
    for (let k = 0; k < v.length; k++) {
      const x = stringifyPlain(v[k]);
      if (x === undefined) return undefined;
      out += k === 0 ? x : ',' + x;
    }
    return out + ']';
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const o = v as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const k of Object.keys(o)) {
    const x = stringifyPlain(o[k]);
    if (x === undefined) return undefined;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + x;
    first = false;
  }
  return out + '}';
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

export { isLosslessNumber, LosslessNumber };

// Number literals (after ':', ',' or '[') that a double would not reproduce as written:
// 16+ digits, a fraction or exponent (`512.0` must stay `512.0`), or `-0`. Inside strings
// this can only over-match, which costs speed, never exactness.
const NEEDS_LOSSLESS = /[:,[]\s*(?:-?\d{16}|-?\d+[.eE]|-0(?!\d))/;

function wrapNumbers(v: unknown): JsonValue | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? new LosslessNumber(String(v)) : undefined;
  if (v === null || typeof v !== 'object') return v as JsonValue;
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const x of v) {
      const w = wrapNumbers(x);
      if (w === undefined) return undefined;
      out.push(w);
    }
    return out;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const w = wrapNumbers(o[k]);
    if (w === undefined) return undefined;
    o[k] = w;
  }
  return o as JsonObject;
}

/**
 * Parse JSON to the same lossless shape as `parseJson`: through the native parser
 * when every number literal is an integer of at most 15 digits (a double holds it and
 * prints it back as written), otherwise through the lossless parser. Same values and
 * literal text as `parseJson`, faster on lines of plain counters.
 */
export function parseJsonFast(text: string): JsonValue {
  if (!NEEDS_LOSSLESS.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return parseJson(text); // the lossless parser words the error
    }
    const w = wrapNumbers(v);
    if (w !== undefined) return w;
  }
  return parseJson(text);
}
