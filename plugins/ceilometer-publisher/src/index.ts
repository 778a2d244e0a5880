/**
 * @tally/ceilometer-publisher: a Ceilometer-compatible compute polling agent
 * (libvirt or a simulated fleet → signed samples → oslo.messaging notifications).
 */
export { PyFloat, dumps, parsePy, pyFloatRepr, type PyDict, type PyValue } from './pyjson.js';
export { computeSignature, signatureInput, recursiveKeypairs, pyStr } from './signature.js';
export { toWireDict, monotonicSeconds, type Sample, type SampleType } from './sample.js';
export { encodeNotification, encodePollingNotification, encodePollingNotificationJson, decodeNotification, NOTIFICATION_PROPERTIES, type EncodedNotification, type EnvelopeIds, type Notification } from './envelope.js';
export { uuid1, uuid4, uuid4Hex, pyIsoformat, pyDatetimeStr } from './ids.js';
export * from './hypervisor.js';
export { discoverInstances, parseDomain, instanceMetadata, nicResourceId, hostId, stateNames, NOVA_NAMESPACES, type Instance, type Flavor, type DiskDevice, type NicDevice, type SkippedDomain, type Discovery, type MetadataContext } from './metadata.js';
export { METERS, type Meter } from './meters.js';
export { pollCycle, batch, InstanceStateTracker, type Clock, type PollSettings, type PollResult } from './poller.js';
export { systemClock, AcceleratedClock, type AgentClock } from './clock.js';
export { openLibvirt, LibvirtHypervisor, type DomainAction } from './libvirt.js';
export { cpuFromBulk, type BulkStats } from './bulkstats.js';
export { SimulatedFleet, simOptions, SIM_FLAVORS } from './simulated.js';
export { renderDomainXml, renderTestNode, writeTestNodeFile, type DomainSpec, type NicSpec } from './nodefile.js';
export { agentOptions, runAgent, pollOnce, openHypervisor, controlExchange, SAMPLE_ROUTING_KEY, type AgentDeps, type AgentSettings, type AgentHandle, type CycleReport } from './agent.js';
export { RecordingBus } from './testing.js';
export { Journal, journalOptions, COMPACT_BYTES, type JournalRecord, type JournalSettings, type JournalStats } from './journal.js';
export { JournalSender, publishSamples, senderOptions, type SenderDeps, type SenderSettings, type SenderStats } from './sender.js';
export { AGENT_CONTROL_EXCHANGE, AGENT_DEAD_QUEUE, UPLOAD_ALL_KEY, uploadKey, uploadRange, parseUploadRequest, encodeUploadRequest, uploadJournal, listenForUploads, type UploadRequest, type UploadReport, type ControlDeps, type ControlListener } from './upload.js';
export { parsePollingConfig, pollingGroups, sourceMatches, type PollingSource, type PollingGroup } from './polling.js';
export { checkStates, watchStates, isActive, type WatchDeps } from './watch.js';
