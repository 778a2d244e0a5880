import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { parsePollingConfig, pollingGroups, sourceMatches } from './polling.js';
import { runAgent, controlExchange, agentOptions } from './agent.js';
import { defaults } from '@tally/common';
import { RecordingBus } from './testing.js';
import { SimulatedFleet } from './simulated.js';
import { AcceleratedClock } from './clock.js';
import { METERS } from './meters.js';

// Debian's /etc/ceilometer/polling.yaml, plus a second source with exclusions.
const YAML = `---
sources:
    - name: some_pollsters
      interval: 300
      meters:
        - cpu
        - "memory.*"
    - name: fast_network
      interval: 60
      meters:
        - "network.incoming.*"
    - name: everything_else
      interval: 600
      meters:
        - "!cpu"
        - "!memory.*"
        - "!network.*"
`;

test('polling.yaml: wildcards, exclusions, and meters grouped by interval', () => {
  const sources = parsePollingConfig(YAML);
  assert.deepEqual(sources.map((s) => [s.name, s.intervalMs]), [['some_pollsters', 300_000], ['fast_network', 60_000], ['everything_else', 600_000]]);
  assert.ok(sourceMatches(sources[0]!, 'memory.swap.in'));
  assert.ok(!sourceMatches(sources[0]!, 'memory'));
  assert.ok(sourceMatches(sources[2]!, 'disk.device.read.bytes'));
  assert.ok(!sourceMatches(sources[2]!, 'network.outgoing.bytes'));
  const groups = pollingGroups(sources);
  assert.deepEqual(groups.map((g) => g.intervalMs), [60_000, 300_000, 600_000]);
  assert.ok(groups[0]!.meters.every((m) => m.name.startsWith('network.incoming.')));
  assert.equal(groups[0]!.meters.length, 5, 'bytes, packets, drop, error, bytes.delta');
  assert.ok(groups[1]!.meters.some((m) => m.name === 'cpu') && groups[1]!.meters.some((m) => m.name === 'memory.usage'));
  assert.ok(groups[2]!.meters.every((m) => !/^(cpu$|memory\.|network\.)/.test(m.name)));
  assert.ok(!groups.flat().some((g) => g.meters.some((m) => m.name === 'network.outgoing.bytes')), 'named by no source: not polled');
  assert.deepEqual(pollingGroups(parsePollingConfig('sources: [{name: all, interval: 5, meters: ["*"]}]'))[0]!.meters.length, METERS.length);
});

test('polling.yaml errors name the field', () => {
  assert.throws(() => parsePollingConfig('foo: 1'), /^ValidationError|sources: a non-empty list/);
  assert.throws(() => parsePollingConfig('sources: [{name: a, interval: 0, meters: [cpu]}]'), /sources\[0\]\.interval: must be a whole number/);
  assert.throws(() => parsePollingConfig('sources: [{name: a, interval: 10, meters: [cpu, "!disk.*"]}]'), /sources\[0\]\.meters: both included and excluded/);
  assert.throws(() => parsePollingConfig('sources: [{name: a, interval: 10, meters: ["*", cpu]}]'), /included meters specified with wildcard/);
  assert.throws(() => parsePollingConfig('sources: [{interval: 10, meters: [cpu]}]'), /sources\[0\]\.name: required/);
  assert.throws(() => parsePollingConfig('sources: [{name: a, interval: 10}]'), /sources\[0\]\.meters/);
});

test('runAgent polls each group at its own interval', async () => {
  const bus = new RecordingBus();
  const clock = new AcceleratedClock(600, 7 * 86_400_000); // a minute is 100 ms
  const fleet = new SimulatedFleet({ vms: 2, projects: 1, seed: 'polling', clock });
  const { libvirtUri: _u, once: _o, pollingConfig: _p, ...base } = defaults(agentOptions);
  const schedule = pollingGroups(parsePollingConfig('sources: [{name: fast, interval: 60, meters: [cpu]}, {name: slow, interval: 600, meters: [memory.usage]}]'));
  let cycles = 0;
  const h = runAgent({ hypervisor: fleet, bus, log: memoryLogger(), clock, exchange: controlExchange('ceilometer') }, { ...base, schedule }, () => { cycles++; });
  const stamps = (name: string) => new Set(bus.samples().filter((s) => s['counter_name'] === name).map((s) => s['timestamp'])).size;
  // Wait on the simulated clock's progress, not on wall time: under load a cycle
  // can run late, so wait until both groups have enough distinct cycles.
  const end = Date.now() + 60_000;
  while (Date.now() < end && (stamps('cpu') < 21 || stamps('memory.usage') < 4)) await new Promise((r) => setTimeout(r, 10));
  await h.stop();
  const names = new Set(bus.samples().map((s) => s['counter_name']));
  assert.deepEqual([...names].sort(), ['cpu', 'memory.usage']);
  assert.ok(stamps('cpu') >= 21, `cpu polled every minute (${stamps('cpu')})`);
  const gaps = (name: string) => {
    const t = [...new Set(bus.samples().filter((s) => s['counter_name'] === name).map((s) => Date.parse(`${String(s['timestamp'])}Z`)))].sort((a, b) => a - b);
    return t.slice(2).map((x, i) => x - t[i + 1]!); // the first cycle warms up (fleet history), so its stamp is late
  };
  assert.ok(gaps('memory.usage').length >= 1 && gaps('memory.usage').every((g) => g >= 500_000), `memory every 10 minutes (cycle start jitter: a ms of real time is 0.6 s here): ${gaps('memory.usage').join()}`);
  assert.ok(gaps('cpu').filter((g) => g < 300_000).length >= 10, `cpu every minute: ${gaps('cpu').join()}`);
  assert.ok(cycles > 0);
});
