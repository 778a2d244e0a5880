/**
 * The commands of `tally`, wired by hand: each opens what it needs, starts its
 * parts in order, and registers them for a clean stop in reverse order.
 */
import { hostname } from 'node:os';
import { busOptions, databaseOptions, registryOptions, runtimeOptions, type Bus, type Knex, type LoadedConfig, type Logger, type OptionGroup } from '@tally/common';
import {
  agentOptions, simOptions, openHypervisor, runAgent, pollOnce, controlExchange, type AgentSettings,
} from '@tally/ceilometer-publisher';
import { agentJournalGroups, openAgentJournal, pollingSchedule, senderSettings } from './agent-journal.js';
import { runAgentUpload, startUploadListener, uploadOptions } from './agent-upload.js';
import { analyzerOptionGroups, openDfs, startAnalyzer, ingestOptions, windowOptions, dfsOptions, metricsOptions, novaOptions } from '@tally/analyzer';
import { analyzerToolOptions, runAnalyzerTool } from './analyzer-tools.js';
import { runAnalyzerService } from './analyzer-service.js';
import { apiOptions, authFromOptions, billingScheduleOptions, placementFromOptions, placementOptions, startApi, startBillingSchedule, startPlacementPoller } from '@tally/billing-api';
import { uiDir, uiBuilt } from '@tally/horizon-panel';
import { Lifecycle } from './shutdown.js';
import { dataDir, openBusFor, openDb, openDbWithUrl } from './parts.js';
import { apiPolicySampleCommand } from './api-policy.js';
import { runPolicyCommand } from './policy-command.js';
import type { Command } from './command.js';
import { componentId, startPresence, tallyVersion, type PresenceSink } from './presence.js';
import { schedulerCommand, startSchedulerPart } from './scheduler-command.js';
import { analyzerHeartbeatMetrics, InProcessLauncher, schedulerOptionGroups } from '@tally/scheduler';

export type { Command } from './command.js';

function agentSettings(config: LoadedConfig): AgentSettings {
  const { libvirtUri: _u, once: _o, pollingConfig: _p, ...rest } = config.get(agentOptions);
  return { ...rest, ...senderSettings(config), ...pollingSchedule(config) };
}

async function startAgentPart(config: LoadedConfig, log: Logger, life: Lifecycle, allowInProcess: boolean, bus?: Bus, presence?: PresenceSink) {
  const a = config.get(agentOptions);
  const b = config.get(busOptions);
  const theBus = bus ?? (await openBusFor(config, log, life, allowInProcess));
  // On a compute host the agent has no database: its heartbeats travel over the bus to the scheduler.
  if (!a.once) startPresence(config, log, life, presence ?? { bus: theBus }, { id: `agent:${a.host || hostname()}`, role: 'agent' });
  const { hypervisor, clock } = await openHypervisor(a, config.get(simOptions));
  life.add('hypervisor connection', () => hypervisor.close());
  const journal = openAgentJournal(config, log.child('agent'), life);
  const deps = { hypervisor, bus: theBus, log: log.child('agent'), clock, exchange: controlExchange(b.controlExchange, b.exchangeDurable), journal };
  return { deps, settings: agentSettings(config), simulated: a.libvirtUri === '' };
}

async function startAnalyzerPart(config: LoadedConfig, log: Logger, life: Lifecycle, bus: Bus, db: Knex) {
  const dfs = openDfs(config.get(dfsOptions).dfsUrl, dataDir(config));
  life.add('DFS', () => dfs.close());
  const b = config.get(busOptions);
  const analyzer = await startAnalyzer(
    { bus, dfs, db, log },
    { ...config.get(ingestOptions), ...config.get(windowOptions), ...config.get(metricsOptions), ...config.get(novaOptions), controlExchange: b.controlExchange, exchangeDurable: b.exchangeDurable },
  );
  life.add('analyzer', () => analyzer.stop());
  startPresence(config, log, life, { db }, { id: analyzer.stats().analyzerId, role: 'analyzer', metrics: analyzerHeartbeatMetrics(() => analyzer.stats().ingest) });
  return analyzer;
}

async function startApiPart(config: LoadedConfig, log: Logger, life: Lifecycle, db: Knex, serveUi: boolean) {
  const o = config.get(apiOptions);
  const ui = serveUi && uiBuilt() ? uiDir() : undefined;
  if (serveUi && !ui) log.warn('the UI bundle is not built (npm run build); serving the API only');
  const api = await startApi({ db, log: log.child('api'), ...authFromOptions(o), ...(ui ? { uiDir: ui } : {}) }, { host: o.host, port: o.port });
  life.add('billing API', () => api.close());
  startPresence(config, log, life, { db }, { id: componentId('billing-api', String(new URL(api.url).port)), role: 'billing-api', endpoints: { api: api.url } });
  life.add('billing schedule', startBillingSchedule({ db, log: log.child('billing') }, config.get(billingScheduleOptions).billingInterval));
  const placement = placementFromOptions(config.get(placementOptions), o);
  if (placement) life.add('placement poller', await startPlacementPoller({ db, log: log.child('placement'), reader: placement.reader }, placement.cfg));
  return api;
}

/**
 * Start long-running parts, then serve until SIGINT/SIGTERM; a failure while
 * starting stops what had started and rethrows.
 */
