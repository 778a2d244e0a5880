/**
 * Reading request bodies: a size limit (413), the media type (415), strict UTF-8,
 * then JSON (or YAML where a route allows it). What the document must hold is the
 * route's schema's business (schema.ts).
 */
import type { Context } from 'koa';
import { parse as parseYaml } from 'yaml';
import { TallyError, ValidationError } from '@tally/common';

/** The body is larger than allowed: 413. */
export class PayloadTooLargeError extends TallyError {
  constructor(limit: number) {
    super('payload_too_large', `the request body is larger than ${limit} bytes`, { field: 'body' });
  }
}

/** Default body limit; policy texts are the largest bodies. */
export const BODY_LIMIT = 256 * 1024;

/** Whether the request carries a body at all (a declared length above 0, or a chunked one). */
export function hasBody(ctx: Context): boolean {
  const len = ctx.get('content-length');
  return len !== '' ? Number(len) > 0 : ctx.get('transfer-encoding') !== '';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The raw body as text, at most `limit` bytes, strictly UTF-8. */
async function readText(ctx: Context, limit: number): Promise<string> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk);
  }
  try {
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new ValidationError('body', 'is not valid UTF-8');
  }
}

/** Read the request body as JSON (any value; the route's schema says what it must be). */
export async function jsonBody(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  if (Number(ctx.get('content-length') || '0') > limit) throw new PayloadTooLargeError(limit);
  if (!ctx.is('application/json')) throw new TallyError('unsupported_media_type', 'the body must be application/json', { field: 'body' });
  const text = await readText(ctx, limit);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ValidationError('body', `not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

/** Read the request body as YAML (aliases bounded, so a small body cannot expand into a huge one). */
export async function yamlBody(ctx: Context, limit = BODY_LIMIT): Promise<unknown> {
  const text = await readText(ctx, limit);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 10 });
  } catch (e) {
    throw new ValidationError('body', `not valid YAML: ${(e as Error).message.split('\n')[0]!.slice(0, 200)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError('body', 'must be a YAML mapping');
  return doc;
}
