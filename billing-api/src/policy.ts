/**
 * Pricing policies as data: the `pricing_policies` table, its migration (with the
 * seeded default policy) and loading the policy in effect at a moment.
 */
import { commonMigrations, TallyError, type Knex, type Migration } from '@tally/common';
import { schedulerMigrations } from '@tally/scheduler';
import { DEFAULT_POLICY, parsePricingDocument, type PricingPolicy } from './rating.js';
import { moneyMigrations } from './accounts/schema.js';
import { modesMigrations } from './modes/schema.js';
import { placementMigrations } from './pools/placement-store.js';

/** A stored pricing policy. */
export interface StoredPolicy extends PricingPolicy {
  id: number;
  effectiveFrom: Date;
  createdAt: Date;
}

/** No policy is in effect: the API cannot rate anything (a 503, never a zero bill). */
export class NoPolicyError extends TallyError {
  constructor(at: Date) {
    super('no_pricing_policy', `no pricing policy is in effect at ${at.toISOString()}`);
  }
}

const createPricingPolicies: Migration = {
  name: '20261121000100_pricing_policies',
  async up(knex) {
    await knex.schema.createTable('pricing_policies', (t) => {
      t.increments('id').primary();
      t.text('name').notNullable();
      t.integer('version').notNullable();
      t.string('currency', 3).notNullable();
      t.jsonb('document').notNullable();
      t.timestamp('effective_from', { useTz: true }).notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.unique(['name', 'version']);
      t.index(['effective_from']);
    });
    await knex.raw(`ALTER TABLE pricing_policies ADD CONSTRAINT pricing_policies_currency_iso CHECK (currency ~ '^[A-Z]{3}$')`);
    // The default policy applies from the epoch, so every usage record has a price.
    await knex('pricing_policies').insert({
      name: DEFAULT_POLICY.name,
      version: DEFAULT_POLICY.version,
      currency: DEFAULT_POLICY.currency,
      document: JSON.stringify(DEFAULT_POLICY.document),
      effective_from: new Date(0),
    });
  },
  async down(knex) {
    await knex.schema.dropTable('pricing_policies');
  },
};

/** billing-api's migrations, in order; run them with `migrate` from `@tally/common`. The alerts table (common's) is among them: billing-api raises alerts. */
// The scheduler's tables too: billing-api serves its registry, decisions and scaling policies.
export const billingMigrations: Migration[] = [createPricingPolicies, ...moneyMigrations, ...modesMigrations, ...commonMigrations, ...schedulerMigrations, ...placementMigrations];

interface PolicyRow {
  id: number;
  name: string;
  version: number;
  currency: string;
  document: unknown;
  effective_from: Date;
  created_at: Date;
}

/**
 * The policy in effect at `at`: the one with the latest `effective_from` not after `at`
 * (ties: the highest version). Throws {@link NoPolicyError} when there is none.
 */
export async function loadPolicyAt(db: Knex, at: Date): Promise<StoredPolicy> {
  const row = (await db<PolicyRow>('pricing_policies')
    .where('effective_from', '<=', at)
    .orderBy([{ column: 'effective_from', order: 'desc' }, { column: 'version', order: 'desc' }, { column: 'id', order: 'desc' }])
    .first()) as PolicyRow | undefined;
  if (!row) throw new NoPolicyError(at);
  let document;
  try {
    document = parsePricingDocument(row.document);
  } catch (e) {
    // A bad stored document is our fault (500), never a client error, and never rated at zero.
    throw new TallyError('policy_invalid', `pricing policy ${row.name} v${row.version} is invalid: ${(e as Error).message}`, { cause: e });
  }
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    currency: row.currency,
    document,
    effectiveFrom: row.effective_from,
    createdAt: row.created_at,
  };
}
