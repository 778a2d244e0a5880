/**
 * A lossless JSON parser: same values as lossless-json's `parse` (number literals kept
 * as `LosslessNumber` with their exact text, duplicate keys with different values
 * rejected, `__proto__` stored as an own key), several times faster. lossless-json
 * builds every string one character at a time; here a string without escapes is one
 * `slice`, and one with escapes is decoded by the native `JSON.parse`.
 */
import { LosslessNumber } from 'lossless-json';
import type { JsonObject, JsonValue } from './json-value.js';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A run of string characters that need no decoding: anything but '"', '\\' and controls.
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings; this class excludes them.
const PLAIN = /[^"\\\x00-\x1f]*/y;

function fail(text: string, i: number, what: string): never {
  const got = i < text.length ? `got '${text[i]}'` : 'got end of input';
  throw new SyntaxError(`${what} expected but ${got} at position ${i}`);
}

function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a instanceof LosslessNumber || b instanceof LosslessNumber) {
    return a instanceof LosslessNumber && b instanceof LosslessNumber && a.value === b.value;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, k) => deepEqual(x, b[k]!));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k]!, b[k]!));
}

/** Parse JSON text keeping every number literal exact. Throws SyntaxError on bad JSON. */
export function parseLossless(text: string): JsonValue {
  let i = 0;
  const n = text.length;

  function ws(): void {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else return;
    }
  }

  function str(): string {
    // text[i] is '"'
    const start = ++i;
    let escaped = false;
    for (;;) {
      PLAIN.lastIndex = i;
      PLAIN.test(text);
      i = PLAIN.lastIndex;
      if (i >= n) fail(text, i, "'\"'");
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 0x20) throw new SyntaxError(`Invalid control character in string at position ${i}`);
      i++;
    }
    i++;
    if (!escaped) return text.slice(start, i - 1);
    try {
      return JSON.parse(text.slice(start - 1, i)) as string;
    } catch (e) {
      throw new SyntaxError(`Invalid escape in string at position ${start - 1}: ${(e as Error).message}`, { cause: e });
    }
  }

  function literal(word: string, v: JsonValue): JsonValue {
    if (!text.startsWith(word, i)) fail(text, i, 'JSON value');
    i += word.length;
    return v;
  }

  function value(): JsonValue {
    ws();
    const c = text.charCodeAt(i);
    if (c === 34) return str();
    if (c === 123) return object();
    if (c === 91) return array();
    if (c === 116) return literal('true', true);
    if (c === 102) return literal('false', false);
    if (c === 110) return literal('null', null);
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) fail(text, i, 'JSON value');
    i += m[0].length;
    return new LosslessNumber(m[0]);
  }

  function array(): JsonValue[] {
    i++;
    const out: JsonValue[] = [];
    ws();
    if (text.charCodeAt(i) === 93) {
      i++;
      return out;
    }
    for (;;) {
      out.push(value());
      ws();
      const c = text.charCodeAt(i);
      i++;
      if (c === 93) return out;
      if (c !== 44) fail(text, i - 1, "',' or ']'");
    }
  }

  function object(): JsonObject {
    i++;
    const out: JsonObject = {};
    ws();
    if (text.charCodeAt(i) === 125) {
      i++;
      return out;
    }
    for (;;) {
      ws();
      if (text.charCodeAt(i) !== 34) fail(text, i, 'Quoted object key');
      const at = i;
      const key = str();
      ws();
      if (text.charCodeAt(i) !== 58) fail(text, i, "':'");
      i++;
      const v = value();
      if (Object.hasOwn(out, key)) {
        if (!deepEqual(v, out[key]!)) throw new SyntaxError(`Duplicate key '${key}' encountered at position ${at + 1}`);
      } else if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
      } else {
        out[key] = v;
      }
      ws();
      const c = text.charCodeAt(i);
      i++;
      if (c === 125) return out;
      if (c !== 44) fail(text, i - 1, "',' or '}'");
    }
  }

  const v = value();
  ws();
  if (i < n) fail(text, i, 'End of input');
  return v;
}
