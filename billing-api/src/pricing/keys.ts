/**
 * The vocabulary of pricing policies: every key a rule may test or assign, its value
 * type, the units it accepts, and its phrase in the controlled natural language.
 * A key or unit not listed here is an error, never a silent no-op.
 */

/** What a key is for. `fact`: tested only; `outcome`: `=` assigns a price element; `derived`: `=` assigns a fact other rules may test with `==`; `control`: rule metadata. */
export type KeyKind = 'fact' | 'outcome' | 'derived' | 'control';

/** The type of a key's value. `money` is in the policy's currency; `duration` in seconds. */
export type ValueType = 'string' | 'number' | 'money' | 'duration' | 'percent' | 'factor' | 'tokens';

/** One key of the vocabulary. */
export interface KeyDef {
  key: string;
  kind: KeyKind;
  type: ValueType;
  /** Natural-language phrases, lower case, the first one canonical (printed by the formatter). */
  phrases: readonly string[];
  /** Whether tier lists (GRADUATED/VOLUME) are allowed as the value. */
  tiers?: boolean;
  /** Whether a CURVE over POOL_FREE is allowed as the value. */
  curve?: boolean;
  /** Units accepted after a number (lower case) and their factor to the canonical unit. */
  units?: Readonly<Record<string, string>>;
  /** What the key means (printed in docs/pricing.md and by `tally policy explain`). */
  doc: string;
}

const DURATION_UNITS = { s: '1', second: '1', seconds: '1', min: '60', minute: '60', minutes: '60', h: '3600', hour: '3600', hours: '3600', day: '86400', days: '86400' } as const;
const PERCENT_UNITS = { '%': '1', percent: '1' } as const;
const FRACTION_UNITS = { '%': '0.01', percent: '0.01' } as const;
const TOKEN_UNITS = { token: '1', tokens: '1' } as const;
const HOUR_UNITS = { h: '1', hour: '1', hours: '1' } as const;

/** Currency names accepted as units of money values, mapped to ISO 4217 codes. */
export const CURRENCY_UNITS: Readonly<Record<string, string>> = {
  eur: 'EUR', euro: 'EUR', euros: 'EUR', usd: 'USD', dollar: 'USD', dollars: 'USD', gbp: 'GBP', pound: 'GBP', pounds: 'GBP', chf: 'CHF', francs: 'CHF', cny: 'CNY', yuan: 'CNY',
};

const K = (key: string, kind: KeyKind, type: ValueType, phrases: string[], doc: string, extra: Partial<KeyDef> = {}): KeyDef => ({ key, kind, type, phrases, doc, ...extra });

