/**
 * The billing API's JSON shapes as the UI reads them. Mirrored here on purpose:
 * the UI talks to the API over HTTP (and, in Horizon, through a proxy), not by import.
 */

/** Fields every charges response carries. */
export interface ChargesContext {
  period: { start: string; end: string };
  currency: string;
  policy: { name: string; version: number };
  rounding: { line: string; total: string };
}

/** `GET /v1/projects` */
export interface ProjectList extends ChargesContext {
  projects: { project_id: string; total: string; resources: number }[];
}

/** One resource line of `GET /v1/projects/:id/charges`. */
export interface ResourceCharge {
  resource_id: string;
  display_name: string | null;
  flavor: string | null;
  vcpus: number | null;
  hours: string;
  unit_price: string;
  price_basis: 'flavor' | 'vcpu' | 'unpriced';
  amount: string;
}

/** `GET /v1/projects/:id/charges` */
export interface ProjectCharges extends ChargesContext {
  project_id: string;
  total: string;
  resources: ResourceCharge[];
  daily: { date: string; amount: string }[];
  unpriced_resources: string[];
}

/** The API's error body. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; request_id: string };
}
