/**
 * The agent's journal (local billing file) and publishing settings, opened from
 * configuration: `journal-dir` defaults to `<data-dir>/agent-journal`.
 */
import { join } from 'node:path';
import type { LoadedConfig, Logger } from '@tally/common';
import { Journal, journalOptions, senderOptions, type SenderSettings } from '@tally/ceilometer-publisher';
import type { Lifecycle } from './shutdown.js';
import { dataDir } from './parts.js';

/** The option groups of the journal and the sender. */
export const agentJournalGroups = [journalOptions, senderOptions];

/** The journal folder the configuration selects. */
export function journalDir(config: LoadedConfig): string {
  const o = config.get(journalOptions);
  return o.journalDir === '' ? join(dataDir(config), 'agent-journal') : o.journalDir;
}

/** Open the journal and register its closing. */
export function openAgentJournal(config: LoadedConfig, log: Logger, life: Lifecycle): Journal {
  const o = config.get(journalOptions);
  const dir = journalDir(config);
  const journal = Journal.open({ dir, maxBytes: o.journalMaxBytes, retentionMs: o.journalRetention }, log);
  log.info('journal open', { dir, pending: journal.depth });
  life.add('agent journal', async () => journal.close());
  return journal;
}

/** Publish timeout and retry interval from configuration. */
export function senderSettings(config: LoadedConfig): SenderSettings {
  const o = config.get(senderOptions);
  return { publishTimeout: o.publishTimeout, retryInterval: o.retryInterval, publishWindow: o.publishWindow };
}
