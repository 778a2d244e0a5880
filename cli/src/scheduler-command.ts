/**
 * `tally scheduler`: the resource scheduler (registry, load, scaling, alerts) with the
 * `local` driver (tally analyzer processes on this machine) or the `nova` driver; also
 * `tally scheduler components` (the registry as a table) and
 * `tally scheduler policy show|validate|set CLUSTER [FILE]`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  busOptions, databaseOptions, registryOptions, runtimeOptions, TallyError, ValidationError,
  type Bus, type Knex, type LoadedConfig, type Logger, type OptionDecl, type OptionGroup,
} from '@tally/common';
import { analyzerOptionGroups, dfsOptions, ingestOptions } from '@tally/analyzer';
import {
  addScalingPolicyVersion, alertOptions, livePolicy, listComponents, LocalDriver, NovaDriver, novaOptions, parseScalingPolicy, PgAdvisoryLock, ProcessLauncher,
  schedulerOptionGroups, schedulerOptions, startScheduler, type Driver, type Launcher, type Scheduler,
} from '@tally/scheduler';
import type { Command } from './command.js';
import { dataDir, openBusFor, openDbWithUrl } from './parts.js';
import { componentId, startPresence } from './presence.js';
import { Lifecycle } from './shutdown.js';

const TALLY_BIN = fileURLToPath(new URL('../../bin/tally.js', import.meta.url));

/** Option groups a spawned `tally analyzer` needs; the scheduler passes on the values it was given. */
const PASSED_ON: readonly OptionGroup[] = [busOptions, databaseOptions, registryOptions, ...analyzerOptionGroups];
const NOT_PASSED = new Set(['analyzer-queue', 'analyzer-id', 'metrics-port', 'component-cluster', 'embedded-pg-port']);

function flag(d: OptionDecl, v: unknown): string[] {
  if (d.type === 'bool') return [v ? `--${d.name}` : `--no-${d.name}`];
  if (d.type === 'duration') return [`--${d.name}`, `${String(v)}ms`];
  return [`--${d.name}`, String(v)];
}

/** `--name value` flags for every option of the analyzer's groups that was set (flag, env or file), plus the database URL in use. */
export function analyzerArgs(config: LoadedConfig, databaseUrl: string): string[] {
  const out: string[] = ['--database-url', databaseUrl];
  const seen = new Set<string>(['database-url']);
  for (const g of PASSED_ON) {
    const values = config.get(g) as Record<string, unknown>;
    for (const [key, d] of Object.entries(g.options)) {
      if (seen.has(d.name) || NOT_PASSED.has(d.name) || d.cliOnly) continue;
      seen.add(d.name);
      if ((config.sources.get(d.name) ?? 'default') === 'default') continue;
      out.push(...flag(d, values[key]));
    }
  }
  const rt = config.get(runtimeOptions);
  out.push('--data-dir', dataDir(config), '--log-level', rt.logLevel);
  return out;
}

/** The driver the options name. `launcher` replaces the process launcher (tally start's in-process analyzers). */
export function openDriver(config: LoadedConfig, log: Logger, databaseUrl: string, launcher?: Launcher): Driver {
  const s = config.get(schedulerOptions);
  if (s.schedulerDriver === 'nova') {
    const b = config.get(busOptions);
    return new NovaDriver(config.get(novaOptions), {
      log: log.child('nova'),
      analyzer: {
        databaseUrl, amqpUrl: b.amqpUrl, dfsUrl: config.get(dfsOptions).dfsUrl, controlExchange: b.controlExchange, exchangeDurable: b.exchangeDurable,
        heartbeatInterval: `${config.get(registryOptions).heartbeatInterval}ms`,
      },
    });
  }
  return new LocalDriver(launcher ?? new ProcessLauncher({ tallyBin: TALLY_BIN, args: analyzerArgs(config, databaseUrl), logDir: join(dataDir(config), 'scheduler', 'local') }), log.child('local'));
}

