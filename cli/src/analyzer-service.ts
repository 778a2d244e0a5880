/**
 * `tally analyzer`: the long-running analyzer, restarted on a new bus connection
 * whenever the broker connection is lost (backoff 0.5 s doubling to 30 s), until
 * SIGINT/SIGTERM. The database and DFS stay open across reconnections.
 */
import { busOptions, openBus, TallyError, type Bus, type LoadedConfig, type Logger } from '@tally/common';
import { dfsOptions, ingestOptions, metricsOptions, novaOptions, openDfs, startAnalyzer, windowOptions, type Analyzer } from '@tally/analyzer';
import { Lifecycle } from './shutdown.js';
import { dataDir, openDb } from './parts.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Run until a signal; returns the exit code. */
export async function runAnalyzerService(config: LoadedConfig, log: Logger): Promise<number> {
  const life = new Lifecycle(log);
  let stopRequested = false;
  const signalled = life.untilSignal().then(() => {
    stopRequested = true;
  });
  const b = config.get(busOptions);
  let current: { analyzer: Analyzer; bus: Bus } | undefined;
  const stopCurrent = async (): Promise<void> => {
    const c = current;
    current = undefined;
    if (!c) return;
    await c.analyzer.stop();
    await c.bus.close().catch(() => undefined);
  };
  try {
    if (b.amqpUrl === '') throw new TallyError('config_required', 'amqp-url is required for this command: the in-process bus only connects parts inside one `tally start` process');
    const db = await openDb(config, log, life, false);
    const dfs = openDfs(config.get(dfsOptions).dfsUrl, dataDir(config));
    life.add('DFS', () => dfs.close());
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
        { ...config.get(ingestOptions), ...config.get(windowOptions), ...config.get(metricsOptions), ...config.get(novaOptions), controlExchange: b.controlExchange, exchangeDurable: b.exchangeDurable },
      );
      current = { analyzer, bus };
      const lost = await Promise.race([analyzer.lost, signalled.then(() => undefined)]);
      if (lost && !stopRequested) {
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
