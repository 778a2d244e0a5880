// The state watch against libvirt's test driver: a shut-off instance is listed
// but gives no samples; when it is started (on the agent's own connection, as
// the test driver keeps state per connection) it is polled at once, long before
// the next cycle; each change is logged with the instance id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger, defaults } from '@tally/common';
import { openLibvirt } from '../src/libvirt.js';
import { runAgent, controlExchange, agentOptions } from '../src/agent.js';
import { RecordingBus } from '../src/testing.js';
import { FIXTURE_DOMAINS, writeTestNodeFile } from './fixtures/nodefile.js';

const OFF = '7d8e9f00-aaaa-4bbb-8ccc-dddd0000eeee'; // old-01, shut off in the fixture
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('an instance that becomes active is polled at once; state changes are logged with the instance id', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hv = await openLibvirt(writeTestNodeFile(join(dir, 'node.xml'), FIXTURE_DOMAINS), { readWrite: true });
  t.after(() => hv.close());
  const bus = new RecordingBus();
  const log = memoryLogger();
  const { libvirtUri: _u, once: _o, pollingConfig: _p, ...base } = defaults(agentOptions);
  let cycles = 0;
  const h = runAgent({ hypervisor: hv, bus, log, exchange: controlExchange('ceilometer') },
    { ...base, host: 'compute-watch', pollingInterval: 3_600_000, statePollInterval: 100, publishTimeout: 1000, retryInterval: 50 }, () => { cycles++; });
  t.after(() => h.stop());
  const samplesOf = (id: string) => bus.samples().filter((s) => String(s['resource_id']).includes(id));
  const until = async (what: string, cond: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await sleep(20);
    }
  };
  await until('the first cycle', () => cycles === 1 && bus.published.length > 0);
  assert.equal(samplesOf(OFF).length, 0, 'shut off: no usage samples');
  assert.ok(log.lines.some((l) => l.msg === 'instance discovered' && l.fields['instance_id'] === OFF && l.fields['state'] === 'shutoff'), 'but it is listed and watched');

  const started = Date.now();
  await hv.control(OFF, 'create');
  await until('samples of the started instance', () => samplesOf(OFF).some((s) => s['counter_name'] === 'cpu'));
  assert.ok(Date.now() - started < 5_000, 'polled at once, not at the next hourly cycle');
  assert.equal(cycles, 2, 'one extra cycle, for the started instance only');
  const extra = bus.samples().filter((s) => s['counter_name'] === 'cpu').slice(-1)[0]!;
  assert.equal(extra['resource_id'], OFF, 'the immediate poll reads only the instance that started');
  assert.ok(log.lines.some((l) => l.msg === 'instance state changed' && l.fields['instance_id'] === OFF && l.fields['state'] === 'running' && l.fields['previous'] === 'shutoff'));

  await hv.control('9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11', 'suspend');
  await until('the pause logged', () => log.lines.some((l) => l.msg === 'instance state changed' && l.fields['instance_id'] === '9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11' && l.fields['state'] === 'paused'));
  assert.equal(cycles, 2, 'pausing does not trigger a poll');
  await h.stop();
});
