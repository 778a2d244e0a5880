/** @tally/analyzer: ingest of Ceilometer samples, DFS storage, usage from timestamps. */
export { startAnalyzer, type Analyzer, type AnalyzerDeps, type AnalyzerOptions, type AnalyzerStats } from './analyzer.js';
export { decodeBody, decodeSampleLine, encodeSampleLine, validateSample, UndecodableMessage, type DecodedMessage, type DecodedSample, type RawSample, type RejectedSample } from './decode.js';
export { dfsOptions, openDfs, LocalDfs, DfsError, checkPath, type Dfs } from './dfs/index.js';
export { ingestOptions, Ingestor, type IngestConfig, type IngestDeps, type IngestStats } from './ingest.js';
export { analyzerQueueSpec, deadLetterSpec, defaultAnalyzerId, fieldLabel, SAMPLE_ROUTING_KEYS } from './queues.js';
export { eventTimeProblem, DEFAULT_SAMPLE_MAX_AGE_MS, DEFAULT_SAMPLE_MAX_FUTURE_MS } from './event-time.js';
export { parseJson, stringifyJson, type JsonObject, type JsonValue } from './json.js';
export { rawFilePath, rawHourPrefix, hoursCovering } from './layout.js';
export { extract, map, reduce, reduceAllocation, usageForWindow, compareUsage, HEARTBEAT_METER, INSTANCE_METERS, type Allocation, type InstanceRecord, type ResourceGroup, type Window, type WindowSlice } from './mapreduce.js';
export { extractMeter, mapMeters, normaliseSeries, reduceMeter, seriesKey, sumDecimals, timesSeconds, type CounterType, type MeterRecord, type MeterSlice } from './meters.js';
export { foldLifetimes, spanForWindow, unionIntervals, type Lifetime, type SpanSlice } from './span.js';
export { windowUsage, SPAN_METER, type WindowInput } from './window-usage.js';
export { lifetimesOverlapping, updateLifetimes } from './lifetimes.js';
export { HOUR_US, parseTimestampUs, formatTimestampUs, microsToSeconds } from './timestamp.js';
export { analyzerMigrations, replaceWindowUsage, deleteStaleUsage, upsertUsage, queryUsage, USAGE_TABLE, DIRTY_TABLE, LIFETIME_TABLE, type UsageRecord, type InstanceAttributes } from './usage.js';
export { claimWindow, lockWindow, markDirty, settleWindow, WINDOW_LOCK_CLASS, type ClaimedWindow } from './dirty.js';
export { windowOptions, processWindow, readRecords, windowsTouched, type WindowDeps, type WindowResult } from './windows.js';
export { WindowProcessor, type WindowProcessorOptions, type WindowStats } from './window-processor.js';
export { QUARANTINE_TABLE, quarantine, isDataError, bisectWrite, type QuarantineEntry, type QuarantineKind } from './quarantine.js';
export { heartbeatAttributes, type HeartbeatAttributes } from './attributes.js';
export { checkText, textProblem, volumeProblem, nulPath, MAX_TEXT, MAX_INT4, MAX_VOLUME_DIGITS, MAX_VOLUME_DECIMALS } from './storable.js';

import { dfsOptions } from './dfs/index.js';
import { ingestOptions } from './ingest.js';
import { metricsOptions } from './metrics.js';
import { windowOptions } from './windows.js';
import { novaOptions } from './nova/ingest.js';

/** Every option group the analyzer declares, for the CLI's loader and `config sample`. */
export const analyzerOptionGroups = [ingestOptions, windowOptions, dfsOptions, metricsOptions, novaOptions] as const;
export { novaOptions, NovaIngestor, novaRoutingKeys, NOVA_FORMATS, type NovaFormat, type NovaIngestConfig, type NovaIngestStats } from './nova/ingest.js';
export { decodeNotification, UndecodableNotification, NOVA_ACTIONS, type NovaEvent, type NovaAction, type NovaFlavor, type DecodedNotification } from './nova/decode.js';
export { timeline, effectiveEvents, stateAt, TWIN_WINDOW_US, type Transition, type TimelineEvent, type NovaState } from './nova/timeline.js';
export { novaInstanceRows, runningIntervals } from './nova/overlay.js';
export { overlayRows, mergeLifetimes, msTimeline } from './nova/window.js';
export { novaCreatedAt, eventsOf, novaLivesOverlapping, type NovaLife, type StoredEvent } from './nova/read.js';
export { NOVA_EVENTS_TABLE, NOVA_INSTANCES_TABLE, novaMigrations } from './nova/schema.js';
export { signatureProblem, toPyValue, VERIFY_MODES, type VerifyMode } from './verify.js';
export { reprocess, parseInstant, type ReprocessRequest, type ReprocessResult } from './reprocess.js';
export { analyzerStatus, metricsOptions, renderMetrics, startMetricsServer, type AnalyzerStatus } from './metrics.js';
export { mapLine, reduceGroup, reduceSortedLines, runInProcess, formatUsageLine, parseUsageLine, sortUsage, groupMapped, combineSpanLines, spanLines, type JobOptions } from './streaming.js';
export { runLocalParallel, type LocalRunOptions, type LocalRunResult } from './runner.js';
export { instanceRows, lowerBound } from './mapreduce.js';
export { meterRow, spanRows } from './window-usage.js';
export { listenForDrain, encodeDrainCommand, parseDrainCommand, parseDrainedEvent, controlQueueSpec, drainKey, drainedKey, ANALYZER_CONTROL_EXCHANGE, ANALYZER_CONTROL_DEAD_QUEUE, type DrainCommand, type DrainedEvent, type DrainListener } from './drain.js';
