/**
 * Domain XML with Nova metadata, as Nova writes it, for the simulated fleet and
 * for libvirt test-driver node files (`test:///abs/path/node.xml`), which tests
 * use to exercise the real koffi driver without a hypervisor.
 */
import { writeFileSync } from 'node:fs';
import type { Flavor } from './metadata.js';

/** One NIC of a domain spec. */
export interface NicSpec {
  tap: string;
  mac: string;
  bridge?: string;
  /** Nova's nwfilter name (`nova-instance-<domain>-<mac without colons>`); sets the NIC resource id. */
  filter?: string;
  filterParams?: Record<string, string>;
  /** OVS virtualport interfaceid (the Neutron port id). */
  interfaceId?: string;
}

/** A domain to render. `nova: false` renders a domain without Nova metadata. */
export interface DomainSpec {
  uuid: string;
  name: string;
  displayName: string;
  flavor: Flavor;
  userId: string;
  projectId: string;
  imageId?: string | null;
  /** Test-driver run state; default running. */
  state?: 'running' | 'paused' | 'shutoff';
  /** Disks; `source: null` renders an empty cdrom (no `<source>`, skipped by discovery). */
  disks: { dev: string; source?: string | null }[];
  nics: NicSpec[];
  nova?: boolean;
  novaVersion?: '1.1' | '1.0';
  /** libvirt domain type; `test` for node files, `kvm` otherwise. */
  type?: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const RUNSTATE = { running: 1, paused: 3, shutoff: 5 } as const;

function novaXml(d: DomainSpec): string {
  const f = d.flavor;
  return `  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/${d.novaVersion ?? '1.1'}">
      <nova:package version="26.2.1"/>
      <nova:name>${esc(d.displayName)}</nova:name>
      <nova:creationTime>2024-03-01 10:15:42</nova:creationTime>
      <nova:flavor name="${esc(f.name)}">
        <nova:memory>${f.ram}</nova:memory>
        <nova:disk>${f.disk}</nova:disk>
        <nova:swap>${f.swap}</nova:swap>
        <nova:ephemeral>${f.ephemeral}</nova:ephemeral>
        <nova:vcpus>${f.vcpus}</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="${esc(d.userId)}">user</nova:user>
        <nova:project uuid="${esc(d.projectId)}">project</nova:project>
      </nova:owner>${d.imageId ? `\n      <nova:root type="image" uuid="${esc(d.imageId)}"/>` : ''}
    </nova:instance>
  </metadata>
`;
}

function nicXml(n: NicSpec): string {
  const params = Object.entries(n.filterParams ?? {}).map(([k, v]) => `\n        <parameter name='${esc(k)}' value='${esc(v)}'/>`).join('');
  return `    <interface type='bridge'>
      <mac address='${esc(n.mac)}'/>
      <source bridge='${esc(n.bridge ?? 'br-int')}'/>${n.interfaceId ? `\n      <virtualport type='openvswitch'>\n        <parameters interfaceid='${esc(n.interfaceId)}'/>\n      </virtualport>` : ''}
      <target dev='${esc(n.tap)}'/>
      <model type='virtio'/>${n.filter ? `\n      <filterref filter='${esc(n.filter)}'>${params}\n      </filterref>` : ''}
    </interface>
`;
}

/** Render one `<domain>` element (indented for a node file). */
export function renderDomainXml(d: DomainSpec): string {
  const type = d.type ?? 'kvm';
  const testNs = type === 'test' ? ` xmlns:test='http://libvirt.org/schemas/domain/test/1.0'` : '';
  const runstate = type === 'test' ? `  <test:runstate>${RUNSTATE[d.state ?? 'running']}</test:runstate>\n` : '';
  const disks = d.disks.map((k) => k.source === null
    ? `    <disk type='file' device='cdrom'>\n      <target dev='${esc(k.dev)}' bus='sata'/>\n      <readonly/>\n    </disk>\n`
    : `    <disk type='file' device='disk'>\n      <source file='${esc(k.source ?? `/var/lib/nova/instances/${d.uuid}/disk.${k.dev}`)}'/>\n      <target dev='${esc(k.dev)}' bus='virtio'/>\n    </disk>\n`).join('');
  return `<domain type='${type}'${testNs}>
  <name>${esc(d.name)}</name>
  <uuid>${esc(d.uuid)}</uuid>
${d.nova === false ? '' : novaXml(d)}  <memory unit='KiB'>${d.flavor.ram * 1024}</memory>
  <currentMemory unit='KiB'>${d.flavor.ram * 1024}</currentMemory>
  <vcpu placement='static'>${d.flavor.vcpus}</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
${disks}${d.nics.map(nicXml).join('')}    <memballoon model='virtio'/>
  </devices>
${runstate}</domain>
`;
}

/** A libvirt test-driver node document holding `domains`. */
export function renderTestNode(domains: readonly DomainSpec[]): string {
  return `<node>
  <cpu><mhz>2400</mhz><model>tally-test</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads></cpu>
  <memory>33554432</memory>
${domains.map((d) => renderDomainXml({ ...d, type: 'test' })).join('')}</node>
`;
}

/** Write a test-driver node file; open it as `test://` + the absolute path. */
export function writeTestNodeFile(path: string, domains: readonly DomainSpec[]): string {
  writeFileSync(path, renderTestNode(domains));
  return `test://${path}`;
}
