/**
 * Decoding of one AMQP delivery into samples: the oslo.messaging 2.0 envelope (a
 * JSON object whose `oslo.message` is itself JSON text) or a v1 body (the message
 * dict itself), with event_type `telemetry.polling` (payload `{"samples": [...]}`)
 * or `metering[.<meter>]` (payload a bare list). See ceilometer-wire-format.md §2.3, §4, §7.
 */
import { ValidationError } from '@tally/common';
import { isJsonObject, isLosslessNumber, parseJson, parseJsonFast, stringifyJson, type JsonObject, type JsonValue } from './json.js';
import { HEARTBEAT_METER, heartbeatAttributes, type HeartbeatAttributes } from './attributes.js';
import { checkText, nulPath, volumeProblem } from './storable.js';
import { parseTimestampUs } from './timestamp.js';

/**
 * One sample as the analyzer understands it: the fields Ceilometer's own
 * `build_sample` reads, validated. Numbers are exact decimal text.
 */
export interface RawSample {
  source: string;
  counter_name: string;
  counter_type: string;
  counter_unit: string;
  /** Exact decimal text of the volume (`"9085000000000121"`, `"512.0"`); never a JS number. */
  counter_volume: string;
  user_id: string | null;
  project_id: string | null;
  resource_id: string;
  /** As received (Python isoformat, naive UTC or with an offset); known to parse. */
  timestamp: string;
  /** `timestamp` in integer microseconds since the epoch. */
  timestampUs: number;
  resource_metadata: JsonObject;
  /** Ceilometer's per-sample id (uuid1); the dedup key. */
  message_id: string;
  /** Exact decimal text, or null (always null after the notification agent). */
  monotonic_time: string | null;
  message_signature: string | null;
  /** For a heartbeat (`cpu`), its metadata's instance attributes, validated; undefined for other meters. */
  attributes?: HeartbeatAttributes | undefined;
}

/** A sample that passed validation, with the wire object it came from (written to the DFS as is). */
export interface DecodedSample {
  sample: RawSample;
  wire: JsonObject;
  /** Position in the message's sample list. */
  index: number;
}

/** A sample that failed validation: dead-lettered on its own, its siblings still ingested. */
export interface RejectedSample {
  index: number;
  reason: string;
  /** The field at fault, e.g. `samples[2].counter_volume`'s `counter_volume`. */
  field: string | undefined;
  wire: JsonValue | undefined;
}

export interface DecodedMessage {
  /** The notification's own message_id (uuid4), when present. */
  messageId: string | undefined;
  eventType: string;
  /** `envelope` for oslo 2.0, `v1` for a body without the envelope. */
  format: 'envelope' | 'v1';
  samples: DecodedSample[];
  rejected: RejectedSample[];
}

/** The whole body is unusable (not JSON, no payload, unknown event type): dead-letter it whole. */
export class UndecodableMessage extends ValidationError {}

// Ceilometer filters with re.match('telemetry.polling', ...): a prefix match in which '.' is any character.
const POLLING = /^telemetry.polling/;
const METERING = /^metering(\.|$)/;