async function serve(log: Logger, startParts: (life: Lifecycle) => Promise<void>): Promise<number> {
  const life = new Lifecycle(log);
  const stopped = life.untilSignal();
  try {
    await startParts(life);
  } catch (err) {
    await life.stopAll();
    throw err;
  }
  await stopped;
  return 0;
}

const agentGroups = [busOptions, registryOptions, agentOptions, simOptions, ...agentJournalGroups, uploadOptions];
const analyzerGroups = [busOptions, databaseOptions, registryOptions, ...analyzerOptionGroups];
const apiGroups = [databaseOptions, registryOptions, apiOptions, billingScheduleOptions, placementOptions];

export const COMMANDS: readonly Command[] = [
  {
    name: 'start',
    summary: 'All in one process: database (embedded unless database-url), bus, agent (simulated fleet unless libvirt-uri), analyzer, scheduler, API and page',
    groups: [...new Set([...agentGroups, ...analyzerGroups, ...apiGroups, ...schedulerOptionGroups])],
    run: (config, log) =>
      serve(log, async (life) => {
        const { db, url } = await openDbWithUrl(config, log, life, true);
        const bus = await openBusFor(config, log, life, true);
        await startAnalyzerPart(config, log, life, bus, db);
        // The in-process bus reaches no other process: the local driver's analyzers run in this one.
        const dfs = openDfs(config.get(dfsOptions).dfsUrl, dataDir(config));
        life.add('scheduler DFS', () => dfs.close());
        const b = config.get(busOptions);
        const launcher = new InProcessLauncher({
          bus, dfs, db, log, heartbeatIntervalMs: config.get(registryOptions).heartbeatInterval, version: tallyVersion(),
          analyzer: { ...config.get(ingestOptions), ...config.get(windowOptions), controlExchange: b.controlExchange, exchangeDurable: b.exchangeDurable },
        });
        await startSchedulerPart(config, log, life, db, url, bus, b.amqpUrl === '' ? launcher : undefined);
        const api = await startApiPart(config, log, life, db, true);
        const agent = await startAgentPart(config, log, life, true, bus, { db });
        await startUploadListener(config, agent.deps, life);
        const handle = runAgent(agent.deps, agent.settings);
        life.add('agent', () => handle.stop());
        const banner = [
          '',
          `  Tally is running: open ${api.url}/`,
          agent.simulated ? '  (simulated fleet in accelerated time; charges appear within a minute or two)' : `  (polling ${config.get(agentOptions).libvirtUri})`,
          '  Press Ctrl-C to stop.',
          '',
        ].join('\n');
        process.stdout.write(banner + '\n');
      }),
  },
  {
    name: 'agent',
    summary: 'The Ceilometer-compatible compute polling agent (--once: one cycle, exit when every message is confirmed; `agent upload --since … --until …`: re-publish journaled samples)',
    groups: agentGroups,
    async run(config, log) {
      const life = new Lifecycle(log);
      try {
        if (config.positionals[0] === 'upload') return await runAgentUpload(config, log, life);
        const agent = await startAgentPart(config, log, life, false);
        if (config.get(agentOptions).once) {
          const report = await pollOnce(agent.deps, agent.settings);
          process.stdout.write(JSON.stringify(report) + '\n');
          return 0;
        }
        const stopped = life.untilSignal();
        await startUploadListener(config, agent.deps, life);
        const handle = runAgent(agent.deps, agent.settings);
        life.add('agent', () => handle.stop());
        await stopped;
        return 0;
      } finally {
        await life.stopAll();
      }
    },
  },
  {
    name: 'analyzer',
    summary: 'Consume samples from the bus, store them in the DFS, compute hourly usage records in PostgreSQL (also: analyzer reprocess --since --until [--project], analyzer status)',
    groups: [...analyzerGroups, analyzerToolOptions],
    run: (config, log) => (config.positionals[0] !== undefined ? runAnalyzerTool(config.positionals[0], config, log) : runAnalyzerService(config, log)),
  },
  {
    name: 'api',
    summary: 'The billing API (and the page, when the UI bundle is built)',
    groups: apiGroups,
    run: (config, log) =>
      serve(log, async (life) => {
        const db = await openDb(config, log, life, false);
        const api = await startApiPart(config, log, life, db, true);
        process.stdout.write(`billing API on ${api.url}/\n`);
      }),
  },
  {
    name: 'migrate',
    summary: 'Apply database migrations and exit',
    groups: [databaseOptions],
    async run(config, log) {
      const life = new Lifecycle(log);
      try {
        await openDb(config, log, life, false);
        return 0;
      } finally {
        await life.stopAll();
      }
    },
  },
  schedulerCommand,
  apiPolicySampleCommand,
  {
    name: 'policy',
    summary: 'Pricing policies: validate|format|explain FILE (see docs/pricing.md)',
    groups: [],
    run: (config) => Promise.resolve(runPolicyCommand(config.positionals)),
  },
];

/** Every option group any command reads (for `tally config sample` and unknown-key checks). */
export const ALL_GROUPS: readonly OptionGroup[] = [...new Set<OptionGroup>([runtimeOptions, ...COMMANDS.flatMap((c) => c.groups)])];
