/**
 * `tally analyzer reprocess --since … --until … [--project …]` and
 * `tally analyzer status`: one-shot tools beside the long-running analyzer.
 */
import { busOptions, defineOptions, opt, openBus, ValidationError, type LoadedConfig, type Logger } from '@tally/common';
import { analyzerStatus, dfsOptions, ingestOptions, openDfs, parseInstant, reprocess, windowOptions } from '@tally/analyzer';
import { Lifecycle } from './shutdown.js';
import { dataDir, openDb } from './parts.js';

export const analyzerToolOptions = defineOptions('analyzer-tools', 'tally analyzer reprocess / status', {
  since: opt.string({ name: 'since', default: '', cliOnly: true, help: 'reprocess: first instant (ISO 8601, naive = UTC, or YYYY-MM-DD); its whole hour is rerun.' }),
  until: opt.string({ name: 'until', default: '', cliOnly: true, help: 'reprocess: end instant, exclusive.' }),
  runner: opt.enum({ name: 'runner', default: 'local', choices: ['local', 'in-process'], cliOnly: true, help: 'reprocess: local (worker threads over the whole range) or in-process (the window job, window by window).' }),
  project: opt.string({ name: 'project', default: '', cliOnly: true, help: "reprocess: rewrite only this project's rows." }),
});

/** Sub-commands of `tally analyzer`. */
export const ANALYZER_TOOLS = ['reprocess', 'status'] as const;

/** Run `tally analyzer <tool>`; returns the exit code. */
export async function runAnalyzerTool(tool: string, config: LoadedConfig, log: Logger): Promise<number> {
  const life = new Lifecycle(log);
  try {
    if (tool === 'reprocess') {
      const t = config.get(analyzerToolOptions);
      const sinceUs = parseInstant(t.since, 'since');
      const untilUs = parseInstant(t.until, 'until');
      const db = await openDb(config, log, life, false);
      const dfs = openDfs(config.get(dfsOptions).dfsUrl, dataDir(config));
      life.add('DFS', () => dfs.close());
      const w = config.get(windowOptions);
      const r = await reprocess({ dfs, db, log: log.child('reprocess') }, { sinceUs, untilUs, runner: t.runner, ...(t.project ? { projectId: t.project } : {}) }, w.gapThreshold * 1000,
        (h, rows) => process.stdout.write(`${new Date(h / 1000).toISOString()}  ${rows} rows\n`));
      process.stdout.write(`reprocessed ${r.windows} windows from ${r.files} DFS files: ${r.rows} usage rows${t.project ? ` of project ${t.project}` : ''}\n`);
      return 0;
    }
    if (tool === 'status') {
      const db = await openDb(config, log, life, false);
      const url = config.get(busOptions).amqpUrl;
      const bus = url ? await openBus(url, log.child('bus')) : undefined;
      if (bus) life.add('bus', () => bus.close());
      const s = await analyzerStatus(db, bus, config.get(ingestOptions).analyzerQueue);
      for (const [k, v] of Object.entries(s)) process.stdout.write(`${k.padEnd(20)} ${v === null ? '-' : String(v)}\n`);
      return 0;
    }
    throw new ValidationError('command', `unknown analyzer tool ${JSON.stringify(tool)} (known: ${ANALYZER_TOOLS.join(', ')})`);
  } finally {
    await life.stopAll();
  }
}
