/**
 * Lossless JSON: number literals are kept as their exact text (`LosslessNumber`),
 * because Ceilometer's cumulative counters exceed 2^53 and must never be rounded
 * through a JS number on their way to the DFS.
 */
import { isLosslessNumber, LosslessNumber, parse, stringify } from 'lossless-json';

/** A JSON value as parsed losslessly: numbers stay `LosslessNumber` (their literal text). */
export type JsonValue = null | boolean | string | LosslessNumber | JsonValue[] | JsonObject;
/** A JSON object as parsed losslessly. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Parse JSON text keeping every number literal exact. Throws SyntaxError on bad JSON. */
export function parseJson(text: string): JsonValue {
  return parse(text) as JsonValue;
}

/** Serialise a lossless value (plain JS values mixed in are fine) to JSON text; number literals are written as received. */
export function stringifyJson(value: JsonValue | Record<string, unknown>): string {
  const out = stringify(value);
  // stringify only returns undefined for undefined/functions, which JsonValue excludes.
  if (out === undefined) throw new TypeError('value is not serialisable as JSON');
  return out;
}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);
}

export { isLosslessNumber, LosslessNumber };
