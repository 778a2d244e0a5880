/**
 * `@tally/billing-api`: rating, pricing policies, the charges use cases and the Koa API.
 * The CLI workspace wires these together (there is no main.ts here).
 */
export { createApp, type AppDeps, type AuthStrategy, type TallyApp } from './app.js';
export type { RouteSpec, Method } from './api/v1/route.js';
export { startApi, apiOptions, authFromOptions, type RunningApi } from './server.js';
export { KeystoneValidator, UnauthenticatedError, type KeystoneSettings } from './auth/keystone.js';
export { AccessPolicy, ForbiddenError, RULE_DEFAULTS, loadAccessPolicy, parseAccessPolicyFile, renderAccessPolicySample, type RuleDefault } from './auth/policy.js';
export { parseCheck, evaluate, type Check, type Credentials, type Target } from './auth/rules.js';
export { NOAUTH_CREDENTIALS, type TokenValidator } from './auth/middleware.js';
export { billingScheduleOptions, startBillingSchedule, billingTick } from './invoices/schedule.js';
export { runBilling, invoiceAccount, invoiceId, type RunReport } from './invoices/run.js';
export { chargeWallets, chargeWallet } from './accounts/charge.js';
export { createAccount, getAccount, topUp, type AccountView, type Scheme } from './accounts/accounts.js';
export { ledgerSum, balances } from './accounts/ledger.js';
export { billingMigrations, loadPolicyAt, NoPolicyError, type StoredPolicy } from './policy.js';
export {
  projectCharges, listProjects,
  type ChargesDeps, type PeriodQuery, type ChargesContext, type ProjectCharges, type ProjectList, type ResourceCharge,
} from './charges.js';
export {
  rateLine, unitPrice, parsePricingDocument, DEFAULT_POLICY, ROUNDING, LINE_DECIMALS, TOTAL_DECIMALS,
  type PricingPolicy, type FlavorPricingDocument, type UsageQuantity, type RatedLine, type PriceBasis, type UnitPrice,
} from './rating.js';
export { resolvePeriod, parseTimestamp, monthStart, type Period } from './period.js';
export { REQUEST_ID_HEADER, type ErrorBody } from './http-errors.js';
export { placementOptions, placementFromOptions, startPlacementPoller, pollOnce, type PollerConfig, type PollOutcome } from './pools/placement-poller.js';
export { poolCapacity, DEFAULT_CLASSES, type PoolCapacity, type ProviderReading } from './pools/placement-capacity.js';
export { parsePlacementPools, type PlacementPool, type PoolSource } from './pools/placement-spec.js';
export { PlacementReader, negotiate } from './pools/placement-reader.js';
export { OpenStackSession, ServiceError, type SessionSettings } from './pools/openstack-session.js';
export { boundSeries } from './pools/placement-bound.js';
export { registerPlacementPools, placementMigrations } from './pools/placement-store.js';
// The pricing core (policy languages, rule engine, rating, quotes): see docs/pricing.md.
export * from './pricing/index.js';
