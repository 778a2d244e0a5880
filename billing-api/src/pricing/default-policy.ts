/**
 * The default policy in the DSL: the skeleton's price list (rating.ts DEFAULT_POLICY),
 * a price per hour for each flavor and, for unlisted flavors, a price per vCPU-hour.
 * Usage fees share one conflict slot, so one rule prices a record: a flavor's own rule
 * (two conditions) wins over the fallback (one) by specificity. A test checks it prices
 * like DEFAULT_POLICY, to the last decimal.
 */

/** The default policy text (EUR). */
export const DEFAULT_POLICY_TEXT = `# Default price list (EUR): a price per hour for each flavor,
# and a price per vCPU-hour for any other flavor. One rule sets a usage fee: the most
# specific, so a listed flavor never also pays the fallback.
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.tiny", COST_PER_HOUR = 0.0100 (EUR)
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.small", COST_PER_HOUR = 0.0200 (EUR)
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.medium", COST_PER_HOUR = 0.0400 (EUR)
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.large", COST_PER_HOUR = 0.0800 (EUR)
EVENT = "VM Assignment", RESOURCE_TYPE = "m1.xlarge", COST_PER_HOUR = 0.1600 (EUR)
EVENT = "VM Assignment", COST_PER_CPU_HOUR = 0.0200 (EUR)
`;
