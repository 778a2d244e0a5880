/**
 * `tally analyzer`: the long-running analyzer, restarted on a new bus connection
 * whenever the broker connection is lost (backoff 0.5 s doubling to 30 s), until
 * SIGINT/SIGTERM or a drain command from the scheduler. The database and DFS stay open
 * across reconnections. It registers with the scheduler's registry (heartbeats into
 * PostgreSQL) and deregisters when it stops.
 */
import { busOptions, openBus, TallyError, type Bus, type LoadedConfig, type Logger } from '@tally/common';
import { defaultAnalyzerId, dfsOptions, ingestOptions, listenForDrain, metricsOptions, novaOptions, openDfs, startAnalyzer, windowOptions, type Analyzer, type DrainListener } from '@tally/analyzer';
import { analyzerHeartbeatMetrics } from '@tally/scheduler';
import { Lifecycle } from './shutdown.js';
import { dataDir, openDb } from './parts.js';
import { startPresence } from './presence.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run until a signal; returns the exit code. */
export async function runAnalyzerService(config: LoadedConfig, log: Logger): Promise<number> {
  const life = new Lifecycle(log);
  let stopRequested = false;
  const signalled = life.untilSignal().then(() => {
    stopRequested = true;
  });
  const b = config.get(busOptions);
  let current: { analyzer: Analyzer; bus: Bus; drain: DrainListener } | undefined;
  const stopCurrent = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (!c) return;
    // A drained analyzer leaves its remaining windows to the others: stopping would wait for them.
    await (drained ? c.analyzer.drain() : c.analyzer.stop());
    await c.drain.close().catch(() => undefined);
    await c.bus.close().catch(() => undefined);
  };
  const analyzerId = config.get(ingestOptions).analyzerId || defaultAnalyzerId();
  let drained = false;
  try {
    if (b.amqpUrl === '') throw new TallyError('config_required', 'amqp-url is required for this command: the in-process bus only connects parts inside one `tally start` process');
    const db = await openDb(config, log, life, false);
    const dfs = openDfs(config.get(dfsOptions).dfsUrl, dataDir(config));
    life.add('DFS', () => dfs.close());
    // Counters restart with each bus connection's analyzer; the heartbeat reports the current one's.
    const presence = startPresence(config, log, life, { db }, {
      id: analyzerId, role: 'analyzer',
      metrics: analyzerHeartbeatMetrics(() => current?.analyzer.stats().ingest ?? { messages: 0, samples: 0, deadLetters: 0, newestSampleUs: 0 }),
    });
    life.add('analyzer', stopCurrent);
    let backoff = 500;
    while (!stopRequested) {
      let bus: Bus;
      try {
        bus = await openBus(b.amqpUrl, log.child('bus'));
      } catch (e) {
        log.warn('bus unavailable; retrying', { error: e, inMs: backoff });
        await Promise.race([sleep(backoff), signalled]);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      backoff = 500;
      if (stopRequested) {
        await bus.close();
        break;
      }
      const analyzer = await startAnalyzer(
        { bus, dfs, db, log },
        { ...config.get(ingestOptions), ...config.get(windowOptions), ...config.get(metricsOptions), ...config.get(novaOptions), analyzerId, controlExchange: b.controlExchange, exchangeDurable: b.exchangeDurable },
      );
      // The scheduler's drain command: stop intake, write and acknowledge the batch in hand, deregister, exit 0.
      const drain = await listenForDrain({ bus, log, analyzerId }, async () => {
        drained = true;
        await presence.beat('draining');
        await analyzer.drain();
        await presence.stop();
        const st = analyzer.stats().ingest;
        return { messages: st.messages, samples: st.samples };
      });
      current = { analyzer, bus, drain };
      const lost = await Promise.race([analyzer.lost, signalled.then(() => undefined), drain.done.then(() => 'drained' as const)]);
      if (lost === 'drained') {
        log.info('drained on the scheduler\'s request; exiting', { analyzerId });
        await life.stopAll();
        return 0;
      }
      if (lost && !stopRequested && !drained) {
        log.warn('bus connection lost; restarting the analyzer on a new connection', { error: lost });
        await stopCurrent();
      }
    }
    await signalled;
    return 0;
  } catch (e) {
    await life.stopAll();
    throw e;
  }
}
