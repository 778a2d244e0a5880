/**
 * The scheduler process: records heartbeats that arrive over the bus, and every
 * `scheduler-interval` — if it holds the advisory lock — marks silent parts lost (alerted),
 * runs a round per scaled cluster and trims the series. A replica without the lock only
 * records heartbeats and waits.
 */
import { defineOptions, HEARTBEAT_QUEUE, opt, parseHeartbeat, REGISTRY_EXCHANGE, ValidationError, type Bus, type Consumer, type Knex, type Logger, type QueueSpec } from '@tally/common';
import { Alerter, alertOptions } from './alerting.js';
import type { Driver } from './drivers/types.js';
import type { LeaderLock } from './lock.js';
import { clustersWithPolicies } from './policy/store.js';
import { listComponents, pruneLoad, recordHeartbeat, sweepLost } from './registry.js';
import { runRound, type RoundResult } from './round.js';
import { OBSERVATIONS_TABLE } from './schema.js';
import type { OptionValues } from '@tally/common';

export const schedulerOptions = defineOptions('scheduler', 'the resource scheduler: registry, load, scaling policies, drivers', {
  schedulerDriver: opt.enum({ name: 'scheduler-driver', default: 'local', choices: ['local', 'nova'] as const, help: 'How analyzers are added and removed: local (tally analyzer processes on this machine; in tally start, analyzers inside the process) or nova (servers through the Nova API).' }),
  schedulerClusters: opt.string({ name: 'scheduler-clusters', default: 'analyzer', pattern: /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/, help: 'Comma-separated analyzer clusters to scale (each with its stored policy, or the built-in default). Clusters with a stored policy are scaled too.' }),
  schedulerInterval: opt.duration({ name: 'scheduler-interval', default: '10s', minMs: 100, help: 'How often the scheduler observes, decides and acts.' }),
  lostAfter: opt.duration({ name: 'lost-after', default: '1m', minMs: 100, help: 'A part with no heartbeat for this long is marked lost and alerted.' }),
  seriesRetention: opt.duration({ name: 'series-retention', default: '2h', minMs: 60_000, help: 'How long load samples and cluster observations are kept (at least the longest policy window).' }),
  drainTimeout: opt.duration({ name: 'drain-timeout', default: '2m', minMs: 100, help: 'A member still draining this long after the drain command is deleted anyway (and alerted).' }),
  registerTimeout: opt.duration({ name: 'register-timeout', default: '5m', minMs: 100, help: 'A running member whose analyzer has not registered within this time is alerted.' }),
  createTimeout: opt.duration({ name: 'create-timeout', default: '10m', minMs: 100, help: 'A member not running this long after its create is marked failed, deleted and alerted.' }),
  heartbeatQueue: opt.string({ name: 'heartbeat-queue', default: HEARTBEAT_QUEUE.name, pattern: /^[A-Za-z0-9._:-]{1,200}$/, help: 'The durable queue the scheduler records bus heartbeats from (bound to exchange tally.registry, heartbeat.#); malformed ones go to <queue>.dead.' }),
});

export interface SchedulerDeps {
  db: Knex;
  bus: Bus;
  driver: Driver;
  lock: LeaderLock;
  log: Logger;
  /** This scheduler's id (the actor in the audit trail). */
  actor: string;
  clock?: () => number;
}

export interface SchedulerSettings extends OptionValues<typeof schedulerOptions>, OptionValues<typeof alertOptions> {
  /** The analyzer queue (analyzer-queue) of clusters whose policy names none. */
  analyzerQueue: string;
}

export interface Scheduler {
  /** One round now (waits for a round in progress first). Resolves with what each cluster did; empty while standby. */
  tick(): Promise<RoundResult[]>;
  readonly stats: { rounds: number; heartbeats: number; badHeartbeats: number; standby: boolean };
  stop(): Promise<void>;
}