/** Decode one delivery body. Throws UndecodableMessage when nothing in it can be used. */
export function decodeBody(body: Buffer | string): DecodedMessage {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let outer: JsonValue;
  try {
    outer = parseJson(text);
  } catch (e) {
    throw new UndecodableMessage('body', `not JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(outer)) throw new UndecodableMessage('body', 'not a JSON object');
  let msg: JsonValue = outer;
  let format: DecodedMessage['format'] = 'v1';
  if ('oslo.message' in outer) {
    const inner = outer['oslo.message'];
    if (typeof inner !== 'string') throw new UndecodableMessage('oslo.message', 'not a string');
    try {
      msg = parseJson(inner);
    } catch (e) {
      throw new UndecodableMessage('oslo.message', `not JSON: ${(e as Error).message}`);
    }
    format = 'envelope';
  }
  if (!isJsonObject(msg)) throw new UndecodableMessage('oslo.message', 'not a JSON object');
  const eventType = msg['event_type'];
  if (typeof eventType !== 'string') throw new UndecodableMessage('event_type', 'missing or not a string');
  const payload = msg['payload'];
  let list: JsonValue | undefined;
  if (POLLING.test(eventType)) {
    if (!isJsonObject(payload)) throw new UndecodableMessage('payload', 'telemetry.polling payload must be an object');
    list = payload['samples'];
    if (!Array.isArray(list)) throw new UndecodableMessage('payload.samples', 'missing or not a list');
  } else if (METERING.test(eventType)) {
    list = payload;
    if (!Array.isArray(list)) throw new UndecodableMessage('payload', 'metering payload must be a list');
  } else {
    throw new UndecodableMessage('event_type', `unsupported event_type ${JSON.stringify(eventType)}`);
  }
  const samples: DecodedSample[] = [];
  const rejected: RejectedSample[] = [];
  // A NUL can only be in a string as the escape \u0000: one scan of the text, and a walk only when it is there.
  const mayHoldNul = (format === 'envelope' ? (outer['oslo.message'] as string) : text).includes('\\u0000');
  list.forEach((wire, index) => {
    try {
      if (!isJsonObject(wire)) throw new ValidationError('sample', 'not a JSON object');
      const sample = validateSample(wire);
      const at = mayHoldNul ? nulPath(wire, '') : undefined;
      if (at !== undefined) throw new ValidationError(at, 'contains NUL (\\u0000)');
      samples.push({ sample, wire, index });
    } catch (e) {
      // A stack overflow walking a deeply nested sample is as permanent as a bad field: reject it, never requeue.
      if (e instanceof RangeError) rejected.push({ index, reason: `sample: cannot be checked: ${e.message}`, field: 'sample', wire });
      else if (!(e instanceof ValidationError)) throw e;
      else rejected.push({ index, reason: e.message, field: e.field, wire });
    }
  });
  const id = msg['message_id'];
  return { messageId: typeof id === 'string' ? id : undefined, eventType, format, samples, rejected };
}

function str(o: JsonObject, field: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new ValidationError(field, v === undefined ? 'missing' : 'must be a string');
  return v;
}

function nonEmpty(o: JsonObject, field: string): string {
  const v = str(o, field);
  if (v === '') throw new ValidationError(field, 'must not be empty');
  return v;
}

function strOrNull(o: JsonObject, field: string): string | null {
  const v = o[field];
  if (v === null) return v;
  if (typeof v === 'string') return checkText(field, v);
  throw new ValidationError(field, v === undefined ? 'missing' : 'must be a string or null');
}

/**
 * Validate one wire sample into a RawSample. Mirrors what Ceilometer's notification
 * agent requires (the 11 keys `build_sample` reads, a numeric volume) and adds what
 * the analyzer needs: a parseable timestamp and a non-empty message_id for dedup, and
 * that every field the jobs store fits its column (see storable.ts): texts of at most
 * 255 characters without NUL, a non-negative volume below 1e40 with at most 18
 * decimals, a timestamp from 1970 on, a heartbeat's vCPUs and memory as int4.
 * Throws ValidationError naming the field.
 */
export function validateSample(o: JsonObject): RawSample {
  const volume = o['counter_volume'];
  let counterVolume: string | undefined;
  if (isLosslessNumber(volume)) counterVolume = volume.value;
  // A numeric string passes Ceilometer's float() check and stays a string (wire format §7).
  else if (typeof volume === 'string') counterVolume = volume.trim();
  const problem = counterVolume === undefined ? undefined : volumeProblem(counterVolume);
  if (problem === undefined || counterVolume === undefined) throw new ValidationError('counter_volume', volume === undefined ? 'missing' : `not a number: ${stringifyJson(volume).slice(0, 100)}`);
  if (problem !== null) throw new ValidationError('counter_volume', `${problem}: ${counterVolume.slice(0, 100)}`);
  const timestamp = nonEmpty(o, 'timestamp');
  const timestampUs = parseTimestampUs(timestamp, 'timestamp');
  if (timestampUs < 0) throw new ValidationError('timestamp', `before 1970: ${JSON.stringify(timestamp)}`);
  const meta = o['resource_metadata'];
  if (meta === undefined) throw new ValidationError('resource_metadata', 'missing');
  if (meta !== null && !isJsonObject(meta)) throw new ValidationError('resource_metadata', 'must be an object or null');
  const mono = o['monotonic_time'];
  let monotonic: string | null = null;
  if (isLosslessNumber(mono)) monotonic = mono.value;
  else if (mono !== undefined && mono !== null) throw new ValidationError('monotonic_time', 'must be a number or null');
  const sig = o['message_signature'];
  if (sig !== undefined && sig !== null && typeof sig !== 'string') throw new ValidationError('message_signature', 'must be a string');
  const counterName = checkText('counter_name', nonEmpty(o, 'counter_name'));
  const metadata = meta ?? {};
  // Every RawSample gets the same shape (attributes undefined but present), so the code reading it stays monomorphic.
  return {
    source: str(o, 'source'),
    counter_name: counterName,
    counter_type: str(o, 'counter_type'),
    counter_unit: checkText('counter_unit', str(o, 'counter_unit')),
    counter_volume: counterVolume,
    user_id: strOrNull(o, 'user_id'),
    project_id: strOrNull(o, 'project_id'),
    resource_id: checkText('resource_id', nonEmpty(o, 'resource_id')),
    timestamp,
    timestampUs,
    resource_metadata: metadata,
    message_id: checkText('message_id', nonEmpty(o, 'message_id')),
    monotonic_time: monotonic,
    message_signature: typeof sig === 'string' ? sig : null,
    attributes: counterName === HEARTBEAT_METER ? heartbeatAttributes(metadata) : undefined,
  };
}

/** One DFS line for a wire sample: the object as received, number literals unchanged. */
export function encodeSampleLine(wire: JsonObject): string {
  return stringifyJson(wire);
}

/** Read one DFS line back into a RawSample (throws ValidationError if the line is bad). Values exact; see parseJsonFast. */
export function decodeSampleLine(line: string): RawSample {
  let v: JsonValue;
  try {
    v = parseJsonFast(line);
  } catch (e) {
    throw new ValidationError('line', `not JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(v)) throw new ValidationError('line', 'not a JSON object');
  return validateSample(v);
}
