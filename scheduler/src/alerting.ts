/**
 * The scheduler's alerts: kept in PostgreSQL through @tally/common (one open alert per
 * key, so a condition seen every round is one alert with a count), logged, and — when an
 * alert opens — optionally POSTed as JSON to a webhook. The webhook is deliberately small
 * (one attempt, a timeout, failures logged): signed, retried delivery for every alert is
 * the operator work's, and replaces this.
 */
import { defineOptions, listAlerts, opt, raiseAlert, resolveAlert, type AlertInput, type Knex, type Logger } from '@tally/common';

export const alertOptions = defineOptions('scheduler-alerts', "where the scheduler's alerts go besides PostgreSQL and the log", {
  alertWebhookUrl: opt.url({ name: 'alert-webhook-url', default: '', schemes: ['http', 'https'], secret: true, help: 'POST each newly opened scheduler alert as JSON to this URL (one attempt). Empty: none.' }),
  alertWebhookTimeout: opt.duration({ name: 'alert-webhook-timeout', default: '5s', minMs: 100, help: 'Time limit of one webhook POST.' }),
});

/** Alert kinds the scheduler raises (stable; documented in the README). */
export const SCHEDULER_ALERT_KINDS = [
  'component_lost', 'cluster_at_max', 'driver_error', 'driver_quota', 'queue_no_consumer', 'dead_letters_rising', 'member_not_registered', 'drain_timeout',
] as const;
export type SchedulerAlertKind = (typeof SCHEDULER_ALERT_KINDS)[number];

type Fetch = typeof fetch;

/** Raises and resolves the scheduler's alerts. */
export class Alerter {

  constructor(private readonly deps: { db: Knex; log: Logger; clock?: () => number; fetchFn?: Fetch }, private readonly o: { alertWebhookUrl: string; alertWebhookTimeout: number }) {}

  async raise(input: Omit<AlertInput, 'source' | 'kind'> & { kind: SchedulerAlertKind }): Promise<void> {
    const now = new Date((this.deps.clock ?? Date.now)());
    const r = await raiseAlert(this.deps.db, { ...input, source: 'scheduler' }, now);
    if (!r.created) return;
    const log = input.severity === 'critical' ? this.deps.log.error : this.deps.log.warn;
    log('ALERT ' + input.message, { key: input.key, kind: input.kind, severity: input.severity, alertId: r.id });
    if (this.o.alertWebhookUrl !== '') await this.post({ id: r.id, ...input, source: 'scheduler', at: now.toISOString() });
  }

  /** Resolve `key` if open (the condition cleared). */
  async resolve(key: string): Promise<void> {
    if (await resolveAlert(this.deps.db, key, new Date((this.deps.clock ?? Date.now)()))) this.deps.log.info('alert resolved', { key });
  }

  /** Resolve every open scheduler alert of `kind` whose key starts with `prefix` and is not in `keep` (its condition is gone). */
  async resolveOthers(kind: SchedulerAlertKind, prefix: string, keep: ReadonlySet<string>): Promise<void> {
    for (const a of await listAlerts(this.deps.db, { state: 'open', source: 'scheduler', kind, limit: 1000 })) {
      if (a.key.startsWith(prefix) && !keep.has(a.key)) await this.resolve(a.key);
    }
  }

  private async post(body: Record<string, unknown>): Promise<void> {
    try {
      const res = await (this.deps.fetchFn ?? fetch)(this.o.alertWebhookUrl, {
        method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'tally-scheduler' }, body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.alertWebhookTimeout),
      });
      await res.body?.cancel();
      if (!res.ok) this.deps.log.warn('alert webhook refused the alert', { status: res.status, key: body['key'] });
    } catch (err) {
      this.deps.log.warn('alert webhook unreachable; the alert is kept in PostgreSQL', { err, key: body['key'] });
    }
  }
}
