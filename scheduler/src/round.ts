/**
 * One scheduling round for one cluster: reconcile the members with the driver, observe
 * the cluster (registry loads + broker queue depths), read the series, decide (pure), log
 * the decision, raise or resolve the cluster's alerts, and start the action. Run only by
 * the scheduler that holds the advisory lock.
 */
import type { Bus, Knex, Logger } from '@tally/common';
import type { Alerter } from './alerting.js';
import { decide, type Decision, type MemberView, type Observation } from './decide.js';
import type { Driver } from './drivers/types.js';
import { observe } from './observe.js';
import { livePolicy } from './policy/store.js';
import type { ScalingPolicy } from './policy/format.js';
import { reconcile, sendDrain, type ReconcileTimeouts } from './reconcile.js';
import { appendAction, highestMemberNumber, insertMember, lastScalingAction, logDecision, updateMember } from './records.js';
import type { ComponentView } from './registry.js';
import { OBSERVATIONS_TABLE } from './schema.js';
import { DriverError } from './drivers/types.js';
import { chooseVictims } from './victim.js';

export interface RoundDeps {
  db: Knex;
  bus: Bus;
  driver: Driver;
  alerter: Alerter;
  log: Logger;
  actor: string;
}

export interface RoundSettings extends ReconcileTimeouts {
  /** The analyzer queue of a cluster whose policy names none. */
  defaultQueue: string;
}

/** What a round did, for logs and tests. */
export interface RoundResult {
  cluster: string;
  policy: string;
  observation: Observation;
  decision: Decision;
  members: string[];
}

/** How far back the decision needs observations. */
export function seriesSpanMs(p: ScalingPolicy): number {
  const windows = [...p.scaleOut.rules, ...p.scaleIn.rules].map((r) => r.windowMs);
  return Math.max(0, ...windows) + Math.max(p.scaleOut.stabilizationMs, p.scaleIn.stabilizationMs) + 60_000;
}

async function readSeries(db: Knex, cluster: string, since: Date): Promise<Observation[]> {
  const rows = (await db(OBSERVATIONS_TABLE).where({ cluster }).where('at', '>=', since).orderBy('at')) as { at: Date; metrics: Observation['values'] }[];
  return rows.map((r) => ({ at: r.at.getTime(), values: r.metrics }));
}

const depth = (bus: Bus, q: string) => bus.queueDepth(q).catch(() => null);

/** Run one round for `cluster`; `components` are its registered analyzers by id. */
export async function runRound(d: RoundDeps, s: RoundSettings, cluster: string, components: readonly ComponentView[], now: Date): Promise<RoundResult> {
  const live = await livePolicy(d.db, cluster);
  const p = live.policy;
  const queue = p.queue || s.defaultQueue;
  const byId = new Map(components.map((c) => [c.id, c]));
  const members = await reconcile(d, cluster, byId, s, now);

  const runningComps = components.filter((c) => c.state === 'running');
  const prevRow = (await d.db(OBSERVATIONS_TABLE).where({ cluster }).orderBy('at', 'desc').first()) as { at: Date; metrics: Observation['values'] } | undefined;
  const prev = prevRow ? { at: prevRow.at.getTime(), values: prevRow.metrics } : undefined;
  const obs = observe(now.getTime(), runningComps, { depth: await depth(d.bus, queue), deadLetters: await depth(d.bus, `${queue}.dead`) }, prev);
  await d.db(OBSERVATIONS_TABLE).insert({ cluster, at: now, metrics: JSON.stringify(obs.values) }).onConflict(['cluster', 'at']).ignore();
  const series = await readSeries(d.db, cluster, new Date(now.getTime() - seriesSpanMs(p)));

  const managed = new Set(members.map((m) => m.name));
  const views: MemberView[] = [
    ...members.map((m): MemberView => ({
      name: m.name, state: m.state as MemberView['state'], startedAt: m.created_at.getTime(), managed: true,
      ...(byId.get(m.name)?.load ? { cpuPercent: byId.get(m.name)!.load!.cpuPercent, processCpuPercent: byId.get(m.name)!.load!.processCpuPercent } : {}),
    })),
    ...runningComps.filter((c) => !managed.has(c.id)).map((c): MemberView => ({
      name: c.id, state: 'running', startedAt: Date.parse(c.started_at), managed: false, ...(c.load ? { cpuPercent: c.load.cpuPercent, processCpuPercent: c.load.processCpuPercent } : {}),
    })),
  ];
  const decision = decide({ series, policy: p, members: views, lastAction: await lastScalingAction(d.db, cluster), now: now.getTime() });

  await clusterAlerts(d, cluster, queue, decision, obs, series, runningComps.length);
  let actionId: string | undefined;
  if (decision.action !== 'hold') actionId = `${cluster}:${decision.action}:${now.getTime()}`;
  await logDecision(d.db, cluster, decision, live.label, now, actionId);
  if (decision.action === 'out') await scaleOut(d, cluster, queue, decision, actionId!, now);
  if (decision.action === 'in') await scaleIn(d, cluster, decision, views, p, actionId!, byId, now);
  return { cluster, policy: live.label, observation: obs, decision, members: views.map((v) => v.name) };
}

