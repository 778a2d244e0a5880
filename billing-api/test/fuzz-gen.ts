/**
 * Requests generated from the OpenAPI document for the API fuzz test: a valid
 * value for every JSON Schema the routes emit (from its examples, enum, bounds),
 * and, per field, malformed and extreme values that the schema refuses — NUL,
 * too long, negative, the wrong JSON type, decimals that overflow their column,
 * impossible dates, unknown fields, repeated list items. Nothing here knows the
 * routes: only the document.
 */

/** A JSON Schema as the document carries it. */
export type S = Record<string, any>;

/** One malformed request part: where, what is sent, and what the error must name. */
export interface Mutation {
  /** The field path the error must name (`items[0].vcpus`). */
  field: string;
  what: string;
  /** The whole body (or the query value) to send. */
  value: unknown;
  /** A 413 naming `body` is the right answer too (the value is larger than any body allowed). */
  mayBeTooLarge?: boolean;
}

const nonNull = (s: S): S => (s['anyOf'] ? (s['anyOf'] as S[]).find((x) => x['type'] !== 'null')! : s);
const nullable = (s: S): boolean => Array.isArray(s['anyOf']) && (s['anyOf'] as S[]).some((x) => x['type'] === 'null');
const isDecimal = (s: S): boolean => s['type'] === 'string' && typeof s['pattern'] === 'string' && (s['pattern'] as string).startsWith('^\\d{1,');
const isDate = (s: S): boolean => s['format'] === 'date-time';

/** The fields an object schema requires (its `required`, plus those of its first `oneOf` branch). */
function requiredOf(s: S): string[] {
  return [...((s['required'] as string[] | undefined) ?? []), ...(((s['oneOf'] as S[] | undefined)?.[0]?.['required'] as string[] | undefined) ?? [])];
}

/** A valid value of `schema` (only required object fields are filled). */
export function valid(schema: S): unknown {
  const s = nonNull(schema);
  if (Array.isArray(s['examples'])) return (s['examples'] as unknown[])[0];
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[])[0];
  switch (s['type']) {
    case 'string': return isDate(s) ? '2026-11-01T00:00:00Z' : 'x'.repeat(Math.max(1, Number(s['minLength'] ?? 1)));
    case 'integer': return s['minimum'] ?? 1;
    case 'array': return Array.from({ length: Math.max(0, Number(s['minItems'] ?? 0)) }, () => valid(s['items'] as S));
    case 'object': return Object.fromEntries(requiredOf(s).map((k) => [k, valid((s['properties'] as Record<string, S>)[k]!)]));
    default: throw new Error(`no valid value for schema ${JSON.stringify(s)}`);
  }
}

