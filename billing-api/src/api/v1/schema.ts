/**
 * Request schemas: each one both checks a value (throwing a ValidationError that
 * names the field, e.g. `items[2].vcpus`) and describes itself as JSON Schema, so
 * the OpenAPI document is generated from the very validators the routes run and
 * the two cannot drift. Only what the API needs: strings, decimal strings,
 * integers, enums, timestamps, arrays and closed objects.
 *
 * Every string is refused when it holds NUL or another control character
 * (PostgreSQL `text` and `jsonb` refuse NUL; control characters in names only
 * confuse logs and CSV), or a lone UTF-16 surrogate (it would be stored as U+FFFD).
 */
import { ValidationError } from '@tally/common';
import { parseTimestamp } from '../../period.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

/** A value's checker and its description. `T` is what the route gets. */
export interface Schema<T> {
  /** Check `v`, found at `path` (`''` for the whole body); throws ValidationError naming the field. */
  parse(v: unknown, path: string): T;
  /** The JSON Schema of valid values. */
  readonly json: JsonSchema;
  /** An absent field is allowed (parse then gets undefined). */
  readonly optional: boolean;
}

/** What a schema gives. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

const fieldName = (path: string): string => path || 'body';
const fail = (path: string, message: string): never => {
  throw new ValidationError(fieldName(path), message);
};

const make = <T>(json: JsonSchema, parse: (v: unknown, path: string) => T): Schema<T> => ({ parse, json, optional: false });

/** The same schema, optional: an absent field gives undefined. */
export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return { parse: (v, p) => (v === undefined ? undefined : s.parse(v, p)), json: s.json, optional: true };
}

/** The same schema, also accepting JSON null (given as null). */
export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return { parse: (v, p) => (v === null ? null : s.parse(v, p)), json: { anyOf: [s.json, { type: 'null' }] }, optional: s.optional };
}

// C0 controls and DEL; multiline text keeps tab, line feed and carriage return.
// eslint-disable-next-line no-control-regex -- these are exactly the characters refused
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above, without \t \n \r
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuse NUL, control characters and lone surrogates in any string a caller sends. */
export function checkText(v: string, path: string, multiline = false): void {
  const bad = (multiline ? CONTROL_MULTILINE : CONTROL).exec(v);
  if (bad) fail(path, bad[0] === '\u0000' ? 'must not contain NUL (\\u0000)' : `must not contain control characters (found U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`);
  if (LONE_SURROGATE.test(v)) fail(path, 'must be valid Unicode (it holds a lone surrogate)');
}

/** A string of `min`..`max` characters, optionally matching `pattern` (described by `what`). */
export function text(o: { max: number; min?: number; pattern?: RegExp; what?: string; multiline?: boolean; example: string; description?: string }): Schema<string> {
  const min = o.min ?? 1;
  const json: JsonSchema = { type: 'string', minLength: min, maxLength: o.max, examples: [o.example] };
  if (o.pattern) json['pattern'] = o.pattern.source;
  if (o.description) json['description'] = o.description;
  return make(json, (v, path) => {
    if (typeof v !== 'string') return fail(path, min > 0 ? 'is required (a non-empty string)' : 'must be a string');
    if (v.length < min) return fail(path, 'is required (a non-empty string)');
    if (v.length > o.max) return fail(path, `must be at most ${o.max} characters`);
    checkText(v, path, o.multiline);
    if (o.pattern && !o.pattern.test(v)) return fail(path, `must be ${o.what ?? `like ${o.pattern.source}`}`);
    return v;
  });
}

/** An id: 1-`max` letters, digits, dots, dashes or underscores. */
export function id(example: string, max = 64): Schema<string> {
  return text({ max, pattern: /^[A-Za-z0-9_.-]+$/, what: `1-${max} letters, digits, dots, dashes or underscores`, example });
}

/**
 * A non-negative decimal string such as "12.50": no sign, no exponent, at most
 * `int` digits before the point and `scale` after it, so it fits `numeric(24,6)`
 * (money) or the column it is stored in. JSON numbers are refused: JSON would round them.
 */
export function decimal(o: { int?: number; scale?: number; positive?: boolean; example: string; description?: string }): Schema<string> {
  const int = o.int ?? 18;
  const scale = o.scale ?? 6;
  const re = new RegExp(`^\\d{1,${int}}(\\.\\d{1,${scale}})?$`);
  const json: JsonSchema = { type: 'string', pattern: re.source, maxLength: int + scale + 1, examples: [o.example] };
  if (o.description) json['description'] = o.description;
  return make(json, (v, path) => {
    if (typeof v !== 'string') return fail(path, 'must be a decimal string such as "12.50" (numbers are refused so no amount is ever rounded by JSON)');
    checkText(v, path);
    if (!re.test(v)) return fail(path, `must be a decimal string such as "12.50": no sign, at most ${int} digits before the point and ${scale} after it`);
    if (o.positive && /^[0.]+$/.test(v)) return fail(path, 'must be more than zero');
    return v;
  });
}

