/**
 * OpenStack tier: the real Nova started by scripts/openstack/nova.sh (Debian's
 * nova-api/conductor/scheduler/compute on fake.MediumFakeDriver, Placement,
 * Glance, the fake-neutron stub) boots and deletes a real server as the demo
 * project's member; Placement, read by Tally's system-scoped reader, holds the
 * server's allocation while it lives and drops it after the delete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Nova, novaEnv, placementGet, providers, token } from './nova-helpers.js';

test('a real server boots on a fake compute host, holds its flavor in Placement, and is deleted', { timeout: 240_000 }, async (t) => {
  const env = novaEnv();
  const ks = env['NOVA_KEYSTONE_URL']!;
  const member = await token(ks, { user: 'demo-member', password: 'demo-pass', project: 'demo' });
  const reader = await token(ks, { user: env['PLACEMENT_READER_USER']!, password: env['PLACEMENT_READER_PASSWORD']!, system: true });
  const nova = new Nova(env['NOVA_URL']!, member.token);
  const name = `tally-os-${randomBytes(3).toString('hex')}`;
  const id = await nova.boot(name, env['NOVA_IMAGE_ID']!, env['NOVA_FLAVOR_TINY']!);
  t.after(async () => {
    if (await nova.show(id).catch(() => null)) await nova.delete(id).catch(() => undefined);
  });

  const server = (await nova.waitFor(id, 'ACTIVE'))!;
  assert.equal(server.flavor.original_name, 'm1.tiny');
  assert.deepEqual([server.flavor.vcpus, server.flavor.ram, server.flavor.disk], [1, 512, 1]);

  // The scheduler claimed the flavor on one of the fake hosts' resource providers.
  const alloc = await placementGet<{ allocations: Record<string, { resources: Record<string, number> }>; project_id: string }>(env['PLACEMENT_URL']!, reader.token, `/allocations/${id}`);
  const rps = [...providers(env).values()];
  const held = Object.entries(alloc.allocations);
  assert.equal(held.length, 1, 'one provider holds the server');
  assert.ok(rps.includes(held[0]![0]), 'a compute host of nova.sh');
  assert.deepEqual(held[0]![1].resources, { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  assert.equal(alloc.project_id, member.projectId);

  await nova.delete(id);
  assert.equal(await nova.waitFor(id, 'GONE', 60_000), null);
  const after = await placementGet<{ allocations: Record<string, unknown> }>(env['PLACEMENT_URL']!, reader.token, `/allocations/${id}`);
  assert.deepEqual(after.allocations, {}, 'the delete released the allocation');
});