/** Every key, in documentation order. */
export const KEYS: readonly KeyDef[] = [
  // Facts of a usage record (or of the billing period) and of the payer account.
  K('EVENT', 'fact', 'string', ['event'], 'What happened: "VM Assignment" for an instance\'s running time, "Volume Assignment", "Floating IP Assignment", a one-off event\'s name, or "Billing Period" for period-level rules.'),
  K('METER', 'fact', 'string', ['meter'], 'The usage record\'s meter, e.g. "instance".'),
  K('RESOURCE_TYPE', 'fact', 'string', ['resource type'], 'The flavor name of an instance (e.g. "m1.small"), or the resource type of a one-off event.'),
  K('RESOURCE_ID', 'fact', 'string', ['resource id'], 'The resource uuid.'),
  K('CLIENT_TYPE', 'fact', 'string', ["client's type", 'client type'], 'The payer account\'s client type (e.g. "Platinum").'),
  K('SERVICE_LEVEL', 'fact', 'string', ['service level'], 'The payer account\'s service level.'),
  K('RESOURCE_AGE', 'fact', 'duration', ['resource age'], 'Seconds from the resource\'s creation (or its first rated usage) to the end of the usage window.', { units: DURATION_UNITS }),
  K('PROJECT', 'fact', 'string', ['project'], 'The Keystone project id that pays.'),
  K('DOMAIN', 'fact', 'string', ['domain'], 'The Keystone domain of the project.'),
  K('REGION', 'fact', 'string', ['region'], 'The region of the resource.'),
  K('POOL', 'fact', 'string', ['pool'], 'The resource pool (e.g. host aggregate) the resource sits in.'),
  K('POOL_FREE', 'fact', 'factor', ["pool's free capacity", 'pool free capacity'], 'Free capacity of the pool at the start of the window, 0 (full) to 1 (empty); 40 (%) is 0.4.', { units: FRACTION_UNITS }),
  K('BILLING_MODE', 'fact', 'string', ['billing mode'], '"on-demand" (default) or "dynamic", chosen by the tenant per resource.'),
  K('HOUR_OF_DAY', 'fact', 'number', ['hour of day'], 'UTC hour (0-23) at the start of the usage window.'),
  K('DAY_OF_WEEK', 'fact', 'string', ['day of week'], 'UTC day name at the start of the usage window ("Monday" ... "Sunday").'),
  K('QUANTITY', 'fact', 'number', ['quantity'], 'The usage record\'s quantity in its own unit (seconds for instances).'),
  K('VCPUS', 'fact', 'number', ['vcpus', 'number of vcpus'], 'vCPUs of the instance\'s flavor.'),
  K('MEMORY_MB', 'fact', 'number', ['memory'], 'Memory of the instance\'s flavor, MB.'),
  K('PERIOD_SECONDS', 'fact', 'duration', ['period seconds'], 'Period total: running seconds of the project.', { units: DURATION_UNITS }),
  K('PERIOD_HOURS', 'fact', 'number', ['period hours'], 'Period total: running hours of the project.', { units: HOUR_UNITS }),
  K('PERIOD_CPU_HOURS', 'fact', 'number', ['period cpu-hours'], 'Period total: CPU-hours (vCPUs x hours) of the project.', { units: { 'cpu-hour': '1', 'cpu-hours': '1' } }),
  K('PERIOD_GB_HOURS', 'fact', 'number', ['period gb-hours'], 'Period total: GB-hours of the project.', { units: { 'gb-hour': '1', 'gb-hours': '1' } }),
  K('PERIOD_UNITS', 'fact', 'number', ['period units'], 'Period total: units of unit-metered usage.'),
  K('PERIOD_TOKENS', 'fact', 'tokens', ['period tokens'], 'Period total: tokens of the project.', { units: TOKEN_UNITS }),
  K('PERIOD_COST', 'fact', 'money', ['period cost'], 'Period total: usage and one-off charges before discounts.'),
  // Price elements.
  K('COST_PER_SECOND', 'outcome', 'money', ['cost per second'], 'Usage fee per running second.', { tiers: true }),
  K('COST_PER_HOUR', 'outcome', 'money', ['cost per hour'], 'Usage fee per running hour.', { tiers: true }),
  K('COST_PER_CPU_HOUR', 'outcome', 'money', ['cost per cpu-hour'], 'Usage fee per vCPU-hour.', { tiers: true }),
  K('COST_PER_GB_HOUR', 'outcome', 'money', ['cost per gb-hour'], 'Usage fee per GB-hour (memory of instances, size of volumes).', { tiers: true }),
  K('COST_PER_UNIT', 'outcome', 'money', ['cost per unit'], 'Usage fee per unit of the record\'s quantity.', { tiers: true }),
  K('TOKENS_PER_SECOND', 'outcome', 'tokens', ['tokens per second'], 'Tokens per running second (converted to money with the dated token rate).', { units: TOKEN_UNITS }),
  K('TOKENS_PER_HOUR', 'outcome', 'tokens', ['tokens per hour'], 'Tokens per running hour.', { units: TOKEN_UNITS }),
  K('TOKENS_PER_CPU_HOUR', 'outcome', 'tokens', ['tokens per cpu-hour'], 'Tokens per vCPU-hour (the seed\'s "1 CPU-hour is 1 token").', { units: TOKEN_UNITS }),
  K('TOKENS_PER_GB_HOUR', 'outcome', 'tokens', ['tokens per gb-hour'], 'Tokens per GB-hour.', { units: TOKEN_UNITS }),
  K('TOKENS_PER_UNIT', 'outcome', 'tokens', ['tokens per unit'], 'Tokens per unit of quantity.', { units: TOKEN_UNITS }),
  K('ONE_OFF_COST', 'outcome', 'money', ['one-off cost'], 'A one-off fee, charged once per matching event.'),
  K('DYNAMIC_FACTOR', 'outcome', 'factor', ['dynamic factor'], 'Dynamic mode: on-demand price x this factor (0..1), a number or a CURVE over POOL_FREE.', { curve: true, units: FRACTION_UNITS }),
  K('MINIMUM_SECONDS', 'outcome', 'duration', ['minimum billed time'], 'Per-second billing with a minimum: a resource is billed at least this long in a period.', { units: DURATION_UNITS }),
  K('DISCOUNT_PERCENT', 'outcome', 'percent', ['discount'], 'Period rule: percent off the project\'s usage and one-off charges.', { units: PERCENT_UNITS }),
  K('DISCOUNT_AMOUNT', 'outcome', 'money', ['discount amount'], 'Period rule: an amount off (never below zero).'),
  K('MINIMUM_CHARGE', 'outcome', 'money', ['minimum charge'], 'Period rule: the project pays at least this much in the period.'),
  K('RECURRING_COST_PER_MONTH', 'outcome', 'money', ['monthly fee'], 'Period rule: a fixed fee per calendar month, prorated by the seconds of the month in the period.'),
  // Derived facts and rule metadata.
  K('DISCOUNT_CLASS', 'derived', 'string', ['discount class'], 'A derived fact (e.g. a Platinum client gets discount class "Gold"), tested by other rules with ==.'),
  K('PRICE_CLASS', 'derived', 'string', ['price class'], 'A derived fact for grouping resource types.'),
  K('PRIORITY', 'control', 'number', ['priority'], 'Salience: a rule with a higher priority wins a conflict (default 0).'),
  K('ACTIVATION_GROUP', 'control', 'string', ['activation group'], 'Only the first matching rule of a group fires.'),
];

