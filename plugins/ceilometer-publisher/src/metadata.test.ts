import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverInstances, hostId, instanceMetadata, parseDomain, stateNames, type Instance } from './metadata.js';
import { inputs, staticHypervisor } from '../test/fixtures/static-hypervisor.js';

const ORDER = ['instance-0000002b', 'instance-0000002a', 'instance-0000002c', 'manually-created-vm'];
const ctx = { host: 'compute-01', flavorId: (n: string) => (n === 'm1.small' ? '2' : undefined) };

for (const viaGetMetadata of [false, true]) {
  test(`discovery reproduces the NovaLikeServer records (metadata ${viaGetMetadata ? 'from virDomainGetMetadata' : 'from the XML by namespace'})`, async () => {
    const { instances, skipped } = discoverInstances(await staticHypervisor(ORDER, viaGetMetadata).listDomains());
    assert.deepEqual(skipped, [{ uuid: '11111111-2222-4333-8444-555555555555', name: 'manually-created-vm', reason: 'no_nova_metadata' }]);
    const expected = inputs['discovered_instances (InstanceDiscovery.discover_libvirt_polling -> NovaLikeServer attrs)'] as Record<string, unknown>[];
    assert.equal(instances.length, expected.length);
    for (const want of expected) {
      const inst = instances.find((i) => i.id === want['id']) as Instance;
      const md = instanceMetadata(inst, ctx);
      assert.deepEqual({
        id: inst.id, name: inst.displayName, flavor: md['flavor'], image: md['image'], os_type: inst.osType, architecture: inst.architecture,
        'OS-EXT-SRV-ATTR:instance_name': inst.domainName, 'OS-EXT-SRV-ATTR:host': md['instance_host'], 'OS-EXT-STS:vm_state': md['state'],
        tenant_id: inst.projectId, user_id: inst.userId, hostId: md['host'], status: md['status'], metadata: {},
      }, want);
    }
  });
}

test('devices: only disks with a source; NIC filterref parameters, interfaceid and bridge', async () => {
  const [b, a] = discoverInstances(await staticHypervisor(ORDER, false).listDomains()).instances;
  assert.deepEqual(a!.disks, [{ dev: 'vda' }], 'the empty cdrom sda is skipped');
  assert.deepEqual(b!.disks, [{ dev: 'vda' }, { dev: 'vdb' }]);
  assert.deepEqual(a!.nics, [{ tap: 'tap0d4e5f6a-7b', mac: 'fa:16:3e:11:22:33', fref: null, parameters: { interfaceid: '0d4e5f6a-7b8c-4d9e-a0f1-b2c3d4e5f6a7', bridge: 'br-int' } }]);
  assert.deepEqual(b!.nics[0]!.parameters, { dhcpserver: '10.0.0.2', ip: '10.0.0.27', interfaceid: null, bridge: 'qbr5e6f7a8b-9c' });
});

test('namespace is matched by URI, not prefix; nova 1.0 accepted; other namespaces ignored', () => {
  const xml = (ns: string, prefix: string) => `<domain><name>d</name><uuid>u</uuid><metadata><${prefix}:instance xmlns:${prefix}="${ns}">
    <${prefix}:name>x</${prefix}:name><${prefix}:flavor name="f"><${prefix}:vcpus>2</${prefix}:vcpus></${prefix}:flavor>
    <${prefix}:owner><${prefix}:user uuid="U"/><${prefix}:project uuid="P"/></${prefix}:owner></${prefix}:instance></metadata>
    <os><type arch="aarch64">hvm</type></os><devices/></domain>`;
  const ok = parseDomain({ uuid: 'u', name: 'd', state: 3, xml: xml('http://openstack.org/xmlns/libvirt/nova/1.0', 'zz') }) as Instance;
  assert.equal(ok.displayName, 'x');
  assert.deepEqual(ok.flavor, { name: 'f', vcpus: 2, ram: 0, disk: 0, ephemeral: 0, swap: 0 });
  assert.equal(ok.architecture, 'aarch64');
  assert.deepEqual(parseDomain({ uuid: 'u', name: 'd', state: 1, xml: xml('http://example.com/nova/1.1', 'nova') }), { uuid: 'u', name: 'd', reason: 'no_nova_metadata' });
  const broken = xml('http://openstack.org/xmlns/libvirt/nova/1.1', 'nova').replace(/<nova:owner>.*<\/nova:owner>/s, '');
  assert.equal((parseDomain({ uuid: 'u', name: 'd', state: 1, xml: broken }) as { reason: string }).reason, 'missing_attributes');
});

test('state table and hostId', () => {
  assert.deepEqual(stateNames(3), { vmState: 'paused', status: 'paused' });
  assert.deepEqual(stateNames(5), { vmState: 'shutdown', status: 'stopped' });
  assert.deepEqual(stateNames(7), { vmState: 'suspended', status: 'suspended' });
  assert.equal(hostId('8e2f1d0c9b8a47e6a5d4c3b2a1f0e9d8', 'compute-01'), 'f9a928735ae990bce9c9c5d14ba8b821ee9cee5ef72a44845d488f35');
});
