/**
 * The JSON shapes billing-api answers with: the HTTP contract. This file has
 * no imports, so the browser bundle can import these types
 * (`@tally/billing-api/wire`) without pulling in any server code.
 */

/** How a resource's unit price was found. `unpriced`: unknown flavor and no vCPU count — amount 0, flagged. */
export type PriceBasis = 'flavor' | 'vcpu' | 'unpriced';

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
  amount: string;
}

/** A project's charges: `GET /v1/projects/:id/charges`. */
export interface ProjectCharges extends ChargesContext {
  project_id: string;
  total: string;
  resources: ResourceCharge[];
  /** One entry per UTC day of the period, zero-filled. */
  daily: { date: string; amount: string }[];
  /** Resources whose flavor had no price and no vCPU count (rated 0, to be fixed in the policy). */
  unpriced_resources: string[];
}

/** Every project with its total: `GET /v1/projects`. */
export interface ProjectList extends ChargesContext {
  projects: { project_id: string; total: string; resources: number }[];
}

/** The one error shape of every route. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; request_id: string };
}