/** Keys by name. */
export const KEY_INDEX: ReadonlyMap<string, KeyDef> = new Map(KEYS.map((k) => [k.key, k]));

/** Whether `=` on this key assigns (outcome, derived, control) rather than tests. */
export function assigns(def: KeyDef): boolean {
  return def.kind !== 'fact';
}

/** Phrases (as word lists) to keys, longest first, for the natural-language parser. */
export const PHRASES: readonly { words: readonly string[]; def: KeyDef }[] = KEYS.flatMap((def) => def.phrases.map((p) => ({ words: p.split(' '), def })))
  .sort((a, b) => b.words.length - a.words.length);

/** Natural-language token-conversion basis words ("1 CPU-hour is 1 token") to TOKENS_PER_* keys. */
export const TOKEN_BASES: Readonly<Record<string, string>> = {
  second: 'TOKENS_PER_SECOND', hour: 'TOKENS_PER_HOUR', 'cpu-hour': 'TOKENS_PER_CPU_HOUR', 'gb-hour': 'TOKENS_PER_GB_HOUR', unit: 'TOKENS_PER_UNIT',
};

/** "Over 20 CPU-hours, ..." unit words to the PERIOD_* fact they test. */
export const OVER_UNITS: Readonly<Record<string, string>> = {
  'cpu-hours': 'PERIOD_CPU_HOURS', 'cpu-hour': 'PERIOD_CPU_HOURS', hours: 'PERIOD_HOURS', hour: 'PERIOD_HOURS', 'gb-hours': 'PERIOD_GB_HOURS', 'gb-hour': 'PERIOD_GB_HOURS',
  units: 'PERIOD_UNITS', unit: 'PERIOD_UNITS', tokens: 'PERIOD_TOKENS', token: 'PERIOD_TOKENS',
};

/**
 * The conflict slot of an outcome key. All usage fees (COST_PER_*) share one slot and all
 * token conversions (TOKENS_PER_*) another: the usage price of a record comes from one
 * rule, so a fallback rule's per-vCPU-hour fee never adds to a flavor rule's hourly fee.
 * Every other key is its own slot.
 */
export function slotOf(key: string): string {
  if (key.startsWith('COST_PER_')) return 'COST_PER_*';
  if (key.startsWith('TOKENS_PER_')) return 'TOKENS_PER_*';
  return key;
}
