/**
 * `@tally/scheduler`: the resource scheduler (seed 000 [0075–0082]): the component
 * registry and its load series, scaling policies (text, versioned), the pure decision,
 * the `local` and `nova` drivers, alerts. The CLI wires it (there is no main.ts here).
 */
export { schedulerMigrations, COMPONENTS_TABLE, LOAD_TABLE, OBSERVATIONS_TABLE, POLICY_TABLE, MEMBERS_TABLE, DECISIONS_TABLE, ACTIONS_TABLE } from './schema.js';
export { recordHeartbeat, listComponents, sweepLost, pruneLoad, loadSeries, type ComponentView, type HeartbeatResult } from './registry.js';
export {
  parseScalingPolicy, checkScalingPolicy, DEFAULT_SCALING_POLICY_TEXT, METRICS, METRIC_NAMES, AGGREGATES, VICTIMS, MAX_POLICY_CHARS,
  type ScalingPolicy, type Rule, type Direction, type Metric, type Aggregate, type VictimRule,
} from './policy/format.js';
export { listScalingPolicies, livePolicy, addScalingPolicyVersion, deleteScalingPolicy, clustersWithPolicies, type ScalingPolicyVersionView, type LivePolicy, type PolicyAuditHook } from './policy/store.js';
export { decide, describeRule, formatWindow, aggregateAt, type Decision, type DecisionInput, type MemberView, type Observation, type LastAction, type RuleResult, type Block } from './decide.js';
export { chooseVictims } from './victim.js';
export { observe, analyzerHeartbeatMetrics, ANALYZER_HEARTBEAT_METRICS, type MemberLoad } from './observe.js';
export { Alerter, alertOptions, SCHEDULER_ALERT_KINDS, type SchedulerAlertKind } from './alerting.js';
export { DriverError, type Driver, type DriverMember, type DriverStatus, type MemberSpec } from './drivers/types.js';
export { LocalDriver, ProcessLauncher, type Launcher, type LaunchedAnalyzer } from './drivers/local.js';
export { InProcessLauncher, type InProcessLauncherDeps } from './drivers/in-process.js';
export { NovaDriver, novaOptions, MAX_MICROVERSION, type NovaDriverDeps } from './drivers/nova.js';
export { renderUserData, analyzerConfigYaml, type UserDataInput, type AnalyzerServerConfig } from './drivers/user-data.js';
export { PgAdvisoryLock, SCHEDULER_LOCK_NAME, type LeaderLock } from './lock.js';
export { runRound, seriesSpanMs, type RoundDeps, type RoundSettings, type RoundResult } from './round.js';
export { reconcile, sendDrain } from './reconcile.js';
export { listMembers, appendAction, logDecision, lastScalingAction, type MemberRecord, type ActionStep } from './records.js';
export { startScheduler, schedulerOptions, type Scheduler, type SchedulerDeps, type SchedulerSettings } from './service.js';
export { listClusters, listDecisions, listActions, type ClusterView, type ClusterMemberView, type DecisionView, type ActionView } from './views.js';

import { alertOptions } from './alerting.js';
import { novaOptions } from './drivers/nova.js';
import { schedulerOptions } from './service.js';

/** Every option group the scheduler declares, for the CLI's loader and `config sample`. */
export const schedulerOptionGroups = [schedulerOptions, alertOptions, novaOptions] as const;
