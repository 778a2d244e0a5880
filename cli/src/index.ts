/** The `tally` command table; `main.ts` runs it. */
export { COMMANDS, ALL_GROUPS, type Command } from './commands.js';
export { ALL_MIGRATIONS } from './parts.js';
export { Lifecycle } from './shutdown.js';
