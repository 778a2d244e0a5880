/**
 * Identifiers and timestamps in the exact text forms Python produces:
 * `uuid.uuid1()`, `uuid.uuid4()`, `datetime.isoformat()` and `str(datetime)`.
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** 100 ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch. */
const GREGORIAN_OFFSET = 0x01b21dd213814000n;

let lastV1 = 0n;
// Python uses the host MAC; a random node with the multicast bit set is the
// RFC 4122 way to avoid leaking it while never colliding with a real MAC.
const node = randomBytes(6);
node[0] = node[0]! | 0x01;
const clockSeq = randomBytes(2).readUInt16BE(0) & 0x3fff;

/**
 * A time-based v1 UUID (`str(uuid.uuid1())`), the form Ceilometer uses for
 * `Sample.id`. Like CPython, a timestamp that does not advance is bumped by one
 * 100 ns tick so ids stay unique within a process.
 */
export function uuid1(at: Date = new Date()): string {
  let ts = BigInt(at.getTime()) * 10_000n + GREGORIAN_OFFSET;
  if (ts <= lastV1) ts = lastV1 + 1n;
  lastV1 = ts;
  const timeLow = ts & 0xffffffffn;
  const timeMid = (ts >> 32n) & 0xffffn;
  const timeHi = ((ts >> 48n) & 0x0fffn) | 0x1000n;
  const seq = (clockSeq | 0x8000) & 0xbfff; // RFC 4122 variant bits 10
  const hex = (v: bigint | number, n: number): string => v.toString(16).padStart(n, '0');
  return `${hex(timeLow, 8)}-${hex(timeMid, 4)}-${hex(timeHi, 4)}-${hex(seq, 4)}-${node.toString('hex')}`;
}

/** `str(uuid.uuid4())`. */
export function uuid4(): string {
  return randomUUID();
}

/** `uuid.uuid4().hex`: 32 lower-case hex characters, no dashes. */
export function uuid4Hex(): string {
  return randomUUID().replace(/-/g, '');
}

function parts(d: Date, micros: number | undefined): [string, string] {
  const iso = d.toISOString(); // always UTC, YYYY-MM-DDTHH:MM:SS.mmmZ
  const us = micros ?? d.getUTCMilliseconds() * 1000;
  if (!Number.isInteger(us) || us < 0 || us > 999_999) throw new RangeError(`microseconds out of range: ${us}`);
  return [iso.slice(0, 19), us === 0 ? '' : '.' + String(us).padStart(6, '0')];
}

/**
 * `datetime.isoformat()` of a naive UTC datetime: `2026-11-21T20:12:51.393428`,
 * no offset, and no fraction at all when the microsecond is 0 (Python semantics).
 * `micros` overrides the sub-second part (a JS Date only has milliseconds).
 */
export function pyIsoformat(d: Date, micros?: number): string {
  const [base, frac] = parts(d, micros);
  return base + frac;
}

/** `str(datetime)` of a naive UTC datetime: `2026-11-21 20:11:55.141300` (space separator). */
export function pyDatetimeStr(d: Date, micros?: number): string {
  const [base, frac] = parts(d, micros);
  return base.replace('T', ' ') + frac;
}
