/**
 * Bring the members table in line with what the driver reports, and move members along
 * their life: creating → running (the driver says active), running → gone (deleted behind
 * our back: forgotten, with a record), draining → deleting (once the analyzer deregistered,
 * or never registered, or the drain timed out), deleting → deleted. A server or process the
 * driver knows but the table does not (the scheduler stopped between create and record) is
 * adopted. Each step is recorded in the audit trail; each can run again safely.
 */
import type { Bus, Knex, Logger } from '@tally/common';
import { ANALYZER_CONTROL_EXCHANGE, drainKey, encodeDrainCommand } from '@tally/analyzer';
import type { Alerter } from './alerting.js';
import { DriverError, type Driver, type DriverMember } from './drivers/types.js';
import { appendAction, insertMember, listMembers, updateMember, type MemberRecord } from './records.js';
import type { ComponentView } from './registry.js';

export interface ReconcileDeps {
  db: Knex;
  bus: Bus;
  driver: Driver;
  alerter: Alerter;
  log: Logger;
  /** Who acts, in the audit trail (this scheduler's id). */
  actor: string;
}

export interface ReconcileTimeouts {
  createTimeoutMs: number;
  drainTimeoutMs: number;
  registerTimeoutMs: number;
}

/** Ask `name` to drain (repeated every round until it has; the analyzer runs one drain). */
export async function sendDrain(bus: Bus, name: string, actionId: string, reason: string): Promise<void> {
  await bus.publish({ exchange: ANALYZER_CONTROL_EXCHANGE, routingKey: drainKey(name), body: encodeDrainCommand({ requestId: actionId, reason: reason.slice(0, 500) }), properties: { contentType: 'application/json' } });
}

async function driverAlert(d: ReconcileDeps, cluster: string, op: string, err: unknown): Promise<void> {
  const quota = err instanceof DriverError && err.reason === 'quota';
  await d.alerter.raise({
    key: quota ? `driver-quota:${cluster}` : `driver-error:${cluster}:${op}`, kind: quota ? 'driver_quota' : 'driver_error', severity: quota ? 'critical' : 'warning',
    message: `${d.driver.name} could not ${op} a member of cluster ${cluster}: ${(err as Error).message}`, details: { cluster, op, driver: d.driver.name, status: (err as DriverError).status ?? null },
  });
}

