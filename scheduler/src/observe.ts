/**
 * One observation of a cluster (pure): the members' latest load and figures from their
 * heartbeats, and the broker's queue depths, turned into the metrics rules name.
 *
 * - node and process figures are averages over the running members that sent a load;
 * - `ack_rate` is the sum of the members' own rates (each analyzer reports the messages
 *   it acknowledged per second since its previous heartbeat);
 * - `publish_rate` = ack rate + the queue's growth per second since the previous
 *   observation (the broker's management plugin is not needed);
 * - `processing_lag_seconds` is the largest member lag while messages wait, else 0: an
 *   idle analyzer's newest sample grows old without anything being late.
 */
import type { NodeLoad } from '@tally/common';
import type { Observation } from './decide.js';
import type { Metric } from './policy/format.js';

/** A running member's latest heartbeat content. */
export interface MemberLoad {
  load: NodeLoad | null;
  metrics: Record<string, number>;
}

/** The heartbeat metric names an analyzer sends (wired by the CLI). */
export const ANALYZER_HEARTBEAT_METRICS = { messages: 'messages', samples: 'samples', ackRate: 'ack_rate', lagSeconds: 'lag_seconds', deadLetters: 'dead_letters' } as const;

const LOAD_METRICS: [Metric, keyof NodeLoad][] = [
  ['cpu_percent', 'cpuPercent'], ['memory_percent', 'memoryPercent'], ['process_cpu_percent', 'processCpuPercent'],
  ['disk_read_bytes_per_s', 'diskReadBytesPerS'], ['disk_write_bytes_per_s', 'diskWriteBytesPerS'],
  ['net_in_bytes_per_s', 'netInBytesPerS'], ['net_out_bytes_per_s', 'netOutBytesPerS'],
];

const round = (x: number): number => Number(x.toFixed(3));

/** Build the observation at `at` (ms). `prev` is the previous observation of the same cluster, for the publish rate. */
export function observe(at: number, members: readonly MemberLoad[], queue: { depth: number | null; deadLetters: number | null }, prev: Observation | undefined): Observation {
  const values: Partial<Record<Metric, number>> = {};
  const loads = members.map((m) => m.load).filter((l): l is NodeLoad => l !== null);
  if (loads.length > 0) {
    for (const [metric, key] of LOAD_METRICS) values[metric] = round(loads.reduce((s, l) => s + l[key], 0) / loads.length);
  }
  const ackRate = members.reduce((s, m) => s + (m.metrics[ANALYZER_HEARTBEAT_METRICS.ackRate] ?? 0), 0);
  values.ack_rate = round(ackRate);
  if (queue.depth !== null) {
    values.queue_depth = queue.depth;
    values.queue_depth_per_replica = round(queue.depth / Math.max(1, members.length));
    const prevDepth = prev?.values.queue_depth;
    if (prev && prevDepth !== undefined && at > prev.at) values.publish_rate = round(Math.max(0, ackRate + ((queue.depth - prevDepth) * 1000) / (at - prev.at)));
    const lags = members.map((m) => m.metrics[ANALYZER_HEARTBEAT_METRICS.lagSeconds]).filter((x): x is number => x !== undefined);
    values.processing_lag_seconds = queue.depth > 0 && lags.length > 0 ? round(Math.max(...lags)) : 0;
  }
  if (queue.deadLetters !== null) values.dead_letters = queue.deadLetters;
  return { at, values };
}

/**
 * The heartbeat figures of an analyzer, from its running counters: messages and samples so
 * far, dead letters, the messages acknowledged per second since the previous heartbeat, and
 * the processing lag (wall clock − newest sample ingested). Returns a function to call at
 * each heartbeat.
 */
export function analyzerHeartbeatMetrics(stats: () => { messages: number; samples: number; deadLetters: number; newestSampleUs: number }, clock: () => number = Date.now): () => Record<string, number> {
  let prev: { at: number; messages: number } | undefined;
  return () => {
    const s = stats();
    const now = clock();
    const ackRate = prev && now > prev.at ? Math.max(0, ((s.messages - prev.messages) * 1000) / (now - prev.at)) : 0;
    prev = { at: now, messages: s.messages };
    const m = ANALYZER_HEARTBEAT_METRICS;
    return {
      [m.messages]: s.messages, [m.samples]: s.samples, [m.deadLetters]: s.deadLetters, [m.ackRate]: Number(ackRate.toFixed(3)),
      [m.lagSeconds]: s.newestSampleUs > 0 ? Math.max(0, Number((now / 1000 - s.newestSampleUs / 1e6).toFixed(3))) : 0,
    };
  };
}
