import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryLogger } from '@tally/common';
import { pollOnce, runAgent, controlExchange, agentOptions, SAMPLE_ROUTING_KEY } from './agent.js';
import { defaults } from '@tally/common';
import { RecordingBus } from './testing.js';
import { SimulatedFleet } from './simulated.js';
import { AcceleratedClock } from './clock.js';
import { computeSignature } from './signature.js';
import { staticHypervisor } from '../test/fixtures/static-hypervisor.js';
import type { PyDict } from './pyjson.js';

const settings = { ...defaults(agentOptions), host: 'compute-01', telemetrySecret: 's3cr3t' };
const { libvirtUri: _u, once: _o, ...agentSettings } = settings;

test('pollOnce publishes one message per meter to ceilometer/notifications.sample, signed', async () => {
  const bus = new RecordingBus();
  const log = memoryLogger();
  const report = await pollOnce({ hypervisor: staticHypervisor(['instance-0000002b', 'instance-0000002a', 'instance-0000002c', 'manually-created-vm'], false), bus, log, exchange: controlExchange('ceilometer') }, agentSettings);
  assert.equal(report.messages, bus.published.length);
  assert.equal(report.skippedDomains, 1);
  for (const m of bus.published) {
    assert.deepEqual(m.exchange, { name: 'ceilometer', type: 'topic', durable: false, autoDelete: false });
    assert.equal(m.routingKey, SAMPLE_ROUTING_KEY);
    assert.equal(m.properties?.contentType, 'application/json');
  }
  for (const msg of bus.messages()) {
    const samples = (msg['payload'] as PyDict)['samples'] as PyDict[];
    assert.equal(new Set(samples.map((s) => s['counter_name'])).size, 1, 'one meter per message');
    for (const s of samples) assert.equal(s['message_signature'], computeSignature(s, 's3cr3t'));
  }
  assert.equal(bus.samples().filter((s) => s['counter_name'] === 'cpu').length, 2);
  assert.ok(log.lines.some((l) => l.msg === 'instance discovered' && l.fields['instance_id'] === '7d8e9f00-aaaa-4bbb-8ccc-dddd0000eeee'));
});

test('pollOnce rejects when a publish is not confirmed', async () => {
  const bus = new RecordingBus();
  bus.failWith = new Error('nack');
  await assert.rejects(pollOnce({ hypervisor: staticHypervisor(['instance-0000002a'], false), bus, log: memoryLogger(), exchange: controlExchange('ceilometer') }, agentSettings), /nack/);
});

test('runAgent polls the simulated fleet every interval of accelerated time, and stops', async () => {
  const bus = new RecordingBus();
  const clock = new AcceleratedClock(2_000, 3_600_000); // 10 simulated minutes = 300 ms
  const fleet = new SimulatedFleet({ vms: 3, projects: 2, seed: 'agent', clock });
  const reports: number[] = [];
  const h = runAgent({ hypervisor: fleet, bus, log: memoryLogger(), clock, exchange: controlExchange('ceilometer') },
    { ...agentSettings, pollingInterval: 600_000 }, (r) => reports.push(r.messages));
  while (reports.length < 5) await new Promise((r) => setTimeout(r, 5));
  await h.stop();
  // The first cycle warms up (JIT, fleet history since 2024), so only later cycles are timed.
  const stamps = [...new Set(bus.samples().filter((s) => s['counter_name'] === 'cpu').map((s) => s['timestamp'] as string))].sort().slice(1);
  assert.ok(stamps.length >= 4);
  const gaps = stamps.slice(1).map((s, i) => Date.parse(s + 'Z') - Date.parse(stamps[i] + 'Z')).sort((a, b) => a - b);
  // Sample timestamps are taken mid-cycle, so allow some jitter (a few ms of real time are seconds here).
  assert.ok(gaps[0]! >= 500_000 && gaps.at(-1)! <= 720_000, `cycles about 10 simulated minutes apart, got ${gaps.join()}`);
});

test('runAgent polls without an onCycle callback too (as tally start and tally agent call it)', async () => {
  const bus = new RecordingBus();
  const clock = new AcceleratedClock(2_000, 3_600_000);
  const fleet = new SimulatedFleet({ vms: 2, projects: 1, seed: 'no-callback', clock });
  const h = runAgent({ hypervisor: fleet, bus, log: memoryLogger(), clock, exchange: controlExchange('ceilometer') }, { ...agentSettings, pollingInterval: 600_000 });
  const end = Date.now() + 10_000;
  while (bus.published.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  await h.stop();
  assert.ok(bus.published.length > 0, 'the loop published without a callback');
});
