/**
 * Ceilometer's `compute_signature` (ceilometer/publisher/utils.py): HMAC-SHA256
 * over `name + str(value)` for every `recursive_keypairs` entry of the sample,
 * with Python semantics for `str()`, key order and list `repr`.
 */
import { createHmac } from 'node:crypto';
import { PyFloat, dictEntries, isDict, pyNumberStr, type PyDict, type PyValue } from './pyjson.js';

/** Compare by Unicode code point, as Python sorts `str` (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/**
 * `recursive_keypairs(d, separator=':')`: sorted keys, nested dicts flattened to
 * `parent:child`. An empty dict yields nothing, so it is invisible to the signature.
 */
export function* recursiveKeypairs(d: PyDict | Map<string, PyValue>, prefix = ''): Generator<[string, PyValue]> {
  const entries = dictEntries(d).sort(([a], [b]) => compareCodePoints(a, b));
  for (const [k, v] of entries) {
    if (isDict(v)) yield* recursiveKeypairs(v, `${prefix}${k}:`);
    else yield [prefix + k, v];
  }
}

/** Python `repr(bytes)` of the UTF-8 encoding of `s` (what `decode_unicode` turns a str into). */
export function bytesRepr(s: string): string {
  const buf = Buffer.from(s, 'utf8');
  const hasSingle = buf.includes(0x27);
  const quote = hasSingle && !buf.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const b of buf) {
    if (b === 0x5c) out += '\\\\';
    else if (b === quote.charCodeAt(0)) out += '\\' + quote;
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += '\\x' + b.toString(16).padStart(2, '0');
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/** `repr(decode_unicode(v))` for a value inside a list: str → bytes, dicts with sorted keys. */
function reprDecoded(v: PyValue): string {
  if (typeof v === 'string') return bytesRepr(v);
  if (Array.isArray(v)) return '[' + v.map(reprDecoded).join(', ') + ']';
  if (isDict(v)) {
    const entries = dictEntries(v).sort(([a], [b]) => compareCodePoints(a, b));
    return '{' + entries.map(([k, x]) => `${bytesRepr(k)}: ${reprDecoded(x)}`).join(', ') + '}';
  }
  return pyStr(v);
}

/** Python `str()` of a value as `compute_signature` feeds it to the HMAC. */
export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat) return pyNumberStr(v);
  if (Array.isArray(v)) return reprDecoded(v);
  // A non-empty nested dict never reaches here (recursiveKeypairs flattens it).
  return reprDecoded(v);
}

/** The exact HMAC pre-image (for diagnostics and tests). */
export function signatureInput(message: PyDict | Map<string, PyValue>): string {
  let s = '';
  for (const [name, value] of recursiveKeypairs(message)) {
    // Only the top-level key is skipped; a nested one is flattened to "x:message_signature".
    if (name === 'message_signature') continue;
    s += name + pyStr(value);
  }
  return s;
}

/** `compute_signature(message, secret)`: 64 lower-case hex characters, or `""` for an empty secret. */
export function computeSignature(message: PyDict | Map<string, PyValue>, secret: string): string {
  if (!secret) return '';
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(signatureInput(message), 'utf8')).digest('hex');
}
