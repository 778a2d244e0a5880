/**
 * Python `json.dumps` (default arguments) byte for byte, and a matching parser.
 *
 * Ceilometer signs `str()` of Python values and serialises them with `json.dumps`,
 * so the wire text must keep the Python distinction between int and float:
 * `512` and `512.0` are different values with different signatures.
 *
 * Value model ({@link PyValue}):
 * - `string`, `boolean`, `null`;
 * - `bigint`: a Python int of any size (counters above 2^53 stay exact);
 * - `number`: an int when `Number.isInteger`, otherwise a float;
 * - {@link PyFloat}: forces a float (`512` prints as `512.0`);
 * - arrays; plain objects and `Map`s (both keep insertion order).
 *
 * Caveat: JS objects enumerate integer-like keys (`"0"`, `"42"`) first, whatever
 * the insertion order. Use a `Map` when such keys can occur; {@link parsePy}
 * returns a `Map` for exactly those objects.
 */

/** A Python float: printed with Python's `repr` even when integral. */
export class PyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return pyFloatRepr(this.value);
  }
}

/** A Python dict as a plain object (string keys, insertion order). */
export interface PyDict {
  [key: string]: PyValue;
}

/** Every value {@link dumps} accepts. */
export type PyValue = string | number | bigint | boolean | null | PyFloat | PyValue[] | PyDict | Map<string, PyValue>;

/**
 * Python `repr(float)`: the shortest round-trip digits (the same digits JS uses),
 * fixed notation when the decimal exponent is in [-4, 16), scientific otherwise
 * with a sign and at least two exponent digits (`1e-07`, `1e+16`).
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip.
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential());
  if (!m) throw new Error(`unexpected float text for ${x}`);
  const digits = m[1]! + (m[2] ?? '');
  const exp = Number(m[3]); // x = d.ddd × 10^exp; Python's "decpt" is exp + 1
  if (exp < -4 || exp >= 16) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** Python `str()` of a number in the value model: ints in decimal, floats as `repr`. */
export function pyNumberStr(v: number | bigint | PyFloat): string {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (Number.isInteger(v)) return BigInt(v).toString();
  return pyFloatRepr(v);
}

const JSON_SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const JSON_UNSAFE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;
const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A JSON string literal as Python writes it with `ensure_ascii=True` (lower-case `\uXXXX`). */
export function pyJsonString(s: string): string {
  // Fast path: printable ASCII without quote or backslash is copied as is (most keys and values,
  // and the bulk of an envelope's inner message apart from its quotes).
  if (JSON_SAFE.test(s)) return '"' + s + '"';
  // JS strings are UTF-16, so astral characters already arrive as the surrogate pair Python writes.
  return '"' + s.replace(JSON_UNSAFE, (ch) => JSON_ESCAPES[ch] ?? '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
}

function jsonFloat(x: number): string {
  // json.dumps writes these non-standard tokens (allow_nan=True by default).
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return pyFloatRepr(x);
}

/** Entries of a dict in insertion order (Map or plain object). */
export function dictEntries(d: PyDict | Map<string, PyValue>): [string, PyValue][] {
  return d instanceof Map ? [...d.entries()] : Object.entries(d);
}

/** True for a dict in the value model (a Map or a plain object). */
export function isDict(v: PyValue): v is PyDict | Map<string, PyValue> {
  return v instanceof Map || (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat));
}

/** `json.dumps(value)` with Python's defaults: `", "` / `": "` separators, ASCII output. */
export function dumps(v: PyValue): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return pyJsonString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : jsonFloat(v);
  if (v instanceof PyFloat) return jsonFloat(v.value);
  if (Array.isArray(v)) return '[' + v.map(dumps).join(', ') + ']';
  if (isDict(v)) {
    return '{' + dictEntries(v).map(([k, x]) => {
      if (x === undefined) throw new TypeError(`pyjson: undefined value at key ${k}`);
      return `${pyJsonString(k)}: ${dumps(x)}`;
    }).join(', ') + '}';
  }
  throw new TypeError(`pyjson: cannot serialise ${typeof v}`);
}

const INDEX_KEY = /^(0|[1-9]\d*)$/;

/**
 * Parse JSON like Python's `json.loads`, keeping what `JSON.parse` loses:
 * integer literals become `bigint`, literals with `.`/`e` become {@link PyFloat},
 * and objects with integer-like keys become a `Map` so their order survives.
 */
export function parsePy(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`pyjson: ${what} at offset ${i}`);
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, PyValue][] = [];
      ws();
      if (text[i] === '}') { i++; return {}; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (text[i++] !== ':') fail('expected ":"');
        entries.push([k, value()]);
        ws();
        const d = text[i++];
        if (d === '}') break;
        if (d !== ',') fail('expected "," or "}"');
      }
      if (entries.some(([k]) => INDEX_KEY.test(k))) return new Map(entries);
      const o: PyDict = {};
      for (const [k, x] of entries) o[k] = x;
      return o;
    }
    if (c === '[') {
      i++;
      const arr: PyValue[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        const d = text[i++];
        if (d === ']') break;
        if (d !== ',') fail('expected "," or "]"');
      }
      return arr;
    }
    if (c === '"') return str();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null], ['NaN', new PyFloat(NaN)], ['Infinity', new PyFloat(Infinity)], ['-Infinity', new PyFloat(-Infinity)]] as const) {
      if (text.startsWith(lit, i)) { i += lit.length; return v; }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return m[2] !== undefined || m[3] !== undefined ? new PyFloat(Number(m[0])) : BigInt(m[0]);
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      if (c === '"') break;
      i += c === '\\' ? 2 : 1;
    }
    i++;
    // The literal grammar is the same as JSON's, so JSON.parse decodes it (escapes, surrogates).
    return JSON.parse(text.slice(start, i)) as string;
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}
