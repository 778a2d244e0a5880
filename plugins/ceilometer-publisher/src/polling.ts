/**
 * Polling intervals per meter from Ceilometer's `polling.yaml`:
 *
 * ```yaml
 * sources:
 *   - name: cpu_source
 *     interval: 60
 *     meters: [cpu, "memory.*"]
 *   - name: the_rest
 *     interval: 600
 *     meters: ["!cpu", "!memory.*"]
 * ```
 *
 * As in Ceilometer: `*`/`?` wildcards (fnmatch), `!name` excludes; a source
 * lists either inclusions or exclusions, not both, and `*` stands alone. A meter
 * named by several sources is polled at each of their intervals. Only meters
 * this agent knows are scheduled; unknown names are ignored (Ceilometer's other
 * pollster namespaces).
 */
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '@tally/common';
import { METERS, type Meter } from './meters.js';

/** One `sources` entry. */
export interface PollingSource {
  name: string;
  /** Milliseconds. */
  intervalMs: number;
  meters: string[];
}

/** Meters polled together at one interval. */
export interface PollingGroup {
  intervalMs: number;
  meters: Meter[];
  /** The sources that put them here (for logs). */
  sources: string[];
}

/** Parse and validate a polling.yaml text; errors name the field (`sources[1].interval`). */
export function parsePollingConfig(text: string): PollingSource[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ValidationError('polling-config', `not YAML: ${(e as Error).message}`);
  }
  const sources = (doc as { sources?: unknown } | null)?.sources;
  if (!Array.isArray(sources) || sources.length === 0) throw new ValidationError('sources', 'a non-empty list is required');
  return sources.map((s: unknown, i) => {
    const f = `sources[${i}]`;
    if (typeof s !== 'object' || s === null) throw new ValidationError(f, 'must be a mapping');
    const o = s as Record<string, unknown>;
    if (typeof o['name'] !== 'string' || o['name'] === '') throw new ValidationError(`${f}.name`, 'required');
    const interval = o['interval'];
    if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1) throw new ValidationError(`${f}.interval`, `must be a whole number of seconds >= 1, got ${JSON.stringify(interval)}`);
    const meters = o['meters'];
    if (!Array.isArray(meters) || meters.length === 0 || !meters.every((m) => typeof m === 'string' && m !== '')) throw new ValidationError(`${f}.meters`, 'a non-empty list of meter names is required');
    const inc = meters.filter((m: string) => !m.startsWith('!'));
    if (inc.length > 0 && inc.length < meters.length) throw new ValidationError(`${f}.meters`, 'both included and excluded meters specified');
    if (inc.includes('*') && inc.length > 1) throw new ValidationError(`${f}.meters`, 'included meters specified with wildcard');
    return { name: o['name'], intervalMs: interval * 1000, meters: meters as string[] };
  });
}

function fnmatch(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** Does `source` poll `meter`? */
export function sourceMatches(source: PollingSource, meter: string): boolean {
  const exc = source.meters.filter((m) => m.startsWith('!'));
  if (exc.length > 0) return !exc.some((m) => fnmatch(m.slice(1), meter));
  return source.meters.some((m) => fnmatch(m, meter));
}

/** Group this agent's meters by interval (ascending); meters no source names are not polled. */
export function pollingGroups(sources: readonly PollingSource[], meters: readonly Meter[] = METERS): PollingGroup[] {
  const byInterval = new Map<number, PollingGroup>();
  for (const s of sources) {
    const g = byInterval.get(s.intervalMs) ?? { intervalMs: s.intervalMs, meters: [], sources: [] };
    byInterval.set(s.intervalMs, g);
    g.sources.push(s.name);
    for (const m of meters) if (sourceMatches(s, m.name) && !g.meters.includes(m)) g.meters.push(m);
  }
  return [...byInterval.values()].filter((g) => g.meters.length > 0).sort((a, b) => a.intervalMs - b.intervalMs);
}
