/**
 * "Upload on command": re-publish the journaled samples (confirmed and kept for
 * `journal-retention`, or still pending) whose timestamp falls in a range.
 *
 * Asked locally (`tally agent upload --since … --until …`, reading the journal
 * folder) or over the bus with a control message:
 *
 * - exchange `tally.agent` (topic, not durable), routing key
 *   `agent.upload.<host>` for one agent or `agent.upload.all` for every agent;
 * - body (JSON): `{"command": "upload", "since": "<ISO 8601>", "until": "<ISO 8601>"}`,
 *   the range `[since, until)` of sample timestamps (UTC when no offset is given).
 *
 * Each agent consumes through its own queue `tally.agent.control.<host>`. A
 * malformed request is logged, counted and dead-lettered to queue
 * `tally.agent.dead` (routing key `agent.dead`, header `x-tally-reason`).
 */
import { ValidationError, type Bus, type Consumer, type ExchangeSpec, type Logger, type QueueSpec } from '@tally/common';
import type { Journal } from './journal.js';
import { publishSamples } from './sender.js';

/** The agents' control exchange. */
export const AGENT_CONTROL_EXCHANGE: ExchangeSpec = { name: 'tally.agent', type: 'topic', durable: false, autoDelete: false };
/** Routing key addressing every agent. */
export const UPLOAD_ALL_KEY = 'agent.upload.all';
/** Where malformed control messages go. */
export const AGENT_DEAD_QUEUE: QueueSpec = { name: 'tally.agent.dead', durable: true, bindings: [{ exchange: AGENT_CONTROL_EXCHANGE, routingKey: 'agent.dead' }] };

/** Routing key addressing the agent on `host`. */
export const uploadKey = (host: string): string => `agent.upload.${host}`;

/** A request to re-publish the samples of `[since, until)`. */
export interface UploadRequest {
  since: Date;
  until: Date;
}

function parseTime(field: string, v: unknown): Date {
  if (typeof v !== 'string' || v === '') throw new ValidationError(field, 'required, an ISO 8601 time');
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : v + 'Z';
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new ValidationError(field, `not an ISO 8601 time: ${JSON.stringify(v)}`);
  return d;
}

/** Validate a range given as text (CLI flags or a control message). */
export function uploadRange(since: unknown, until: unknown): UploadRequest {
  const r = { since: parseTime('since', since), until: parseTime('until', until) };
  if (r.until <= r.since) throw new ValidationError('until', 'must be after since');
  return r;
}

/** Parse a control message body; errors name the field. */
export function parseUploadRequest(body: Buffer): UploadRequest {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('body', 'not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ValidationError('body', 'not a JSON object');
  const o = v as Record<string, unknown>;
  if (o['command'] !== 'upload') throw new ValidationError('command', `must be "upload", got ${JSON.stringify(o['command'])}`);
  return uploadRange(o['since'], o['until']);
}

/** The control message body for {@link parseUploadRequest}. */
export function encodeUploadRequest(r: UploadRequest): Buffer {
  return Buffer.from(JSON.stringify({ command: 'upload', since: r.since.toISOString(), until: r.until.toISOString() }));
}

/** Result of an upload. */
export interface UploadReport {
  messages: number;
  samples: number;
}

/** Re-publish every journaled record of the range (fresh envelopes), oldest first; rejects on the first failure. */
export async function uploadJournal(journal: Journal, bus: Bus, exchange: ExchangeSpec, r: UploadRequest, publishTimeoutMs = 30_000): Promise<UploadReport> {
  const out = { messages: 0, samples: 0 };
  for (const rec of journal.range(r.since, r.until)) {
    await publishSamples(bus, exchange, rec.samplesJson, publishTimeoutMs);
    out.messages++;
    out.samples += rec.samples().length;
  }
  return out;
}

/** What the control listener needs. */
export interface ControlDeps {
  bus: Bus;
  journal: Journal;
  /** The exchange samples go to (`ceilometer`). */
  exchange: ExchangeSpec;
  log: Logger;
  /** This agent's host name (its routing key and queue). */
  host: string;
}

/** A running control listener. */
export interface ControlListener extends Consumer {
  readonly stats: { uploads: number; deadLettered: number };
}

/** Consume upload requests for this agent from the bus. */
export async function listenForUploads(d: ControlDeps): Promise<ControlListener> {
  const stats = { uploads: 0, deadLettered: 0 };
  await d.bus.declareQueue(AGENT_DEAD_QUEUE);
  const queue: QueueSpec = {
    name: `tally.agent.control.${d.host}`, durable: false,
    bindings: [{ exchange: AGENT_CONTROL_EXCHANGE, routingKey: uploadKey(d.host) }, { exchange: AGENT_CONTROL_EXCHANGE, routingKey: UPLOAD_ALL_KEY }],
  };
  const consumer = await d.bus.consume(queue, { prefetch: 1 }, async (m) => {
    let req: UploadRequest;
    try {
      req = parseUploadRequest(m.body);
    } catch (err) {
      stats.deadLettered++;
      d.log.error('malformed agent control message dead-lettered', { err, queue: AGENT_DEAD_QUEUE.name, deadLettered: stats.deadLettered });
      await d.bus.publish({ exchange: AGENT_CONTROL_EXCHANGE, routingKey: 'agent.dead', body: m.body, properties: { headers: { 'x-tally-reason': (err as Error).message }, deliveryMode: 2 } });
      return 'ack';
    }
    const report = await uploadJournal(d.journal, d.bus, d.exchange, req);
    stats.uploads++;
    d.log.info('upload on request done', { since: req.since.toISOString(), until: req.until.toISOString(), ...report });
    return 'ack';
  });
  return { stats, cancel: () => consumer.cancel() };
}
