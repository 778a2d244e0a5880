/**
 * "Drain on command": before the scheduler removes an analyzer, it asks it over the bus
 * to stop taking deliveries, write and acknowledge the batch in hand, and deregister;
 * only then is its server (or process) deleted, so no delivery is left unacknowledged
 * on a machine about to vanish.
 *
 * - exchange `tally.analyzer.control` (topic, not durable), routing key
 *   `analyzer.drain.<analyzer-id>`;
 * - body (JSON): `{"command": "drain", "request_id": "<id>", "reason": "<text>"}`;
 * - once drained, the analyzer publishes `{"event": "drained", "analyzer_id", "request_id",
 *   "at", "messages", "samples"}` with routing key `analyzer.drained.<analyzer-id>`.
 *
 * Each analyzer consumes its own queue `tally.analyzer.control.<analyzer-id>`; repeating
 * the command is harmless (one drain runs). A malformed command is logged, counted and
 * dead-lettered to queue `tally.analyzer.control.dead` with header `x-tally-reason`.
 */
import { ValidationError, type Bus, type Consumer, type ExchangeSpec, type Logger, type QueueSpec } from '@tally/common';

/** The analyzers' control exchange. */
export const ANALYZER_CONTROL_EXCHANGE: ExchangeSpec = { name: 'tally.analyzer.control', type: 'topic', durable: false, autoDelete: false };
/** Where malformed control messages go. */
export const ANALYZER_CONTROL_DEAD_QUEUE: QueueSpec = { name: 'tally.analyzer.control.dead', durable: true, bindings: [{ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: 'analyzer.dead' }] };

/** Routing key of a drain command for one analyzer. */
export const drainKey = (analyzerId: string): string => `analyzer.drain.${analyzerId}`;
/** Routing key of an analyzer's "drained" event. */
export const drainedKey = (analyzerId: string): string => `analyzer.drained.${analyzerId}`;

/** A drain request. */
export interface DrainCommand {
  requestId: string;
  reason: string;
}

/** What an analyzer reports once drained. */
export interface DrainedEvent {
  analyzerId: string;
  requestId: string;
  at: string;
  messages: number;
  samples: number;
}

export function encodeDrainCommand(c: DrainCommand): Buffer {
  return Buffer.from(JSON.stringify({ command: 'drain', request_id: c.requestId, reason: c.reason }));
}

/** Parse a control message; errors name the field. */
export function parseDrainCommand(body: Buffer): DrainCommand {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('body', 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('body', 'not a JSON object');
  const o = v as Record<string, unknown>;
  if (o['command'] !== 'drain') throw new ValidationError('command', `must be "drain", got ${JSON.stringify(o['command'])}`);
  const requestId = o['request_id'];
  if (typeof requestId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(requestId)) throw new ValidationError('request_id', 'must be 1-128 letters, digits or ._:-');
  const reason = o['reason'] ?? '';
  if (typeof reason !== 'string' || reason.length > 500) throw new ValidationError('reason', 'must be a string of at most 500 characters');
  return { requestId, reason };
}

export function parseDrainedEvent(body: Buffer): DrainedEvent {
  const o = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (o['event'] !== 'drained' || typeof o['analyzer_id'] !== 'string') throw new ValidationError('event', 'not a drained event');
  return { analyzerId: o['analyzer_id'], requestId: String(o['request_id'] ?? ''), at: String(o['at'] ?? ''), messages: Number(o['messages'] ?? 0), samples: Number(o['samples'] ?? 0) };
}

/** The control queue of one analyzer. */
export function controlQueueSpec(analyzerId: string): QueueSpec {
  return { name: `tally.analyzer.control.${analyzerId}`, durable: false, bindings: [{ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey(analyzerId) }] };
}

/** A running drain listener. */
export interface DrainListener {
  readonly stats: { drains: number; deadLettered: number };
  /** Resolves with the command once a drain has been asked for. */
  readonly requested: Promise<DrainCommand>;
  /** Resolves once the drain has run and the drained event is published (rejects if the drain failed). */
  readonly done: Promise<void>;
  /** Stop listening and delete the control queue. */
  close(): Promise<void>;
}

/**
 * Listen for drain commands addressed to `analyzerId`. On the first, `drain` runs (it
 * stops the analyzer: consumer cancelled, batch written and acknowledged, deregistered);
 * then the `drained` event is published. Repeats while it runs wait for the same drain.
 */
export async function listenForDrain(d: { bus: Bus; log: Logger; analyzerId: string; clock?: () => number },
  drain: (c: DrainCommand) => Promise<{ messages: number; samples: number }>): Promise<DrainListener> {
  const stats = { drains: 0, deadLettered: 0 };
  let signal!: (c: DrainCommand) => void;
  const requested = new Promise<DrainCommand>((r) => (signal = r));
  let running: Promise<void> | undefined;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    finish = res;
    fail = rej;
  });
  done.catch(() => undefined);
  await d.bus.declareQueue(ANALYZER_CONTROL_DEAD_QUEUE);
  const queue = controlQueueSpec(d.analyzerId);
  const consumer: Consumer = await d.bus.consume(queue, { prefetch: 1 }, async (m) => {
    let cmd: DrainCommand;
    try {
      cmd = parseDrainCommand(m.body);
    } catch (err) {
      stats.deadLettered++;
      d.log.error('malformed analyzer control message dead-lettered', { err, queue: ANALYZER_CONTROL_DEAD_QUEUE.name, deadLettered: stats.deadLettered });
      await d.bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: 'analyzer.dead', body: m.body, properties: { headers: { 'x-tally-reason': (err as Error).message }, deliveryMode: 2 } });
      return 'ack';
    }
    running ??= (async () => {
      stats.drains++;
      d.log.info('drain requested: stopping intake, writing and acknowledging the batch in hand', { requestId: cmd.requestId, reason: cmd.reason });
      signal(cmd);
      const done = await drain(cmd);
      const event = { event: 'drained', analyzer_id: d.analyzerId, request_id: cmd.requestId, at: new Date((d.clock ?? Date.now)()).toISOString(), ...done };
      await d.bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainedKey(d.analyzerId), body: Buffer.from(JSON.stringify(event)), properties: { contentType: 'application/json' } });
      d.log.info('drained', event);
    })();
    running.then(finish, fail);
    await running;
    return 'ack';
  });
  return {
    stats,
    requested,
    done,
    async close() {
      await consumer.cancel();
      await d.bus.deleteQueue(queue.name).catch(() => undefined);
    },
  };
}