/** Malformed values of one field's schema (each one the schema refuses). */
function badValues(schema: S): { what: string; value: unknown; tooLarge?: boolean }[] {
  const s = nonNull(schema);
  const out: { what: string; value: unknown; tooLarge?: boolean }[] = [];
  const wrongTypes: [string, unknown][] = [['an object', {}], ['a list', []], ['a boolean', true], ...(nullable(schema) ? [] : [['null', null]] as [string, unknown][])];
  if (s['type'] === 'string') {
    const example = String(valid(s));
    out.push({ what: 'NUL', value: `${example.slice(0, 1)}\u0000${example.slice(1)}` });
    out.push({ what: 'a control character', value: `${example}\u001b[31m` });
    out.push({ what: 'a lone surrogate', value: `${example}\ud800` });
    if (s['maxLength'] !== undefined) out.push({ what: 'one character too long', value: 'a'.repeat(Number(s['maxLength']) + 1) });
    out.push({ what: 'huge (1 MB)', value: 'a'.repeat(1 << 20), tooLarge: true });
    out.push({ what: 'a number', value: 12 }, ...wrongTypes.map(([what, value]) => ({ what, value })));
    if (isDecimal(s)) {
      out.push({ what: 'negative', value: '-1' }, { what: 'overflowing (10^30)', value: `1${'0'.repeat(30)}` }, { what: 'an exponent', value: '1e999999' },
        { what: 'too many decimals', value: '0.00000000001' }, { what: 'NaN', value: 'NaN' }, { what: 'a JSON number', value: 1.5 });
    }
    if (isDate(s)) {
      for (const d of ['2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-01T25:00:00Z', '2026-11-01T00:00:00', '+010000-01-01T00:00:00Z']) out.push({ what: `impossible date ${d}`, value: d });
    }
  } else if (s['type'] === 'integer') {
    out.push({ what: 'negative', value: -1 }, { what: 'too big', value: Number(s['maximum'] ?? 0) + 1 }, { what: 'huge (1e308)', value: 1e308 },
      { what: 'a fraction', value: 2.5 }, { what: 'a string', value: '4' }, { what: 'NUL', value: '4\u0000' }, ...wrongTypes.map(([what, value]) => ({ what, value })));
  } else if (s['type'] === 'array') {
    out.push({ what: 'a string', value: 'x' }, { what: 'an object', value: {} }, { what: 'NUL', value: '\u0000' }, ...(nullable(schema) ? [] : [{ what: 'null', value: null }]));
    if (s['maxItems'] !== undefined) out.push({ what: 'one item too many', value: Array.from({ length: Number(s['maxItems']) + 1 }, () => valid(s['items'] as S)), tooLarge: true });
  } else if (s['type'] === 'object') {
    out.push({ what: 'a string', value: 'x' }, { what: 'a list', value: [] }, { what: 'NUL', value: '\u0000' });
  }
  return out;
}

/** Every mutation of a body of schema `root`: one field at a time, nested fields and list items included. */
export function mutations(root: S): Mutation[] {
  const out: Mutation[] = [];
  // `set(value)` builds the whole body with the value at the current path.
  const walk = (schema: S, path: string, set: (v: unknown) => unknown): void => {
    const s = nonNull(schema);
    if (path !== '') for (const b of badValues(schema)) out.push({ field: path, what: b.what, value: set(b.value), ...(b.tooLarge ? { mayBeTooLarge: true } : {}) });
    if (s['type'] === 'object') {
      const base = valid(s) as Record<string, unknown>;
      const at = (k: string) => (path ? `${path}.${k}` : k);
      out.push({ field: at('zz_unknown'), what: 'an unknown field', value: set({ ...base, zz_unknown: 1 }) });
      for (const [k, sub] of Object.entries((s['properties'] as Record<string, S> | undefined) ?? {})) walk(sub, at(k), (v) => set({ ...base, [k]: v }));
    } else if (s['type'] === 'array') {
      const item = s['items'] as S;
      const one = valid(item);
      walk(item, `${path}[0]`, (v) => set([v]));
      if (s['uniqueItems'] === true) out.push({ field: `${path}[1]`, what: 'a repeated item', value: set([one, one]) });
    }
  };
  walk(root, '', (v) => v);
  return out;
}

/** Malformed values of one query parameter (a string in the URL). */
export function queryMutations(name: string, schema: S): Mutation[] {
  const s = nonNull(schema);
  const out: Mutation[] = [
    { field: name, what: 'NUL', value: 'a\u0000b' }, { field: name, what: 'a control character', value: 'a\u001bb' }, { field: name, what: 'empty', value: '' },
  ];
  if (s['maxLength'] !== undefined) out.push({ field: name, what: 'one character too long', value: 'a'.repeat(Number(s['maxLength']) + 1) });
  if (Array.isArray(s['enum'])) out.push({ field: name, what: 'not one of the choices', value: 'zz' });
  if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'] as string).test('-1')) out.push({ field: name, what: 'negative', value: '-1' });
  if (/date|time/i.test(String(s['description'] ?? ''))) {
    for (const d of ['2026-02-30', '0000-01-01', '2026-13-01', '2026-11-01T25:00:00Z', '9999-99-99']) out.push({ field: name, what: `impossible date ${d}`, value: d });
  }
  return out;
}
