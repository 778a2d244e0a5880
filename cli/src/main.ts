/**
 * `tally` — the one command-line entry. Commands:
 *   tally start            all-in-one (embedded defaults)
 *   tally agent [--once]   the Ceilometer-compatible polling agent
 *   tally analyzer         ingest + map/reduce into usage records
 *   tally api              the billing API (and the UI page)
 *   tally migrate          apply database migrations and exit
 *   tally config sample    print a sample config from every declared option
 */
import { ConfigError, TallyError, createLogger, loadConfig, renderSample, runtimeOptions, type OptionGroup } from '@tally/common';
import { COMMANDS, ALL_GROUPS, type Command } from './commands.js';

function usage(): string {
  const lines = ['usage: tally <command> [--config FILE] [--option value ...]', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(16)} ${c.summary}`);
  lines.push('', 'Options come from --config FILE (YAML), TALLY_<NAME> environment variables and --<name> flags;',
    'flags win over the environment, which wins over the file. `tally config sample` lists them all.',
    '`tally <command> --help` lists the options of one command.');
  return lines.join('\n');
}

function commandHelp(c: Command): string {
  const lines = [`usage: tally ${c.name} [options]`, '', c.summary, '', 'options:'];
  const seen = new Set<string>();
  for (const g of c.groups as readonly OptionGroup[]) {
    for (const d of Object.values(g.options)) {
      if (seen.has(d.name)) continue;
      seen.add(d.name);
      const def = d.secret ? '' : ` (default: ${JSON.stringify(d.default)})`;
      lines.push(`  --${d.name.padEnd(22)} ${d.help}${def}`);
    }
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === 'config') {
    if (rest[0] !== 'sample') {
      process.stderr.write('usage: tally config sample\n');
      return 2;
    }
    process.stdout.write(renderSample(ALL_GROUPS));
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`tally: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return 0;
  }
  const config = loadConfig({ known: ALL_GROUPS, used: [runtimeOptions, ...cmd.groups], argv: rest });
  const rt = config.get(runtimeOptions);
  const log = createLogger('tally', { level: rt.logLevel, ...(rt.logFormat === 'auto' ? {} : { format: rt.logFormat }) });
  return cmd.run(config, log);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`tally: ${err.message}\n`);
    else if (err instanceof TallyError) process.stderr.write(`tally: ${err.message}${err.cause ? ` (${String((err.cause as Error).message ?? err.cause)})` : ''}\n`);
    else process.stderr.write(`tally: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
