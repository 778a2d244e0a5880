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

const METADATA_FIELDS = new Set(['resource_metadata', 'resource_metadata.vcpus', 'resource_metadata.memory_mb', 'resource_metadata.flavor.vcpus', 'resource_metadata.flavor.ram',
  'resource_metadata.flavor.name', 'resource_metadata.instance_type', 'resource_metadata.flavor_name', 'resource_metadata.display_name']);

/** A bounded label for a dead letter's field: metadata paths (named by the sender) fold into `resource_metadata`. */
export function fieldLabel(field: string | undefined): string {
  if (field === undefined) return 'none';
  if (field.startsWith('resource_metadata')) return METADATA_FIELDS.has(field) ? field : 'resource_metadata';
  const cut = field.search(/[.[]/);
  return cut === -1 ? field : field.slice(0, cut);
}
