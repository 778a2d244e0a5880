/**
 * The billing API's JSON shapes, imported from the API's own contract file
 * (type-only: nothing of the server reaches the bundle).
 */
export type {
  Alert, ActionView, ClusterView, ClusterMemberView, ComponentView, DecisionView, ScalingPolicyVersionView,
  BillingMode, ChargesContext, ErrorBody, PoolSample, PoolView, PolicyVersionView, ProjectCharges, ProjectList, ResourceCharge, ResourceModeView, RunReport,
} from '@tally/billing-api/wire';
