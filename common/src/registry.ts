/**
 * The part of the component registry every Tally process needs: the heartbeat record
 * (who I am, where, what I run, my load), its wire form on the bus, and the loop that
 * sends it. The scheduler owns the registry tables and what it does with heartbeats
 * (`@tally/scheduler`); this file stays small so that the agent, which runs on compute
 * hosts without database access, can send heartbeats over the bus, while parts that
 * have the database hand theirs to the scheduler's writer directly (wired by the CLI).
 */
import { hostname } from 'node:os';
import { defineOptions, opt } from './config.js';
import { ValidationError } from './errors.js';
import type { Logger } from './log.js';
import type { NodeLoad } from './proc-load.js';
import type { ExchangeSpec, QueueSpec } from './bus/types.js';

/** The roles of Tally's parts. */
export const COMPONENT_ROLES = ['agent', 'analyzer', 'billing-api', 'scheduler'] as const;
export type ComponentRole = (typeof COMPONENT_ROLES)[number];

/** `running`; `draining` (stopping, finishing its work); `stopped` (deregistered on purpose). `lost` is the scheduler's verdict, never sent. */
export const HEARTBEAT_STATES = ['running', 'draining', 'stopped'] as const;
export type HeartbeatState = (typeof HEARTBEAT_STATES)[number];

/** One heartbeat: the registration (id, role, cluster, node, version, endpoints) and the load now. */
export interface ComponentHeartbeat {
  /** Stable id of this part: an analyzer's `analyzer-id`, `agent:<host>`, `billing-api:<host>:<port>`, … */
  id: string;
  role: ComponentRole;
  /** The cluster it belongs to (scheduling unit); by default its role's name. */
  cluster: string;
  /** Host name of the node it runs on. */
  node: string;
  version: string;
  /** Where to reach it, e.g. `{"api": "http://10.0.0.5:8889", "metrics": "http://…/metrics"}`. */
  endpoints: Record<string, string>;
  state: HeartbeatState;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601: when this heartbeat was made. */
  at: string;
  load: NodeLoad | null;
  /** Role-specific figures (an analyzer's message counters and processing lag). Plain numbers below 2^53. */
  metrics: Record<string, number>;
}

export const registryOptions = defineOptions('registry', 'how each part registers itself with the scheduler', {
  heartbeatInterval: opt.duration({ name: 'heartbeat-interval', default: '10s', minMs: 100, help: 'How often a running part sends its heartbeat (registration and load). The scheduler marks a part lost after lost-after without one.' }),
  componentCluster: opt.string({ name: 'component-cluster', default: '', pattern: /^[A-Za-z0-9_.-]{1,64}$/, help: "The cluster this part belongs to, for the scheduler. Empty: its role's name (analyzer, agent, billing-api, scheduler)." }),
});

/** Exchange heartbeats travel on (from parts without database access). */
export const REGISTRY_EXCHANGE: ExchangeSpec = { name: 'tally.registry', type: 'topic', durable: true, autoDelete: false };
/** The scheduler's queue of heartbeats. */
export const HEARTBEAT_QUEUE: QueueSpec = { name: 'tally.registry.heartbeats', durable: true, bindings: [{ exchange: REGISTRY_EXCHANGE, routingKey: 'heartbeat.#' }] };
/** Routing key of one part's heartbeat. */
export const heartbeatKey = (role: ComponentRole): string => `heartbeat.${role}`;

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const LOAD_KEYS = ['cpuPercent', 'memoryPercent', 'memoryTotalBytes', 'diskReadBytesPerS', 'diskWriteBytesPerS', 'netInBytesPerS', 'netOutBytesPerS', 'processCpuPercent', 'processRssBytes', 'cpus'] as const;

function text(o: Record<string, unknown>, field: string, re: RegExp, what: string): string {
  const v = o[field];
  if (typeof v !== 'string' || !re.test(v)) throw new ValidationError(field, `must be ${what}`);
  return v;
}

