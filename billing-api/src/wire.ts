/**
 * The JSON shapes billing-api answers with: the HTTP contract. This file has
 * no imports, so the browser bundle can import these types
 * (`@tally/billing-api/wire`) without pulling in any server code.
 */

/** How a resource's unit price was found. `unpriced`: unknown flavor and no vCPU count — amount 0, flagged. */
export type PriceBasis = 'flavor' | 'vcpu' | 'policy' | 'unpriced';

/** How a resource is billed (seed 001): on-demand, or dynamic (cheaper while its pool has free capacity). */
export type BillingMode = 'on-demand' | 'dynamic';

/** The header every charges response carries: period, policy, currency, rounding rule. */
export interface ChargesContext {
  period: { start: string; end: string };
  currency: string;
  policy: { name: string; version: number };
  rounding: { line: string; total: string };
}

/** One resource (under one flavor) in a project's charges. */
export interface ResourceCharge {
  resource_id: string;
  display_name: string | null;
  flavor: string | null;
  vcpus: number | null;
  hours: string;
  unit_price: string;
  price_basis: PriceBasis;
  /** The resource's billing mode now (its lines were rated in it). */
  billing_mode: BillingMode;
  amount: string;
}

/** A project's charges: `GET /v1/projects/:id/charges`. */
export interface ProjectCharges extends ChargesContext {
  project_id: string;
  total: string;
  resources: ResourceCharge[];
  /** One entry per UTC day of the period, zero-filled. */
  daily: { date: string; amount: string }[];
  /** Period-level lines of the policy (monthly fees, discounts, minimum charges), in the total but in no day. */
  adjustments: { kind: 'recurring' | 'discount' | 'minimum-charge'; amount: string }[];
  /** Resources whose flavor had no price and no vCPU count (rated 0, to be fixed in the policy). */
  unpriced_resources: string[];
}

/**
 * A project whose charges cannot be computed (its stored usage holds a record that
 * cannot be rated, or rating it failed): no number is given for it, only what is wrong.
 */
export interface UnratedProject {
  project_id: string;
  /** `usage_invalid`: the same code its own charges answer (409) with. */
  code: string;
  message: string;
}

/** Every project with its total: `GET /v1/projects`. */
export interface ProjectList extends ChargesContext {
  projects: { project_id: string; total: string; resources: number }[];
  /** Projects with usage in the period that have no total (see {@link UnratedProject}); a non-admin sees only its own. */
  unrated: UnratedProject[];
}

/** The one error shape of every route. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; request_id: string };
}

/** How an account pays. */
export type Scheme = 'postpaid' | 'prepaid' | 'continuous';

/** An account as the API shows it. */
export interface AccountView {
  id: string;
  name: string;
  currency: string;
  scheme: Scheme;
  low_balance_threshold: string;
  projects: string[];
  balance: Balances;
  low_balance_alert: { since: string; balance: string } | null;
  charged_until: string | null;
}

/** An account's derived balances (decimal strings). */
export interface Balances {
  /** Prepaid funds available: minus the wallet's sum. */
  wallet: string;
  /** What the account owes: the receivable's sum. */
  receivable: string;
  /** wallet − receivable: positive means in credit. */
  available: string;
}

/** Invoice states. */
export type InvoiceStatus = 'draft' | 'finalized' | 'void';

/** An invoice as the API shows it. */
export interface InvoiceView {
  id: string;
  account_id: string;
  period: { start: string; end: string };
  status: InvoiceStatus;
  currency: string;
  total: string;
  credited: string;
  policy: string;
  created_at: string;
  finalized_at: string | null;
  voided_at: string | null;
  lines: { line_no: number; rated_line_id: string; project_id: string | null; description: string; amount: string }[];
  credit_notes: { id: string; amount: string; reason: string; created_at: string }[];
  /**
   * Present when a project's member or reader reads it: the project, whether the account pays for
   * other projects too (then `lines` holds this project's lines only) and the sum of `lines`.
   */
  scope?: { project_id: string; shared: boolean; project_total: string };
}

