/**
 * `tally api-policy-sample`: print billing-api's policy rules with their
 * defaults as a commented YAML policy file (like oslopolicy-sample-generator).
 * With `--policy-file`, the file is loaded and checked first, so the command
 * also validates an operator's overrides.
 */
import { apiOptions, loadAccessPolicy, renderAccessPolicySample } from '@tally/billing-api';
import type { Command } from './command.js';

/** The command, registered in commands.ts. */
export const apiPolicySampleCommand: Command = {
  name: 'api-policy-sample',
  summary: "Print the billing API's default policy rules as a sample policy file (checks --policy-file when given)",
  groups: [apiOptions],
  run(config) {
    const file = config.get(apiOptions).policyFile;
    if (file !== '') loadAccessPolicy(file);
    process.stdout.write(renderAccessPolicySample());
    return Promise.resolve(0);
  },
};
