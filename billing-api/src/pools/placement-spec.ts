/**
 * Which resource providers make up a pool: the `placement-pools` option, pure.
 *
 *   gold=aggregate:2d0b…-uuid; az1=az:tally-az-1; lab=providers:compute-1,compute-2
 *
 * `aggregate:` takes a Placement/Nova aggregate uuid (read from Placement alone) or a
 * Nova host-aggregate name (resolved through Nova's os-aggregates); `az:` a Nova
 * availability zone (its hosts through os-availability-zone, their providers through
 * os-hypervisors); `providers:` provider uuids or names, comma separated.
 */
import { ValidationError } from '@tally/common';

/** How a pool is made of resource providers. */
export type PoolSource =
  | { kind: 'aggregate'; uuid: string }
  | { kind: 'aggregate'; name: string }
  | { kind: 'az'; zone: string }
  | { kind: 'providers'; uuids: string[]; names: string[] };

/** One pool read from Placement. */
export interface PlacementPool {
  name: string;
  source: PoolSource;
  /** The spec as written after the `=`, for display. */
  spec: string;
}

const POOL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const VALUE = /^[^\s,;=]{1,255}$/;

/** Whether `s` is a uuid (with or without dashes). */
export const isUuid = (s: string): boolean => UUID.test(s);

/** Parse the option's text; every problem names the option and the pool. Empty text: no pools. */
export function parsePlacementPools(text: string, option = 'placement-pools'): PlacementPool[] {
  const out: PlacementPool[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(/[;\n]/)) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq).trim();
    if (!POOL_NAME.test(name)) throw new ValidationError(option, `"${item}": a pool is name=kind:value with a name of 1-64 letters, digits, dots, dashes or underscores`);
    if (seen.has(name)) throw new ValidationError(option, `pool ${name} is listed twice`);
    seen.add(name);
    const spec = item.slice(eq + 1).trim();
    const colon = spec.indexOf(':');
    const kind = colon < 0 ? '' : spec.slice(0, colon).trim();
    const value = spec.slice(colon + 1).trim();
    const bad = (why: string) => new ValidationError(option, `pool ${name}: ${why}`);
    let source: PoolSource;
    if (kind === 'aggregate') {
      if (!VALUE.test(value)) throw bad('aggregate: needs an aggregate uuid or name');
      source = isUuid(value) ? { kind: 'aggregate', uuid: value.toLowerCase() } : { kind: 'aggregate', name: value };
    } else if (kind === 'az') {
      if (!VALUE.test(value)) throw bad('az: needs an availability zone name');
      source = { kind: 'az', zone: value };
    } else if (kind === 'providers') {
      const list = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
      if (list.length === 0 || list.some((v) => !VALUE.test(v))) throw bad('providers: needs provider uuids or names, comma separated');
      source = { kind: 'providers', uuids: list.filter(isUuid).map((v) => v.toLowerCase()), names: list.filter((v) => !isUuid(v)) };
    } else {
      throw bad(`unknown kind ${JSON.stringify(kind)} (aggregate, az or providers)`);
    }
    out.push({ name, source, spec });
  }
  return out;
}
