/**
 * The analyzer's queues: its own durable queue bound to the control exchange, and
 * `<queue>.dead` for dead letters (with a bounded label of the field at fault, for metrics).
 */
import { hostname } from 'node:os';
import type { ExchangeSpec, QueueSpec } from '@tally/common';

/** Routing keys of Ceilometer's raw polled samples and of its notifier:// publisher. */
export const SAMPLE_ROUTING_KEYS = ['notifications.sample', 'metering.sample'] as const;

/** The default analyzer id: `<hostname>-<pid>`. */
export function defaultAnalyzerId(): string {
  return `${hostname()}-${process.pid}`;
}

/** The queue spec of the analyzer's own queue. */
export function analyzerQueueSpec(cfg: { analyzerQueue: string; controlExchange: string; exchangeDurable: boolean }): QueueSpec {
  const exchange: ExchangeSpec = { name: cfg.controlExchange, type: 'topic', durable: cfg.exchangeDurable, autoDelete: false };
  return { name: cfg.analyzerQueue, durable: true, bindings: SAMPLE_ROUTING_KEYS.map((routingKey) => ({ exchange, routingKey })) };
}

/** Exchange and queue of dead letters: `<queue>.dead`. */
export function deadLetterSpec(analyzerQueue: string): { exchange: ExchangeSpec; queue: QueueSpec; routingKey: string } {
  const name = `${analyzerQueue}.dead`;
  const exchange: ExchangeSpec = { name, type: 'direct', durable: true, autoDelete: false };
  return { exchange, routingKey: name, queue: { name, durable: true, bindings: [{ exchange, routingKey: name }] } };
}

// The fields a dead letter can name from code (a NUL's path is named by the sender: folded).
const LABELS = new Set(['body', 'oslo.message', 'event_type', 'payload', 'payload.samples', 'sample', 'source', 'counter_name', 'counter_type', 'counter_unit',
  'counter_volume', 'user_id', 'project_id', 'resource_id', 'timestamp', 'message_id', 'monotonic_time', 'message_signature',
  'resource_metadata', 'resource_metadata.vcpus', 'resource_metadata.memory_mb', 'resource_metadata.flavor.vcpus', 'resource_metadata.flavor.ram',
  'resource_metadata.flavor.name', 'resource_metadata.instance_type', 'resource_metadata.flavor_name', 'resource_metadata.display_name']);

/**
 * A bounded label for a dead letter's field (a Prometheus label): the fields the code
 * names; any other path under resource_metadata folds into `resource_metadata`, any other
 * into `other`, so a sender cannot mint labels.
 */
export function fieldLabel(field: string | undefined): string {
  if (field === undefined) return 'none';
  if (LABELS.has(field)) return field;
  return field.startsWith('resource_metadata.') ? 'resource_metadata' : 'other';
}