/** A JSON integer from `min` to `max` (a string such as "4" is refused). */
export function int(o: { min: number; max: number; example: number }): Schema<number> {
  return make({ type: 'integer', minimum: o.min, maximum: o.max, examples: [o.example] }, (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < o.min || v > o.max) return fail(path, `must be a whole number from ${o.min} to ${o.max} (a JSON number, not a string)`);
    return v;
  });
}

/** One of `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): Schema<T> {
  return make({ type: 'string', enum: [...choices] }, (v, path) => {
    if (typeof v !== 'string' || !choices.includes(v as T)) return fail(path, `must be one of ${choices.join(', ')}`);
    return v as T;
  });
}

/** An ISO 8601 timestamp with a zone, a real one (no 30 February, no year 0000). */
export function timestamp(example = '2026-11-01T00:00:00Z'): Schema<Date> {
  const re = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  return make({ type: 'string', format: 'date-time', pattern: re.source, examples: [example] }, (v, path) => {
    if (typeof v !== 'string' || v.length > 40 || !re.test(v)) return fail(path, 'must be an ISO 8601 timestamp with a zone, e.g. 2026-11-01T00:00:00Z');
    return parseTimestamp(fieldName(path), v);
  });
}

/** A list of `min`..`max` items; `unique` (when given) must not repeat, and a repeat is named at `[i]` or `[i].uniqueField`. */
export function array<T>(item: Schema<T>, o: { min?: number; max: number; unique?: (x: T) => string; uniqueField?: string; what?: string }): Schema<T[]> {
  const min = o.min ?? 0;
  const json: JsonSchema = { type: 'array', items: item.json, minItems: min, maxItems: o.max };
  if (o.unique) json['uniqueItems'] = true;
  return make(json, (v, path) => {
    if (!Array.isArray(v) || v.length < min || v.length > o.max) return fail(path, `must be a list of ${min === 0 ? 'at most' : `${min} to`} ${o.max} ${o.what ?? 'items'}`);
    const out = v.map((x, i) => item.parse(x, `${path}[${i}]`));
    if (o.unique) {
      const seen = new Set<string>();
      out.forEach((x, i) => {
        const k = o.unique!(x);
        if (seen.has(k)) fail(`${path}[${i}]${o.uniqueField ? `.${o.uniqueField}` : ''}`, `repeats ${JSON.stringify(k)}`);
        seen.add(k);
      });
    }
    return out;
  });
}

type Fields = Record<string, Schema<unknown>>;
/** What an object schema gives: each field's value, absent optional fields undefined. */
export type ObjectOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/**
 * A closed object: unknown fields are refused (typos never pass silently), missing
 * required ones too. `check` adds rules across fields (throwing a ValidationError).
 */
export function object<F extends Fields>(fields: F, o: { check?: (v: ObjectOf<F>, path: string) => void; json?: JsonSchema; what?: 'field' | 'query parameter' } = {}): Schema<ObjectOf<F>> {
  const names = Object.keys(fields);
  const required = names.filter((k) => !fields[k]!.optional);
  const json: JsonSchema = {
    type: 'object', additionalProperties: false,
    properties: Object.fromEntries(names.map((k) => [k, fields[k]!.json])),
    ...(required.length > 0 ? { required } : {}), ...(o.json ?? {}),
  };
  const what = o.what ?? 'field';
  return make(json, (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, path ? 'must be an object' : 'must be a JSON object');
    const b = v as Record<string, unknown>;
    const at = (k: string) => (path ? `${path}.${k}` : k);
    for (const k of Object.keys(b)) {
      if (!Object.hasOwn(fields, k)) fail(at(k.length > 64 ? `${k.slice(0, 64)}…` : k), `unknown ${what} (allowed: ${names.join(', ') || 'none'})`);
    }
    const out: Record<string, unknown> = {};
    for (const k of names) {
      const x = Object.hasOwn(b, k) ? b[k] : undefined;
      if (x === undefined && !fields[k]!.optional) fail(at(k), 'is required');
      out[k] = fields[k]!.parse(x, at(k));
    }
    o.check?.(out as ObjectOf<F>, path);
    return out as ObjectOf<F>;
  });
}

/** The whole body is an object that takes no field (`{}` or no body at all). */
export const EMPTY_BODY = object({});
