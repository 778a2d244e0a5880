/**
 * Reading and checking JSON bodies: a size limit (413), JSON only (415),
 * and small field readers that throw a ValidationError naming the field.
 */
import type { Context } from 'koa';
import { TallyError, ValidationError } from '@tally/common';

/** The body is larger than allowed: 413. */
export class PayloadTooLargeError extends TallyError {
  constructor(limit: number) {
    super('payload_too_large', `the request body is larger than ${limit} bytes`, { field: 'body' });
  }
}

/** Default body limit; policy texts are the largest bodies. */
export const BODY_LIMIT = 256 * 1024;

/** Read the request body as a JSON object. */
export async function jsonBody(ctx: Context, limit = BODY_LIMIT): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  if (!ctx.is('application/json')) throw new TallyError('unsupported_media_type', 'the body must be application/json', { field: 'body' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new ValidationError('body', `not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError('body', 'must be a JSON object');
  return doc as Record<string, unknown>;
}

/** Refuse fields not in `allowed` (typos never pass silently). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw new ValidationError(k, `unknown field (allowed: ${allowed.join(', ')})`);
}

/** A required (or optional, when `optional`) string of 1..max characters matching `re`. */
export function str(body: Record<string, unknown>, field: string, o: { max?: number; re?: RegExp; optional?: boolean; what?: string } = {}): string | undefined {
  const v = body[field];
  if (v === undefined && o.optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ValidationError(field, 'is required (a non-empty string)');
  if (v.length > (o.max ?? 255)) throw new ValidationError(field, `must be at most ${o.max ?? 255} characters`);
  if (o.re && !o.re.test(v)) throw new ValidationError(field, `must be ${o.what ?? `like ${o.re.source}`}`);
  return v;
}

const DECIMAL = /^\d{1,18}(\.\d{1,6})?$/;

/** A money amount as a decimal string (no sign, at most 6 decimals); `positive` refuses zero. */
export function money(body: Record<string, unknown>, field: string, o: { optional?: boolean; positive?: boolean } = {}): string | undefined {
  const v = body[field];
  if (v === undefined && o.optional) return undefined;
  if (typeof v !== 'string' || !DECIMAL.test(v)) throw new ValidationError(field, 'must be a decimal string such as "12.50" (no sign, at most 6 decimals; numbers are refused so no amount is ever rounded by JSON)');
  if (o.positive && /^[0.]+$/.test(v)) throw new ValidationError(field, 'must be more than zero');
  return v;
}

/** One of `choices`. */
export function oneOf<T extends string>(body: Record<string, unknown>, field: string, choices: readonly T[], optional = false): T | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !choices.includes(v as T)) throw new ValidationError(field, `must be one of ${choices.join(', ')}`);
  return v as T;
}

/** An ISO 8601 timestamp with a zone. */
export function timestamp(body: Record<string, unknown>, field: string, optional = false): Date | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new ValidationError(field, 'must be an ISO 8601 timestamp with a zone, e.g. 2026-11-01T00:00:00Z');
  }
  return new Date(v);
}

/** A list of ids (each 1-64 letters, digits, dots, dashes, underscores), at most `max`, no duplicates. */
export function idList(body: Record<string, unknown>, field: string, max = 1000, optional = false): string[] | undefined {
  const v = body[field];
  if (v === undefined && optional) return undefined;
  if (!Array.isArray(v) || v.length > max) throw new ValidationError(field, `must be a list of at most ${max} ids`);
  for (const [i, x] of v.entries()) if (typeof x !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(x)) throw new ValidationError(`${field}[${i}]`, 'must be an id of 1-64 letters, digits, dots, dashes or underscores');
  if (new Set(v).size !== v.length) throw new ValidationError(field, 'must not repeat an id');
  return v as string[];
}
