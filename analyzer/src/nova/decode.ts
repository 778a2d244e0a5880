/**
 * Decoding Nova's instance notifications, pure: versioned ones (topic
 * `versioned_notifications`, `instance.<action>.end`, payload an
 * `InstanceActionPayload` nova object) and legacy unversioned ones (topic
 * `notifications`, `compute.instance.<action>.end`, a flat payload), both in the
 * oslo 2.0 envelope. Bodies are parsed losslessly and kept as received.
 *
 * The instant of a transition is the notification's own `timestamp` (µs, when Nova
 * finished the action): versioned payloads carry their times to the second only,
 * and `launched_at` is reset by every resize and unshelve.
 */
import { ValidationError } from '@tally/common';
import { isJsonObject, isLosslessNumber, parseJson, type JsonObject, type JsonValue } from '../json.js';
import { parseTimestampUs } from '../timestamp.js';

/** What an action does to an instance. */
export const NOVA_ACTIONS = ['create', 'delete', 'power_off', 'power_on', 'resize_finish', 'resize_confirm', 'resize_revert', 'shelve', 'shelve_offload', 'unshelve'] as const;
export type NovaAction = (typeof NOVA_ACTIONS)[number];

/** Versioned event types (`instance.<x>.end`) and legacy ones (`compute.instance.<y>.end`) per action. */
const VERSIONED: Record<string, NovaAction> = {
  'instance.create.end': 'create', 'instance.delete.end': 'delete', 'instance.power_off.end': 'power_off', 'instance.power_on.end': 'power_on',
  'instance.resize_finish.end': 'resize_finish', 'instance.resize_confirm.end': 'resize_confirm', 'instance.resize_revert.end': 'resize_revert',
  'instance.shelve.end': 'shelve', 'instance.shelve_offload.end': 'shelve_offload', 'instance.unshelve.end': 'unshelve',
};
const LEGACY: Record<string, NovaAction> = {
  'compute.instance.create.end': 'create', 'compute.instance.delete.end': 'delete', 'compute.instance.power_off.end': 'power_off', 'compute.instance.power_on.end': 'power_on',
  'compute.instance.finish_resize.end': 'resize_finish', 'compute.instance.resize.confirm.end': 'resize_confirm', 'compute.instance.resize.revert.end': 'resize_revert',
  'compute.instance.shelve.end': 'shelve', 'compute.instance.shelve_offload.end': 'shelve_offload', 'compute.instance.unshelve.end': 'unshelve',
};

/** The flavor in a payload. */
export interface NovaFlavor {
  name: string | null;
  flavorId: string | null;
  vcpus: number | null;
  memoryMb: number | null;
  rootGb: number | null;
  ephemeralGb: number | null;
}

/** One instance event the analyzer uses. */
export interface NovaEvent {
  /** The notification's message_id (uuid4): the dedup key. */
  messageId: string;
  eventType: string;
  format: 'versioned' | 'legacy';
  action: NovaAction;
  instanceId: string;
  projectId: string;
  userId: string | null;
  /** The notification's timestamp, µs. */
  atUs: number;
  /** The instance's creation time from the payload, µs (null when absent or unparseable). */
  createdUs: number | null;
  flavor: NovaFlavor | null;
  displayName: string | null;
  host: string | null;
}

/** A decoded delivery: an event we use, or a valid notification we do not need (with why). */
export type DecodedNotification = { kind: 'event'; event: NovaEvent } | { kind: 'ignored'; eventType: string };

/** The body cannot be used at all: dead-letter it, naming the field. */
export class UndecodableNotification extends ValidationError {}

