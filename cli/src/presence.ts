/**
 * Every long-running part registers with the scheduler's registry and sends heartbeats:
 * straight into PostgreSQL when the part has the database (analyzer, billing-api,
 * scheduler, everything inside `tally start`), over the bus when it has not (the agent
 * on a compute host). The scheduler marks a part lost when its heartbeats stop.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  encodeHeartbeat, heartbeatKey, ProcLoadReader, REGISTRY_EXCHANGE, registryOptions, startHeartbeat,
  type Bus, type ComponentRole, type HeartbeatLoop, type Knex, type LoadedConfig, type Logger,
} from '@tally/common';
import { recordHeartbeat } from '@tally/scheduler';
import type { Lifecycle } from './shutdown.js';

let version: string | undefined;

/** Tally's version (the CLI package's). */
export function tallyVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** Where a part's heartbeats go. */
export type PresenceSink = { db: Knex } | { bus: Bus };

/** Start a part's heartbeat; the lifecycle stops it (deregistering) before what was registered earlier. */
export function startPresence(config: LoadedConfig, log: Logger, life: Lifecycle | undefined, sink: PresenceSink, who: {
  id: string; role: ComponentRole; endpoints?: Record<string, string>; metrics?: () => Record<string, number>;
}): HeartbeatLoop {
  const r = config.get(registryOptions);
  const reader = new ProcLoadReader();
  const loop = startHeartbeat({
    sink: 'db' in sink
      ? (h) => recordHeartbeat(sink.db, h).then(() => undefined)
      : (h) => sink.bus.publish({ exchange: REGISTRY_EXCHANGE, routingKey: heartbeatKey(h.role), body: encodeHeartbeat(h), properties: { contentType: 'application/json' } }),
    log: log.child('heartbeat'), readLoad: () => reader.read(), ...(who.metrics ? { metrics: who.metrics } : {}),
  }, { id: who.id, role: who.role, cluster: r.componentCluster, version: tallyVersion(), endpoints: who.endpoints ?? {} }, r.heartbeatInterval);
  life?.add(`${who.role} registration`, () => loop.stop());
  return loop;
}

/** `<role>:<host>` plus a suffix when several of a role run on one host. */
export const componentId = (role: ComponentRole, suffix?: string): string => `${role}:${hostname()}${suffix ? `:${suffix}` : ''}`;
