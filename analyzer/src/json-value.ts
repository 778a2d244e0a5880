/**
 * The shape of a losslessly parsed JSON value, in a file of its own so the parser
 * (`lossless-parse.ts`) and the helpers around it (`json.ts`) both depend on it
 * without depending on each other.
 */
import type { LosslessNumber } from 'lossless-json';

/** A JSON value as parsed losslessly: numbers stay `LosslessNumber` (their literal text). */
export type JsonValue = null | boolean | string | LosslessNumber | JsonValue[] | JsonObject;
/** A JSON object as parsed losslessly. */
export interface JsonObject {
  [key: string]: JsonValue;
}
