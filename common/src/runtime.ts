/** Options every Tally process reads, whatever its role. */
import { defineOptions, opt } from './config.js';

export const runtimeOptions = defineOptions('runtime', 'where Tally keeps local state, and how it logs', {
  dataDir: opt.string({
    name: 'data-dir',
    default: '.tally',
    help: 'Folder for local state: the embedded PostgreSQL, the default local DFS, agent journals. Relative paths are taken from the working directory.',
  }),
  logLevel: opt.enum({ name: 'log-level', default: 'info', choices: ['debug', 'info', 'warn', 'error'] as const, help: 'Least severe log level written.' }),
  logFormat: opt.enum({ name: 'log-format', default: 'auto', choices: ['auto', 'json', 'pretty'] as const, help: 'Log lines as JSON, readable text, or auto (text on a terminal, JSON otherwise).' }),
});