/** The account paying for a project, as its members see it: `GET /v1/projects/:id/account`. */
export interface ProjectAccountView {
  project_id: string;
  id: string;
  name: string;
  scheme: Scheme;
  currency: string;
  balance: Balances;
  /** The account pays for other projects too. */
  shared: boolean;
}

/** A project's invoices: `GET /v1/projects/:id/invoices` (no account yet: `account_id` null, no invoices). */
export interface ProjectInvoiceList {
  project_id: string;
  account_id: string | null;
  shared: boolean;
  /** Newest period first; `project_total` is this project's lines' sum (the whole invoice when not shared). */
  invoices: (Omit<InvoiceView, 'lines' | 'credit_notes' | 'credited' | 'scope'> & { project_total: string })[];
}

/** A stored version, as the API shows it. */
export interface PolicyVersionView {
  id: number;
  name: string;
  version: number;
  effective_from: string;
  created_by: string;
  created_at: string;
  source: string;
}

/** An account a run could not invoice, and why (the run goes on with the others; a rerun retries it). */
export interface RunFailure {
  account_id: string;
  code: string;
  message: string;
}

/** What a run did. */
export interface RunReport {
  run_id: string;
  period: { start: string; end: string };
  /** `succeeded`: every account has its invoice; `failed`: `failed_accounts` have none (the others do). */
  status: 'succeeded' | 'failed';
  accounts: number;
  invoices_created: number;
  invoices_existing: number;
  failed_accounts: RunFailure[];
}

/** A resource's billing mode: `GET /v1/projects/:id/billing-modes`, `PUT .../resources/:rid/billing-mode`. */
export interface ResourceModeView {
  resource_id: string;
  /** The latest display name in its usage (listings; null when none was seen, and in write answers). */
  display_name: string | null;
  project_id: string;
  mode: BillingMode;
  pool: string | null;
  /** Who set it and when; null for a resource never set (on-demand by default). */
  updated_by: string | null;
  updated_at: string | null;
  /** When the current mode took effect (it rates usage from then on); null when never set. */
  valid_from: string | null;
  /** This project has no usage of the resource yet: the mode applies once it appears here (never in another project). */
  pending: boolean;
}

/** One sample of a pool's free capacity, with the dynamic factor the live policy gives it. */
export interface PoolSample {
  at: string;
  /** 0 (full) to 1 (empty), decimal string. */
  free: string;
  /** The factor a dynamic resource in this pool pays (1 = on-demand price), decimal string. */
  dynamic_factor: string;
}

/** One resource class of a pool's latest Placement reading (sums over its providers; decimal strings). */
export interface PoolClassView {
  resource_class: string;
  providers: number;
  /** floor((total - reserved) x allocation_ratio), summed. */
  capacity: string;
  used: string;
  free: string;
  /** free / capacity, 0 to 1. */
  free_fraction: string;
}

/** How a Placement-fed pool is read, and how fresh its last reading is. */
export interface PoolPlacementView {
  /** As configured in placement-pools, e.g. `aggregate:tally-agg-1`. */
  spec: string;
  /** The providers of the last good reading. */
  providers: { uuid: string; name: string }[];
  last_ok_at: string | null;
  /** Seconds since the last good reading (null before the first). */
  age_seconds: number | null;
  /** A reading prices usage for this long at most. */
  max_age_seconds: number;
  /** True when the last reading is too old to price by: dynamic lines pay the on-demand price now. */
  stale: boolean;
  last_error: string | null;
  last_error_at: string | null;
  /** Failed readings since the last good one. */
  failures: number;
  /** The last reading per class; the scarcest class's fraction is the pool's free capacity. */
  classes: PoolClassView[];
}

/** A pool and its capacity series: `GET /v1/pools`. */
export interface PoolView {
  name: string;
  /** Resources billed in this pool. */
  resources: number;
  latest: PoolSample | null;
  series: PoolSample[];
  /** Present when the pool is read from Placement (absent: the admin feed). */
  placement?: PoolPlacementView;
}

// The scheduler's routes answer with the scheduler's and common's own view types.
export type { ComponentView, ClusterView, ClusterMemberView, DecisionView, ActionView, ScalingPolicyVersionView } from '@tally/scheduler';
export type { Alert } from '@tally/common';
