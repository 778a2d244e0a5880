// One polling cycle of 1,000 domains from a generated libvirt test-driver node
// file, publish included (to the machine's RabbitMQ, each message confirmed,
// journaled on disk first): wall time, CPU time, RSS.
// Usage: node --import tsx bench/libvirt-cycle.bench.ts   (TEST_AMQP_URL overrides the broker)
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, benchHeader, createLogger, defaults } from '@tally/common';
import { Journal, SIM_FLAVORS, agentOptions, controlExchange, openLibvirt, pollOnce, writeTestNodeFile, type DomainSpec } from '@tally/ceilometer-publisher';

const N = Number(process.env['BENCH_DOMAINS'] ?? 1000);
const AMQP = process.env['TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672/';
benchHeader('@tally/ceilometer-publisher (libvirt)', 'npm run bench -w @tally/ceilometer-publisher');

/** N domains: 80 % running, 10 % paused, 8 % shut off, 2 % without Nova metadata; 2 disks and 1–2 NICs each. */
export function benchDomains(n: number): DomainSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const hex = i.toString(16).padStart(8, '0');
    const state = i % 10 === 8 ? 'paused' : i % 50 === 9 || i % 50 === 19 || i % 50 === 29 || i % 50 === 39 ? 'shutoff' : 'running';
    return {
      uuid: `${hex}-0000-4000-8000-${hex}0000`, name: `instance-${hex}`, displayName: `bench-${i}`, flavor: SIM_FLAVORS[i % SIM_FLAVORS.length]!,
      userId: 'u'.repeat(32), projectId: `${(i % 20).toString(16).padStart(32, '0')}`, state, nova: i % 50 !== 49,
      disks: [{ dev: 'vda' }, { dev: 'vdb' }],
      nics: i % 3 === 0 ? [{ tap: `tap${hex}-a`, mac: 'fa:16:3e:00:00:01' }, { tap: `tap${hex}-b`, mac: 'fa:16:3e:00:00:02' }] : [{ tap: `tap${hex}-a`, mac: 'fa:16:3e:00:00:01' }],
    } satisfies DomainSpec;
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tally-bench-libvirt-'));
const exchange = controlExchange(`tally-bench-${randomBytes(4).toString('hex')}`);
const log = createLogger('bench', { level: 'error' });
const bus = await AmqpBus.connect(AMQP, log);
try {
  const hv = await openLibvirt(writeTestNodeFile(join(dir, 'node.xml'), benchDomains(N)));
  const journal = Journal.open({ dir: join(dir, 'journal'), maxBytes: 1 << 30, retentionMs: 0 }, log);
  const { libvirtUri: _u, once: _o, pollingConfig: _p, ...settings } = defaults(agentOptions);
  const deps = { hypervisor: hv, bus, log, exchange, journal };
  const runs: { wallMs: number; cpuMs: number; samples: number; messages: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await pollOnce(deps, { ...settings, host: 'compute-bench' });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(cpu0);
    if (i > 0) runs.push({ wallMs, cpuMs: (c.user + c.system) / 1000, samples: r.samples, messages: r.messages }); // run 0 warms up
  }
  runs.sort((a, b) => a.wallMs - b.wallMs);
  const m = runs[Math.floor(runs.length / 2)]!;
  const rss = process.memoryUsage().rss / 2 ** 20;
  const maxRss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${`poll cycle, ${N} test-driver domains, journaled + published to RabbitMQ (confirmed)`.padEnd(66)} ${String(m.samples).padStart(7)} samples in ${m.messages} messages  median wall ${m.wallMs.toFixed(0)} ms, CPU ${m.cpuMs.toFixed(0)} ms (of ${runs.length}); RSS ${rss.toFixed(0)} MiB (max ${maxRss.toFixed(0)} MiB)\n`);
  journal.close();
  await hv.close();
  // The same cycle by Debian's real ceilometer-polling, on the same node file, to its own exchange.
  const script = fileURLToPath(new URL('./ceilometer_polling_cycle.py', import.meta.url));
  const ceilo = spawnSync('/usr/bin/python3', [script, join(dir, 'node.xml'), AMQP, `${exchange.name}-ceilometer`, '4'], { encoding: 'utf8' });
  const line = ceilo.stdout?.trim().split('\n').pop();
  process.stdout.write(ceilo.status === 0 && line ? `${line}\n` : `real ceilometer-polling: not run (${(ceilo.stderr || ceilo.error?.message || '').trim().split('\n').pop()}); needs python3-ceilometer and python3-libvirt\n`);
} finally {
  await bus.deleteExchange(`${exchange.name}-ceilometer`).catch(() => undefined);
  await bus.deleteExchange(exchange.name).catch(() => undefined);
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
}