function instant(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw new ValidationError(field, 'must be an ISO 8601 time');
  return new Date(v).toISOString();
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER;

/** Check a heartbeat (from the bus, or any untrusted source); errors name the field. */
export function validateHeartbeat(v: unknown): ComponentHeartbeat {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('body', 'must be a JSON object');
  const o = v as Record<string, unknown>;
  const role = o['role'];
  if (!COMPONENT_ROLES.includes(role as ComponentRole)) throw new ValidationError('role', `must be one of ${COMPONENT_ROLES.join(', ')}`);
  const state = o['state'];
  if (!HEARTBEAT_STATES.includes(state as HeartbeatState)) throw new ValidationError('state', `must be one of ${HEARTBEAT_STATES.join(', ')}`);
  const endpoints = o['endpoints'] ?? {};
  if (typeof endpoints !== 'object' || endpoints === null || Array.isArray(endpoints)) throw new ValidationError('endpoints', 'must be an object of strings');
  const eps: Record<string, string> = {};
  for (const [k, x] of Object.entries(endpoints)) {
    if (!NAME.test(k) || typeof x !== 'string' || x.length > 512) throw new ValidationError(`endpoints.${k}`, 'must be a string of at most 512 characters under a plain name');
    eps[k] = x;
  }
  let load: NodeLoad | null = null;
  if (o['load'] !== null && o['load'] !== undefined) {
    const l = o['load'];
    if (typeof l !== 'object' || Array.isArray(l)) throw new ValidationError('load', 'must be an object or null');
    const out: Record<string, number> = {};
    for (const k of LOAD_KEYS) {
      const x = (l as Record<string, unknown>)[k];
      if (!finite(x) || x < 0) throw new ValidationError(`load.${k}`, 'must be a non-negative number');
      out[k] = x;
    }
    load = out as unknown as NodeLoad;
  }
  const metrics = o['metrics'] ?? {};
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new ValidationError('metrics', 'must be an object of numbers');
  const ms: Record<string, number> = {};
  for (const [k, x] of Object.entries(metrics)) {
    if (!NAME.test(k) || !finite(x)) throw new ValidationError(`metrics.${k}`, 'must be a finite number under a plain name');
    ms[k] = x;
  }
  return {
    id: text(o, 'id', ID, '1-128 letters, digits or ._:@-'),
    role: role as ComponentRole,
    cluster: text(o, 'cluster', NAME, '1-64 letters, digits or ._-'),
    node: text(o, 'node', /^[A-Za-z0-9_.:-]{1,255}$/, 'a host name'),
    version: text(o, 'version', /^[A-Za-z0-9_.+-]{1,64}$/, 'a version string'),
    endpoints: eps,
    state: state as HeartbeatState,
    startedAt: instant(o, 'startedAt'),
    at: instant(o, 'at'),
    load,
    metrics: ms,
  };
}

/** Parse a heartbeat message body (JSON); errors name the field. */
export function parseHeartbeat(body: Buffer): ComponentHeartbeat {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('body', 'not JSON');
  }
  return validateHeartbeat(v);
}

export function encodeHeartbeat(h: ComponentHeartbeat): Buffer {
  return Buffer.from(JSON.stringify(h));
}

/** Where heartbeats go: the scheduler's registry writer (database), or the bus. Rejections are logged, never thrown. */
export type HeartbeatSink = (h: ComponentHeartbeat) => Promise<void>;

/** What a part says about itself. */
export interface HeartbeatIdentity {
  id: string;
  role: ComponentRole;
  /** Empty: the role's name. */
  cluster: string;
  version: string;
  endpoints?: Record<string, string>;
  /** Host name; default the machine's. */
  node?: string;
}

/** A running heartbeat loop. */
export interface HeartbeatLoop {
  /** Send one heartbeat now with this state (e.g. `draining`). */
  beat(state?: HeartbeatState): Promise<void>;
  /** Stop the loop and send the last heartbeat (`stopped`: deregistered), unless `final` is false. */
  stop(final?: boolean): Promise<void>;
}

/**
 * Send a heartbeat at start, then every `intervalMs`, with the load from `readLoad` and
 * the figures from `metrics`. A failed send is logged once per outage; the next beat retries.
 */
export function startHeartbeat(deps: { sink: HeartbeatSink; log: Logger; readLoad: () => NodeLoad | null; metrics?: () => Record<string, number>; clock?: () => number },
  who: HeartbeatIdentity, intervalMs: number): HeartbeatLoop {
  const clock = deps.clock ?? Date.now;
  const startedAt = new Date(clock()).toISOString();
  let state: HeartbeatState = 'running';
  let failing = false;
  let stopped = false;
  const make = (): ComponentHeartbeat => ({
    id: who.id, role: who.role, cluster: who.cluster || who.role, node: who.node ?? hostname(), version: who.version, endpoints: who.endpoints ?? {},
    state, startedAt, at: new Date(clock()).toISOString(), load: deps.readLoad(), metrics: deps.metrics?.() ?? {},
  });
  const send = async (): Promise<void> => {
    try {
      await deps.sink(make());
      if (failing) deps.log.info('heartbeats delivered again', { id: who.id });
      failing = false;
    } catch (err) {
      if (!failing) deps.log.warn('heartbeat not delivered; retrying every interval', { id: who.id, err });
      failing = true;
    }
  };
  let chain: Promise<void> = send();
  const timer = setInterval(() => {
    chain = chain.then(send);
  }, intervalMs);
  timer.unref();
  return {
    beat(s) {
      if (s !== undefined) state = s;
      chain = chain.then(send);
      return chain;
    },
    async stop(final = true) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await chain;
      if (final) {
        state = 'stopped';
        await send();
      }
    },
  };
}
