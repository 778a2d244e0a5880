/**
 * Sample signatures as Ceilometer computes them (`[publisher] telemetry_secret`,
 * HMAC-SHA256 over the Python `str()` of each key pair; the agent's package owns the
 * algorithm). Ceilometer itself never verifies; the analyzer can: `off` (as
 * Ceilometer), `warn` (count and log), `enforce` (dead-letter the sample).
 */
import { timingSafeEqual } from 'node:crypto';
import { computeSignature, PyFloat, type PyValue } from '@tally/ceilometer-publisher';
import { isLosslessNumber, type JsonObject, type JsonValue } from './json.js';

/** What the analyzer does about samples whose signature does not verify. */
export type VerifyMode = 'off' | 'warn' | 'enforce';
export const VERIFY_MODES: readonly VerifyMode[] = ['off', 'warn', 'enforce'];

const INT = /^-?\d+$/;

/**
 * A losslessly parsed JSON value as Python's `json.loads` would give it: integer
 * literals as int (BigInt, any size), other numbers as float, objects as dicts.
 */
export function toPyValue(v: JsonValue): PyValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isLosslessNumber(v)) return INT.test(v.value) ? BigInt(v.value) : new PyFloat(Number(v.value));
  if (Array.isArray(v)) return v.map(toPyValue);
  const m = new Map<string, PyValue>();
  for (const [k, x] of Object.entries(v)) m.set(k, toPyValue(x));
  return m;
}

/** Why a sample failed verification, or null when it verifies. */
export function signatureProblem(wire: JsonObject, secret: string): string | null {
  const sig = wire['message_signature'];
  if (typeof sig !== 'string' || sig === '') return 'message_signature missing or empty';
  const py = toPyValue(wire);
  if (!(py instanceof Map)) return 'sample is not an object';
  const expected = computeSignature(py, secret);
  const a = Buffer.from(sig, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b) ? null : 'message_signature does not match';
}
