/**
 * The sample this package produces, and its wire dict: what
 * `ceilometer.publisher.utils.meter_message_from_counter` builds, key for key.
 */
import { PyFloat, type PyDict } from './pyjson.js';
import { computeSignature } from './signature.js';

/** Ceilometer's three sample types. */
export type SampleType = 'cumulative' | 'gauge' | 'delta';

/**
 * One measurement, as a Ceilometer compute pollster produces it.
 *
 * `volume` keeps Python's int/float distinction: counters are `bigint`
 * (exact above 2^53), `memory.*` meters are {@link PyFloat}. The two sign and
 * print differently (`512` vs `512.0`).
 */
export interface Sample {
  /** `[DEFAULT] sample_source`, normally `openstack`. */
  source: string;
  /** Meter name, e.g. `cpu`, `disk.device.read.bytes`. */
  name: string;
  type: SampleType;
  unit: string;
  volume: bigint | PyFloat;
  userId: string | null;
  projectId: string | null;
  resourceId: string;
  /** Python `isoformat()` of naive UTC, shared by all samples of one meter run (see `pyIsoformat`). */
  timestamp: string;
  /** Insertion-ordered; must not use integer-like keys (see pyjson). */
  resourceMetadata: PyDict;
  /** `str(uuid.uuid1())` (see `uuid1`). */
  id: string;
  /** Seconds of `time.monotonic()` when the stats were read, or null. */
  monotonicTime: PyFloat | null;
}

/**
 * The sample dict in Ceilometer's key order, signed with `secret`
 * (an empty secret gives `message_signature: ""`).
 */
export function toWireDict(sample: Sample, secret: string): PyDict {
  const d: PyDict = {
    source: sample.source,
    counter_name: sample.name,
    counter_type: sample.type,
    counter_unit: sample.unit,
    counter_volume: sample.volume,
    user_id: sample.userId,
    project_id: sample.projectId,
    resource_id: sample.resourceId,
    timestamp: sample.timestamp,
    resource_metadata: sample.resourceMetadata,
    message_id: sample.id,
    monotonic_time: sample.monotonicTime,
  };
  d['message_signature'] = computeSignature(d, secret);
  return d;
}

/** Seconds since an arbitrary point, as Python's `time.monotonic()` reports them (a float). */
export function monotonicSeconds(): PyFloat {
  // hrtime in ns → seconds with 9 decimals, like Linux's CLOCK_MONOTONIC in Python.
  return new PyFloat(Number(process.hrtime.bigint()) / 1e9);
}
