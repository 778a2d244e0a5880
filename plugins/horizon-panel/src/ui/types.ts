/**
 * The billing API's JSON shapes, imported from the API's own contract file
 * (type-only: nothing of the server reaches the bundle).
 */
export type { ChargesContext, ErrorBody, ProjectCharges, ProjectList, ResourceCharge } from '@tally/billing-api/wire';
