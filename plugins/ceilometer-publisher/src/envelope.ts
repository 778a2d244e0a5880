/**
 * The oslo.messaging "2.0" envelope of a notification, as the rabbit driver
 * (`messagingv2`) publishes it: `{"oslo.version": "2.0", "oslo.message": "<json>"}`,
 * both layers in Python `json.dumps` format.
 */
import type { MessageProperties } from '@tally/common';
import { ValidationError } from '@tally/common';
import { dumps, isDict, parsePy, pyJsonString, type PyDict, type PyValue } from './pyjson.js';
import { pyDatetimeStr, uuid4, uuid4Hex } from './ids.js';

/** The AMQP properties kombu sets on every notification (wire-format spec §2.2). */
export const NOTIFICATION_PROPERTIES: Readonly<MessageProperties> = Object.freeze({
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers: {},
  deliveryMode: 2,
  priority: 0,
});

/** Identifiers oslo generates per notification; tests pin them, production lets them default. */
export interface EnvelopeIds {
  /** `str(uuid.uuid4())`. */
  messageId?: string;
  /** `str(timeutils.utcnow())`: `YYYY-MM-DD HH:MM:SS.ffffff`. */
  timestamp?: string;
  /** `uuid.uuid4().hex`; must be fresh for every publish, retries included (the listener drops repeats). */
  uniqueId?: string;
}

/** One notification: what `Notifier._notify` passes to the driver. */
export interface Notification {
  publisherId: string;
  eventType: string;
  /** Upper-case, e.g. `SAMPLE`, `INFO`. */
  priority: string;
  payload: PyValue;
}

/** The encoded body and its properties. */
export interface EncodedNotification {
  body: Buffer;
  properties: MessageProperties;
  /** The inner message dict (for logs and tests). */
  message: PyDict;
}

/** Encode any notification in the 2.0 envelope, inner keys in oslo's order. */
export function encodeNotification(n: Notification, ids: EnvelopeIds = {}): EncodedNotification {
  const message: PyDict = {
    message_id: ids.messageId ?? uuid4(),
    publisher_id: n.publisherId,
    event_type: n.eventType,
    priority: n.priority,
    payload: n.payload,
    timestamp: ids.timestamp ?? pyDatetimeStr(new Date()),
    _unique_id: ids.uniqueId ?? uuid4Hex(),
  };
  const outer = dumps({ 'oslo.version': '2.0', 'oslo.message': dumps(message) });
  return { body: Buffer.from(outer, 'ascii'), properties: { ...NOTIFICATION_PROPERTIES, headers: {} }, message };
}

/**
 * The polling agent's notification: publisher `ceilometer.polling`, event type
 * `telemetry.polling`, priority `SAMPLE`, payload `{"samples": [...]}`.
 */
export function encodePollingNotification(samples: PyDict[], ids: EnvelopeIds = {}): EncodedNotification {
  return encodeNotification(
    { publisherId: 'ceilometer.polling', eventType: 'telemetry.polling', priority: 'SAMPLE', payload: { samples } },
    ids,
  );
}

/**
 * Decode a body (2.0 envelope or a bare v1 dict) into the inner message dict,
 * keeping ints as bigint and floats as PyFloat so signatures can be re-checked.
 */
export function decodeNotification(body: Buffer | string): PyDict {
  const outer = parsePy(typeof body === 'string' ? body : body.toString('utf8'));
  if (!isDict(outer) || outer instanceof Map) throw new ValidationError('body', 'not a JSON object');
  const inner = outer['oslo.message'];
  if (outer['oslo.version'] === undefined) return outer;
  if (typeof inner !== 'string') throw new ValidationError('oslo.message', 'not a string');
  const msg = parsePy(inner);
  if (!isDict(msg) || msg instanceof Map) throw new ValidationError('oslo.message', 'not a JSON object');
  return msg;
}

/**
 * {@link encodePollingNotification} from samples already serialised with `dumps`
 * (the journal keeps them so): the same bytes without serialising them again.
 */
export function encodePollingNotificationJson(samplesJson: string, ids: EnvelopeIds = {}): { body: Buffer; properties: MessageProperties } {
  const head = dumps({ message_id: ids.messageId ?? uuid4(), publisher_id: 'ceilometer.polling', event_type: 'telemetry.polling', priority: 'SAMPLE' });
  const inner = `${head.slice(0, -1)}, "payload": {"samples": ${samplesJson}}, "timestamp": ${pyJsonString(ids.timestamp ?? pyDatetimeStr(new Date()))}, "_unique_id": ${pyJsonString(ids.uniqueId ?? uuid4Hex())}}`;
  const outer = `{"oslo.version": "2.0", "oslo.message": ${pyJsonString(inner)}}`;
  return { body: Buffer.from(outer, 'ascii'), properties: { ...NOTIFICATION_PROPERTIES, headers: {} } };
}
