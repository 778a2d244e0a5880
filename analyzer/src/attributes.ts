/**
 * The instance attributes a heartbeat's metadata gives (flavor name, vCPUs, memory,
 * display name): read in one place, by the usage job and by validation, so that
 * exactly what the job stores is what ingest checks.
 */
import { ValidationError } from '@tally/common';
import { isJsonObject, isLosslessNumber, type JsonObject, type JsonValue } from './json.js';
import { checkText, MAX_INT4 } from './storable.js';

/** The meter whose samples serve as the instance heartbeat: polled once per cycle while the VM runs. */
export const HEARTBEAT_METER = 'cpu';

/** What a heartbeat's metadata says of its instance (null: not given). */
export interface HeartbeatAttributes {
  flavorName: string | null;
  vcpus: number | null;
  memoryMb: number | null;
  displayName: string | null;
}

function text(v: JsonValue | undefined, field: string): string | null {
  return typeof v === 'string' && v !== '' ? checkText(field, v) : null;
}

/** A whole number 0..2^31-1 (PostgreSQL integer); null when `v` is not a number at all (then unknown, as before). */
function int(v: JsonValue | undefined, field: string): number | null {
  if (!isLosslessNumber(v)) return null;
  const t = v.value;
  let ok = t.length > 0 && t.length <= 10;
  for (let i = 0; ok && i < t.length; i++) {
    const c = t.charCodeAt(i);
    ok = c >= 48 && c <= 57;
  }
  const n = ok ? Number(t) : NaN;
  if (!(n <= MAX_INT4)) throw new ValidationError(field, `must be a whole number from 0 to ${MAX_INT4}, got ${t}`);
  return n;
}

/**
 * The attributes of a heartbeat's metadata. Flavor facts come from the polling agent's
 * keys (`flavor`, `vcpus`, `memory_mb`), with the notification-derived keys
 * (`instance_type`, `flavor_name`) as fallback. Throws ValidationError naming the
 * field when a value that would be stored is out of range or not storable text.
 */
export function heartbeatAttributes(md: JsonObject): HeartbeatAttributes {
  const flavor: JsonObject = isJsonObject(md['flavor']) ? md['flavor'] : {};
  return {
    flavorName: text(flavor['name'], 'resource_metadata.flavor.name') ?? text(md['instance_type'], 'resource_metadata.instance_type') ?? text(md['flavor_name'], 'resource_metadata.flavor_name'),
    vcpus: int(md['vcpus'], 'resource_metadata.vcpus') ?? int(flavor['vcpus'], 'resource_metadata.flavor.vcpus'),
    memoryMb: int(md['memory_mb'], 'resource_metadata.memory_mb') ?? int(flavor['ram'], 'resource_metadata.flavor.ram'),
    displayName: text(md['display_name'], 'resource_metadata.display_name'),
  };
}
