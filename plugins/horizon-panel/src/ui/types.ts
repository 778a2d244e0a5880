/**
 * The billing API's JSON shapes, imported from the API's own contract file
 * (type-only: nothing of the server reaches the bundle).
 */
export type {
  BillingMode, ChargesContext, ErrorBody, PoolSample, PoolView, ProjectCharges, ProjectList, ResourceCharge, ResourceModeView,
} from '@tally/billing-api/wire';