async function clusterAlerts(d: RoundDeps, cluster: string, queue: string, decision: Decision, obs: Observation, series: readonly Observation[], consumers: number): Promise<void> {
  const atMax = `cluster-at-max:${cluster}`;
  if (decision.overThresholdAtMax) {
    await d.alerter.raise({ key: atMax, kind: 'cluster_at_max', severity: 'warning', message: `cluster ${cluster} is at its max size and still over threshold: ${decision.reason}`, details: { cluster, size: decision.fromSize } });
  } else if (decision.outRules.every((r) => !r.holds)) {
    await d.alerter.resolve(atMax);
  }
  const depthNow = obs.values.queue_depth;
  const before = series.length >= 2 ? series[series.length - 2]!.values.queue_depth : undefined;
  const noConsumer = `queue-no-consumer:${queue}`;
  if (depthNow !== undefined && before !== undefined && depthNow > 0 && depthNow > before && consumers === 0) {
    await d.alerter.raise({ key: noConsumer, kind: 'queue_no_consumer', severity: 'critical', message: `queue ${queue} grows (${before} → ${depthNow} messages) and no analyzer of cluster ${cluster} is running`, details: { queue, depth: depthNow } });
  } else if (consumers > 0 || depthNow === 0) {
    await d.alerter.resolve(noConsumer);
  }
  const deadNow = obs.values.dead_letters;
  const deadFirst = series.find((o) => o.values.dead_letters !== undefined)?.values.dead_letters;
  const dead = `dead-letters:${queue}`;
  if (deadNow !== undefined && deadFirst !== undefined && deadNow > deadFirst) {
    await d.alerter.raise({ key: dead, kind: 'dead_letters_rising', severity: 'warning', message: `dead letters of ${queue} rose from ${deadFirst} to ${deadNow} within the series window; see ${queue}.dead`, details: { queue: `${queue}.dead`, from: deadFirst, to: deadNow } });
  } else if (deadNow !== undefined) {
    await d.alerter.resolve(dead);
  }
}

async function scaleOut(d: RoundDeps, cluster: string, queue: string, decision: Decision, actionId: string, now: Date): Promise<void> {
  await appendAction(d.db, { actionId, cluster, kind: 'scale_out', step: 'started', actor: d.actor, reason: decision.reason, details: { from: decision.fromSize, to: decision.toSize } }, now);
  let n = await highestMemberNumber(d.db, cluster, cluster);
  let failures = 0;
  for (let i = 0; i < decision.count; i++) {
    const name = `${cluster}-${++n}`;
    await insertMember(d.db, { cluster, name, driver: d.driver.name, ref: null, state: 'creating', action_id: actionId, created_at: now });
    await appendAction(d.db, { actionId, cluster, kind: 'create', member: name, step: 'started', actor: d.actor, reason: decision.reason }, now);
    try {
      const { ref } = await d.driver.create({ cluster, name, actionId, queue });
      await updateMember(d.db, cluster, name, { ref }, now);
      d.log.info(`adding ${name}: ${decision.reason}`, { cluster, ref });
      await d.alerter.resolve(`driver-error:${cluster}:create`);
      await d.alerter.resolve(`driver-quota:${cluster}`);
    } catch (err) {
      failures++;
      await updateMember(d.db, cluster, name, { state: 'failed', details: { failure: (err as Error).message } }, now);
      await appendAction(d.db, { actionId, cluster, kind: 'create', member: name, step: 'failed', actor: d.actor, reason: (err as Error).message }, now);
      const quota = err instanceof DriverError && err.reason === 'quota';
      await d.alerter.raise({
        key: quota ? `driver-quota:${cluster}` : `driver-error:${cluster}:create`, kind: quota ? 'driver_quota' : 'driver_error', severity: quota ? 'critical' : 'warning',
        message: `${d.driver.name} refused to add ${name} to cluster ${cluster}: ${(err as Error).message}`, details: { cluster, member: name, status: (err as DriverError).status ?? null },
      });
      d.log.error('scale out failed', { cluster, member: name, err });
    }
  }
  if (failures === decision.count) await appendAction(d.db, { actionId, cluster, kind: 'scale_out', step: 'failed', actor: d.actor, reason: 'no member could be created' }, now);
}

async function scaleIn(d: RoundDeps, cluster: string, decision: Decision, views: readonly MemberView[], p: ScalingPolicy, actionId: string, comps: ReadonlyMap<string, ComponentView>, now: Date): Promise<void> {
  const victims = chooseVictims(views, decision.count, p.victim);
  await appendAction(d.db, { actionId, cluster, kind: 'scale_in', step: 'started', actor: d.actor, reason: decision.reason, details: { from: decision.fromSize, to: decision.fromSize - victims.length, victims: victims.map((v) => v.name), rule: p.victim } }, now);
  for (const v of victims) {
    await updateMember(d.db, cluster, v.name, { state: 'draining', drain_requested_at: now }, now);
    await appendAction(d.db, { actionId, cluster, kind: 'drain', member: v.name, step: 'started', actor: d.actor, reason: decision.reason }, now);
    d.log.info(`removing ${v.name} (${p.victim} first): ${decision.reason}`, { cluster });
    if (comps.get(v.name)?.state === 'running') await sendDrain(d.bus, v.name, actionId, decision.reason).catch((err: unknown) => d.log.warn('drain command not sent; retried next round', { member: v.name, err }));
  }
}
