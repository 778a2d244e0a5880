/**
 * `tally agent upload --since … --until …`: re-publish the journaled samples of a
 * range, read from this host's journal folder (safe beside a running agent:
 * the journal is opened read-only), or — with `--upload-via-bus` — ask the
 * agents to do it with a control message (see `@tally/ceilometer-publisher`'s
 * upload module for the message format).
 */
import { hostname } from 'node:os';
import { busOptions, defineOptions, opt, type Bus, type LoadedConfig, type Logger } from '@tally/common';
import {
  AGENT_CONTROL_EXCHANGE, Journal, UPLOAD_ALL_KEY, agentOptions, controlExchange, encodeUploadRequest, listenForUploads,
  uploadJournal, uploadKey, uploadRange, type ControlListener,
} from '@tally/ceilometer-publisher';
import type { Lifecycle } from './shutdown.js';
import { openBusFor } from './parts.js';
import { journalDir, senderSettings } from './agent-journal.js';

/** Flags of `tally agent upload` (command line only). */
export const uploadOptions = defineOptions('agent-upload', '`tally agent upload` (re-publish journaled samples of a time range)', {
  since: opt.string({ name: 'since', default: '', cliOnly: true, help: 'Start of the range of sample timestamps (ISO 8601, UTC unless an offset is given), inclusive.' }),
  until: opt.string({ name: 'until', default: '', cliOnly: true, help: 'End of the range (ISO 8601), exclusive.' }),
  viaBus: opt.bool({ name: 'upload-via-bus', default: false, cliOnly: true, help: 'Send the request as a control message on the bus (to --upload-host) instead of reading the local journal.' }),
  uploadHost: opt.string({ name: 'upload-host', default: 'all', cliOnly: true, help: "With --upload-via-bus: the agent host to ask, or 'all'." }),
});

/** Run `tally agent upload`; prints what was published (or sent) as JSON. */
export async function runAgentUpload(config: LoadedConfig, log: Logger, life: Lifecycle): Promise<number> {
  const u = config.get(uploadOptions);
  const range = uploadRange(u.since, u.until);
  const bus = await openBusFor(config, log, life, false);
  if (u.viaBus) {
    const key = u.uploadHost === 'all' ? UPLOAD_ALL_KEY : uploadKey(u.uploadHost);
    await bus.publish({ exchange: AGENT_CONTROL_EXCHANGE, routingKey: key, body: encodeUploadRequest(range), properties: { contentType: 'application/json', deliveryMode: 2 } });
    process.stdout.write(JSON.stringify({ sent: key, since: range.since.toISOString(), until: range.until.toISOString() }) + '\n');
    return 0;
  }
  const journal = Journal.open({ dir: journalDir(config), readOnly: true, maxBytes: Number.MAX_SAFE_INTEGER, retentionMs: 0 }, log);
  const b = config.get(busOptions);
  const report = await uploadJournal(journal, bus, controlExchange(b.controlExchange, b.exchangeDurable), range, senderSettings(config).publishTimeout);
  process.stdout.write(JSON.stringify(report) + '\n');
  return 0;
}

/** Start consuming upload requests for this agent (long-running `tally agent` and `tally start`). */
export async function startUploadListener(config: LoadedConfig, deps: { bus: Bus; journal: Journal; log: Logger }, life: Lifecycle): Promise<ControlListener> {
  const b = config.get(busOptions);
  const host = config.get(agentOptions).host || hostname();
  const listener = await listenForUploads({ ...deps, exchange: controlExchange(b.controlExchange, b.exchangeDurable), host });
  life.add('upload listener', () => listener.cancel());
  return listener;
}