/** Reconcile one cluster's members; returns the members still alive afterwards. */
export async function reconcile(d: ReconcileDeps, cluster: string, components: ReadonlyMap<string, ComponentView>, t: ReconcileTimeouts, now: Date): Promise<MemberRecord[]> {
  let known: Map<string, DriverMember>;
  try {
    known = new Map((await d.driver.list(cluster)).map((m) => [m.name, m]));
    await d.alerter.resolve(`driver-error:${cluster}:list`);
  } catch (err) {
    await driverAlert(d, cluster, 'list', err);
    return listMembers(d.db, cluster);
  }
  const members = await listMembers(d.db, cluster, true);
  const byName = new Map(members.map((m) => [m.name, m]));
  for (const k of known.values()) {
    if (byName.has(k.name) || k.status === 'gone') continue;
    await insertMember(d.db, { cluster, name: k.name, driver: d.driver.name, ref: k.ref, state: k.status === 'active' ? 'running' : 'creating', action_id: `adopt:${k.name}`, created_at: now });
    await appendAction(d.db, { actionId: `adopt:${k.name}`, cluster, kind: 'adopt', member: k.name, step: 'succeeded', actor: d.actor, reason: `${d.driver.name} reports ${k.name} (${k.status}) that no record had` }, now);
  }
  const step = (m: MemberRecord, kind: 'create' | 'drain' | 'delete' | 'forget', s: 'started' | 'succeeded' | 'failed', reason: string, details?: Record<string, unknown>) =>
    appendAction(d.db, { actionId: m.action_id, cluster, kind, member: m.name, step: s, actor: d.actor, reason, ...(details ? { details } : {}) }, now);
  const age = (since: Date) => now.getTime() - since.getTime();

  for (const m of await listMembers(d.db, cluster)) {
    const k = known.get(m.name) ?? { name: m.name, ref: m.ref ?? '', status: 'gone' as const };
    const comp = components.get(m.name);
    if (m.state === 'creating') {
      if (k.status === 'active') {
        await updateMember(d.db, cluster, m.name, { state: 'running', ref: k.ref }, now);
        await step(m, 'create', 'succeeded', `${m.name} is running`, { ref: k.ref });
      } else if (k.status === 'error' || (k.status === 'gone' && m.ref !== null) || age(m.created_at) > t.createTimeoutMs) {
        const why = k.status === 'building' || k.status === 'gone' ? `not running after ${Math.round(age(m.created_at) / 1000)} s` : `${k.status}${k.detail ? `: ${k.detail}` : ''}`;
        await updateMember(d.db, cluster, m.name, { state: 'failed', details: { failure: why } }, now);
        await step(m, 'create', 'failed', `${m.name} ${why}`);
        await driverAlert(d, cluster, 'create', new Error(`${m.name} ${why}`));
        if (k.status !== 'gone') await d.driver.delete(cluster, m.name, k.ref).catch((err: unknown) => driverAlert(d, cluster, 'delete', err));
      }
    } else if (m.state === 'running') {
      if (k.status === 'gone' || k.status === 'error') {
        await updateMember(d.db, cluster, m.name, { state: k.status === 'gone' ? 'deleted' : 'failed' }, now);
        await step(m, 'forget', 'succeeded', `${d.driver.name} reports ${m.name} ${k.status}${k.detail ? `: ${k.detail}` : ''}`);
      } else if (!comp && age(m.changed_at) > t.registerTimeoutMs) {
        await d.alerter.raise({ key: `member-unregistered:${cluster}:${m.name}`, kind: 'member_not_registered', severity: 'warning',
          message: `${m.name} of cluster ${cluster} has run for ${Math.round(age(m.changed_at) / 1000)} s without its analyzer registering (check its user-data / cloud-init log)`, details: { cluster, member: m.name, ref: m.ref } });
      } else if (comp) {
        await d.alerter.resolve(`member-unregistered:${cluster}:${m.name}`);
      }
    } else if (m.state === 'draining') {
      const drained = !comp || comp.state === 'stopped' || comp.state === 'lost';
      const timedOut = m.drain_requested_at !== null && age(m.drain_requested_at) > t.drainTimeoutMs;
      if (drained || timedOut) {
        if (timedOut && !drained) {
          await d.alerter.raise({ key: `drain-timeout:${cluster}:${m.name}`, kind: 'drain_timeout', severity: 'warning',
            message: `${m.name} did not finish draining within ${Math.round(t.drainTimeoutMs / 1000)} s; deleting it anyway (unacknowledged deliveries go back to the queue)`, details: { cluster, member: m.name } });
        }
        await step(m, 'drain', drained ? 'succeeded' : 'failed', drained ? `${m.name} ${comp ? comp.state : 'never registered'}` : 'drain timed out');
        await updateMember(d.db, cluster, m.name, { state: 'deleting' }, now);
        await step(m, 'delete', 'started', `delete ${m.name}`);
        await deleteMember(d, cluster, m, k);
      } else {
        await sendDrain(d.bus, m.name, m.action_id, 'scale in').catch((err: unknown) => d.log.warn('drain command not sent; retried next round', { member: m.name, err }));
      }
    } else if (m.state === 'deleting') {
      if (k.status === 'gone') {
        await updateMember(d.db, cluster, m.name, { state: 'deleted' }, now);
        await step(m, 'delete', 'succeeded', `${m.name} deleted`);
        await d.alerter.resolve(`drain-timeout:${cluster}:${m.name}`);
      } else {
        await deleteMember(d, cluster, m, k);
      }
    }
  }
  return listMembers(d.db, cluster);
}

async function deleteMember(d: ReconcileDeps, cluster: string, m: MemberRecord, k: DriverMember): Promise<void> {
  try {
    await d.driver.delete(cluster, m.name, k.ref || m.ref);
    await d.alerter.resolve(`driver-error:${cluster}:delete`);
  } catch (err) {
    await driverAlert(d, cluster, 'delete', err);
  }
}