function text(o: JsonObject, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

function need(o: JsonObject, key: string, field: string): string {
  const v = text(o, key);
  if (v === null) throw new UndecodableNotification(field, o[key] === undefined ? 'missing' : 'must be a non-empty string');
  return v;
}

/** A non-negative whole number (exact text), or null when absent; a bad value names the field. */
function count(o: JsonObject, key: string, field: string): number | null {
  const v: JsonValue | undefined = o[key];
  if (v === undefined || v === null) return null;
  if (isLosslessNumber(v) && /^\d+$/.test(v.value) && Number.isSafeInteger(Number(v.value))) return Number(v.value);
  throw new UndecodableNotification(field, 'must be a non-negative integer');
}

function when(o: JsonObject, key: string): number | null {
  const v = text(o, key);
  if (v === null) return null;
  try {
    // Legacy payloads write "2026-12-04 02:36:26+00:00", versioned ones "2026-12-04T02:36:26Z".
    return parseTimestampUs(v, key);
  } catch {
    return null;
  }
}

function flavorOf(o: JsonObject, at: string): NovaFlavor {
  return {
    name: text(o, 'name'), flavorId: text(o, 'flavorid'),
    vcpus: count(o, 'vcpus', `${at}.vcpus`), memoryMb: count(o, 'memory_mb', `${at}.memory_mb`),
    rootGb: count(o, 'root_gb', `${at}.root_gb`), ephemeralGb: count(o, 'ephemeral_gb', `${at}.ephemeral_gb`),
  };
}

/** Decode one delivery body. Throws UndecodableNotification (naming the field) when it must be dead-lettered. */
export function decodeNotification(body: Buffer | string): DecodedNotification {
  const raw = typeof body === 'string' ? body : body.toString('utf8');
  let msg: JsonValue;
  try {
    msg = parseJson(raw);
    if (isJsonObject(msg) && 'oslo.message' in msg) {
      const inner = msg['oslo.message'];
      if (typeof inner !== 'string') throw new UndecodableNotification('oslo.message', 'not a string');
      msg = parseJson(inner);
    }
  } catch (e) {
    if (e instanceof UndecodableNotification) throw e;
    throw new UndecodableNotification('body', `not JSON: ${(e as Error).message}`);
  }
  if (!isJsonObject(msg)) throw new UndecodableNotification('oslo.message', 'not a JSON object');
  const eventType = msg['event_type'];
  if (typeof eventType !== 'string' || eventType === '') throw new UndecodableNotification('event_type', 'missing or not a string');
  const versioned = VERSIONED[eventType];
  const action = versioned ?? LEGACY[eventType];
  if (action === undefined) return { kind: 'ignored', eventType };
  const messageId = need(msg, 'message_id', 'message_id');
  const atUs = parseTimestampUs(need(msg, 'timestamp', 'timestamp'), 'timestamp');
  const payload = msg['payload'];
  if (!isJsonObject(payload)) throw new UndecodableNotification('payload', 'missing or not an object');
  let p: JsonObject = payload;
  let flavor: NovaFlavor | null;
  if (versioned !== undefined) {
    const data = payload['nova_object.data'];
    if (!isJsonObject(data)) throw new UndecodableNotification('payload.nova_object.data', 'missing or not an object');
    p = data;
    const f = p['flavor'];
    const fd = isJsonObject(f) ? f['nova_object.data'] : undefined;
    flavor = isJsonObject(fd) ? flavorOf(fd, 'payload.nova_object.data.flavor.nova_object.data') : null;
  } else {
    flavor = { ...flavorOf(p, 'payload'), name: text(p, 'instance_type'), flavorId: text(p, 'instance_flavor_id') };
  }
  const at = versioned !== undefined ? 'payload.nova_object.data' : 'payload';
  const event: NovaEvent = {
    messageId, eventType, format: versioned !== undefined ? 'versioned' : 'legacy', action,
    instanceId: need(p, versioned !== undefined ? 'uuid' : 'instance_id', `${at}.${versioned !== undefined ? 'uuid' : 'instance_id'}`),
    projectId: need(p, 'tenant_id', `${at}.tenant_id`),
    userId: text(p, 'user_id'),
    atUs,
    createdUs: when(p, 'created_at'),
    flavor,
    displayName: text(p, 'display_name'),
    host: text(p, 'host'),
  };
  return { kind: 'event', event };
}