/** Start the scheduler part (its driver, lock, heartbeat); everything is registered for a clean stop. */
export async function startSchedulerPart(config: LoadedConfig, log: Logger, life: Lifecycle, db: Knex, databaseUrl: string, bus: Bus, launcher?: Launcher): Promise<Scheduler> {
  const driver = openDriver(config, log, databaseUrl, launcher);
  life.add(`${driver.name} driver`, () => driver.close());
  const actor = componentId('scheduler', String(process.pid));
  const scheduler = await startScheduler(
    { db, bus, driver, lock: new PgAdvisoryLock(databaseUrl, log.child('lock')), log, actor },
    { ...config.get(schedulerOptions), ...config.get(alertOptions), analyzerQueue: config.get(ingestOptions).analyzerQueue },
  );
  life.add('scheduler', () => scheduler.stop());
  startPresence(config, log, life, { db }, { id: actor, role: 'scheduler' });
  return scheduler;
}

const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n - 1) + '…' : s.padEnd(n));

async function printComponents(db: Knex): Promise<number> {
  const rows = await listComponents(db);
  const lines = [['ID', 'ROLE', 'CLUSTER', 'NODE', 'STATE', 'LAST HEARTBEAT', 'CPU %', 'MEM %'].map((h, i) => pad(h, [34, 12, 14, 18, 10, 26, 7, 7][i]!)).join(' ')];
  for (const c of rows) {
    lines.push([c.id, c.role, c.cluster, c.node, c.state, c.last_heartbeat_at, c.load ? String(c.load.cpuPercent) : '-', c.load ? String(c.load.memoryPercent) : '-']
      .map((v, i) => pad(v, [34, 12, 14, 18, 10, 26, 7, 7][i]!)).join(' '));
  }
  process.stdout.write(lines.join('\n') + `\n${rows.length} component(s)\n`);
  return 0;
}

async function policyCommand(db: Knex | undefined, args: readonly string[]): Promise<number> {
  const [verb, cluster, file] = args;
  if (verb === 'validate' && cluster !== undefined) {
    parseScalingPolicy(readFileSync(cluster, 'utf8'));
    process.stdout.write(`${cluster}: valid\n`);
    return 0;
  }
  if (!db || !cluster || !/^[A-Za-z0-9_.-]{1,64}$/.test(cluster)) {
    process.stderr.write('usage: tally scheduler policy validate FILE | show CLUSTER | set CLUSTER FILE\n');
    return 2;
  }
  if (verb === 'show') {
    const live = await livePolicy(db, cluster);
    process.stdout.write(`# ${live.label}\n${live.source}`);
    return 0;
  }
  if (verb === 'set' && file) {
    const v = await addScalingPolicyVersion(db, { cluster, source: readFileSync(file, 'utf8'), createdBy: `cli:${process.env['USER'] ?? 'unknown'}@${hostname()}` });
    process.stdout.write(`stored ${v.cluster} v${v.version}\n`);
    return 0;
  }
  process.stderr.write('usage: tally scheduler policy validate FILE | show CLUSTER | set CLUSTER FILE\n');
  return 2;
}

export const schedulerCommand: Command = {
  name: 'scheduler',
  summary: 'The resource scheduler: registry, load, scaling policies, local or nova driver, alerts (also: scheduler components, scheduler policy show|validate|set)',
  groups: [busOptions, databaseOptions, registryOptions, ...analyzerOptionGroups, ...schedulerOptionGroups],
  async run(config, log) {
    const sub = config.positionals[0];
    const life = new Lifecycle(log);
    if (sub === 'policy' && config.positionals[1] === 'validate') {
      try {
        return await policyCommand(undefined, config.positionals.slice(1));
      } catch (e) {
        if (e instanceof ValidationError) {
          process.stderr.write(`${config.positionals[2]}: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    }
    if (sub !== undefined) {
      try {
        const { db } = await openDbWithUrl(config, log, life, false);
        if (sub === 'components') return await printComponents(db);
        if (sub === 'policy') return await policyCommand(db, config.positionals.slice(1));
        throw new TallyError('usage', `unknown scheduler subcommand ${JSON.stringify(sub)} (components, policy)`);
      } finally {
        await life.stopAll();
      }
    }
    const stopped = life.untilSignal();
    try {
      const { db, url } = await openDbWithUrl(config, log, life, false);
      const bus = await openBusFor(config, log, life, false);
      await startSchedulerPart(config, log, life, db, url, bus);
      process.stdout.write(`scheduler running (driver ${config.get(schedulerOptions).schedulerDriver})\n`);
    } catch (e) {
      await life.stopAll();
      throw e;
    }
    await stopped;
    return 0;
  },
};
