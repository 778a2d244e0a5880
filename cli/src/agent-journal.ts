/**
 * The agent's journal (local billing file), publishing settings and polling
 * schedule, from configuration: `journal-dir` defaults to
 * `<data-dir>/agent-journal`; `polling-config` names a polling.yaml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TallyError, type LoadedConfig, type Logger } from '@tally/common';
import { Journal, agentOptions, journalOptions, parsePollingConfig, pollingGroups, senderOptions, type PollingGroup, type SenderSettings } from '@tally/ceilometer-publisher';
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

/** The per-meter schedule of `polling-config`, if set. */
export function pollingSchedule(config: LoadedConfig): { schedule?: PollingGroup[] } {
  const path = config.get(agentOptions).pollingConfig;
  if (path === '') return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TallyError('config_invalid', `polling-config: cannot read ${path}: ${(e as Error).message}`);
  }
  const schedule = pollingGroups(parsePollingConfig(text));
  if (schedule.length === 0) throw new TallyError('config_invalid', `polling-config: ${path} selects none of this agent's meters`);
  return { schedule };
}
