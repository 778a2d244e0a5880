import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '@tally/common';
import { openLibvirt } from '../src/libvirt.js';
import { pollCycle } from '../src/poller.js';
import { DomainNotRunningError } from '../src/hypervisor.js';
import { FIXTURE_DOMAINS, writeTestNodeFile } from './fixtures/nodefile.js';

test('koffi driver polls a test-driver node file end to end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-libvirt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const uri = writeTestNodeFile(join(dir, 'node.xml'), FIXTURE_DOMAINS);
  const hv = await openLibvirt(uri);
  t.after(() => hv.close());

  const doms = await hv.listDomains();
  assert.deepEqual(doms.map((d) => [d.name, d.state]).sort(), [
    ['instance-0000002a', 1], ['instance-0000002b', 3], ['instance-0000002c', 5], ['manually-created-vm', 1],
  ]);
  assert.match(doms.find((d) => d.name === 'instance-0000002a')!.novaMetadata ?? '', /<name>web-01<\/name>/);
  // One virConnectGetAllDomainStats call: the test driver fills the state only, so CPU comes from the per-domain call.
  assert.deepEqual(hv.bulkStatsOf('4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e'), new Map([['state.state', 3n], ['state.reason', 0n]]));
  await assert.rejects(hv.instanceStats('7d8e9f00-aaaa-4bbb-8ccc-dddd0000eeee'), DomainNotRunningError);

  const res = await pollCycle(hv, { host: 'compute-01', source: 'openstack', batchSize: 50 }, { now: () => new Date() }, memoryLogger());
  assert.deepEqual(res.skipped.map((s) => [s.name, s.reason]), [['manually-created-vm', 'no_nova_metadata']]);
  assert.equal(res.instances.length, 3);
  assert.equal(res.polled, 2, 'running and paused are read, shut-off is not');
  const all = res.batches.flat();
  assert.ok(!all.some((s) => s.resourceId.startsWith('7d8e9f00') || s.resourceId.startsWith('11111111')));
  const by = (name: string) => res.batches.filter((b) => b[0]!.name === name).flat();

  const cpu = by('cpu');
  assert.deepEqual(cpu.map((s) => s.resourceId).sort(), ['4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e', '9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11']);
  for (const s of cpu) {
    assert.equal(s.type, 'cumulative'); assert.equal(s.unit, 'ns');
    assert.equal(typeof s.volume, 'bigint');
    assert.ok((s.volume as bigint) > 2n ** 53n, 'the test driver cpu time is above 2^53 and stays exact');
  }
  assert.deepEqual(cpu.map((s) => s.resourceMetadata['cpu_number']).sort(), [1, 4], 'vcpu count from the domain XML');
  const paused = cpu.find((s) => s.resourceId.startsWith('4b6c'))!;
  assert.equal(paused.resourceMetadata['status'], 'paused');
  assert.equal(paused.resourceMetadata['display_name'], 'Сервер ☃ db-01');

  const mem = by('memory.usage');
  assert.equal(mem.length, 2);
  for (const s of mem) { assert.equal(s.type, 'gauge'); assert.equal(s.unit, 'MB'); assert.equal(s.volume.constructor.name, 'PyFloat'); }

  const rb = by('disk.device.read.bytes');
  assert.deepEqual(rb.map((s) => s.resourceId).sort(), [
    '4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e-vda', '4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e-vdb',
    '9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11-vda', '9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11-vdb',
  ], 'two disks each; the empty cdrom is not a disk');
  assert.ok(rb.every((s) => s.unit === 'B' && s.type === 'cumulative' && s.resourceMetadata['disk_name'] === s.resourceId.slice(37)));

  const rx = by('network.incoming.bytes');
  assert.deepEqual(rx.map((s) => s.resourceId).sort(), [
    'instance-0000002a-9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11-tap0d4e5f6a-7b',
    'instance-0000002b-4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e-tap6f7a8b9c-0d',
    'nova-instance-instance-0000002b-fa163eaabbcc',
  ]);
  const f = rx.find((s) => s.resourceId.startsWith('nova-'))!;
  assert.equal(f.resourceMetadata['name'], 'tap5e6f7a8b-9c');
  assert.deepEqual(f.resourceMetadata['parameters'], { dhcpserver: '10.0.0.2', ip: '10.0.0.27', interfaceid: null, bridge: 'qbr5e6f7a8b-9c' });
  assert.ok(rx.every((s) => s.unit === 'B' && typeof s.volume === 'bigint'));
});

test('opening a missing node file fails with an unavailable error', async () => {
  await assert.rejects(openLibvirt('test:///nonexistent/tally/node.xml'), /cannot open/);
});
