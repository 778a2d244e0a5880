/** The shape of one `tally` command (its own file, so command modules and the table import it without a cycle). */
import type { LoadedConfig, Logger, OptionGroup } from '@tally/common';

export interface Command {
  name: string;
  summary: string;
  groups: readonly OptionGroup[];
  run(config: LoadedConfig, log: Logger): Promise<number>;
}