/** Start recording heartbeats and the rounds. */
export async function startScheduler(d: SchedulerDeps, s: SchedulerSettings): Promise<Scheduler> {
  const clock = d.clock ?? Date.now;
  const log = d.log.child('scheduler');
  const alerter = new Alerter({ db: d.db, log, clock }, s);
  const stats = { rounds: 0, heartbeats: 0, badHeartbeats: 0, standby: false };
  const heartbeats: QueueSpec = { ...HEARTBEAT_QUEUE, name: s.heartbeatQueue };
  const dead: QueueSpec = { name: `${s.heartbeatQueue}.dead`, durable: true, bindings: [{ exchange: REGISTRY_EXCHANGE, routingKey: `dead.${s.heartbeatQueue}` }] };
  await d.bus.declareQueue(dead);
  const consumer: Consumer = await d.bus.consume(heartbeats, { prefetch: 50 }, async (m) => {
    try {
      await recordHeartbeat(d.db, parseHeartbeat(m.body));
      stats.heartbeats++;
      return 'ack';
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err; // the database: requeued
      stats.badHeartbeats++;
      log.warn('malformed heartbeat dead-lettered', { err, queue: dead.name, count: stats.badHeartbeats });
      await d.bus.publish({ exchange: REGISTRY_EXCHANGE, routingKey: `dead.${s.heartbeatQueue}`, body: m.body, properties: { headers: { 'x-tally-reason': err.message }, deliveryMode: 2 } });
      return 'ack';
    }
  });
  const configured = s.schedulerClusters.split(',').filter((c) => c !== '');

  const round = async (): Promise<RoundResult[]> => {
    if (!(await d.lock.tryAcquire())) {
      if (!stats.standby) log.info('another scheduler holds the lock; standing by');
      stats.standby = true;
      return [];
    }
    if (stats.standby) log.info('took over the scheduler lock');
    stats.standby = false;
    const now = new Date(clock());
    for (const c of await sweepLost(d.db, now, s.lostAfter)) {
      await alerter.raise({ key: `component-lost:${c.id}`, kind: 'component_lost', severity: c.role === 'scheduler' ? 'warning' : 'critical',
        message: `${c.role} ${c.id} on ${c.node} (cluster ${c.cluster}) sent no heartbeat since ${c.last_heartbeat_at}`, details: { id: c.id, role: c.role, cluster: c.cluster, node: c.node } });
    }
    const all = await listComponents(d.db);
    await alerter.resolveOthers('component_lost', 'component-lost:', new Set(all.filter((c) => c.state === 'lost').map((c) => `component-lost:${c.id}`)));
    const clusters = [...new Set([...configured, ...(await clustersWithPolicies(d.db))])];
    const results: RoundResult[] = [];
    for (const cluster of clusters) {
      try {
        const r = await runRound({ db: d.db, bus: d.bus, driver: d.driver, alerter, log, actor: d.actor }, {
          defaultQueue: s.analyzerQueue, createTimeoutMs: s.createTimeout, drainTimeoutMs: s.drainTimeout, registerTimeoutMs: s.registerTimeout,
        }, cluster, all.filter((c) => c.cluster === cluster && c.role === 'analyzer'), now);
        results.push(r);
        if (r.decision.action !== 'hold') log.info(`decision for ${cluster}: ${r.decision.action} ${r.decision.count}: ${r.decision.reason}`, { from: r.decision.fromSize, to: r.decision.toSize, policy: r.policy });
      } catch (err) {
        log.error('scheduler round failed; retried next round', { cluster, err });
      }
    }
    const before = new Date(now.getTime() - s.seriesRetention);
    await d.db(OBSERVATIONS_TABLE).where('at', '<', before).delete();
    await pruneLoad(d.db, before);
    stats.rounds++;
    return results;
  };

  let current: Promise<RoundResult[]> = Promise.resolve([]);
  const tick = (): Promise<RoundResult[]> => {
    current = current.catch(() => []).then(round);
    return current;
  };
  const timer = setInterval(() => {
    tick().catch((err: unknown) => log.error('scheduler round failed', { err }));
  }, s.schedulerInterval);
  log.info('scheduler started', { driver: d.driver.name, clusters: configured, intervalMs: s.schedulerInterval, actor: d.actor });
  return {
    tick,
    stats,
    async stop() {
      clearInterval(timer);
      await current.catch(() => undefined);
      await consumer.cancel();
      await d.lock.release();
    },
  };
}
