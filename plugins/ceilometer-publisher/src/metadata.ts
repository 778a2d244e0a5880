/**
 * Instance discovery from libvirt domains, as Ceilometer's `libvirt_metadata`
 * discovery does it (compute/discovery.py), and the instance `resource_metadata`
 * of compute samples (compute/pollsters/util.py).
 */
import { createHash } from 'node:crypto';
import type { PyDict } from './pyjson.js';
import type { DomainRef } from './hypervisor.js';
import { child, children, parseXml, type XmlElement } from './xml.js';

/** Nova metadata namespaces, newest first (Ceilometer's NOVA_METADATA_VERSIONS). */
export const NOVA_NAMESPACES = ['http://openstack.org/xmlns/libvirt/nova/1.1', 'http://openstack.org/xmlns/libvirt/nova/1.0'] as const;

/** A Nova flavor as the domain metadata describes it (`id` comes from a lookup). */
export interface Flavor {
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
}

/** A disk that has a `<source>` (empty cdroms are skipped, like Ceilometer). */
export interface DiskDevice {
  dev: string;
}

/** A NIC with a host-side tap device. */
export interface NicDevice {
  tap: string;
  mac: string | null;
  fref: string | null;
  /** Filterref parameters (names lower-cased), then `interfaceid` and `bridge`. */
  parameters: Record<string, string | null>;
}

/** A discovered Nova instance (Ceilometer's NovaLikeServer plus the devices the pollsters read). */
export interface Instance {
  id: string;
  domainName: string;
  displayName: string;
  state: number;
  flavor: Flavor;
  userId: string;
  projectId: string;
  imageId: string | null;
  osType: string | null;
  architecture: string | null;
  disks: DiskDevice[];
  nics: NicDevice[];
}

/** A domain discovery left out, and why. */
export interface SkippedDomain {
  uuid: string;
  name: string;
  reason: 'no_nova_metadata' | 'missing_attributes' | 'bad_xml';
}

/** libvirt state → [vm_state, status] (compute/virt/libvirt/utils.py). */
const STATE_TABLE: Record<number, [string, string]> = {
  0: ['pending', 'building'], 1: ['running', 'active'], 2: ['running', 'active'], 3: ['paused', 'paused'],
  4: ['shutdown', 'stopped'], 5: ['shutdown', 'stopped'], 6: ['crashed', 'error'], 7: ['suspended', 'suspended'],
};

/** `[vm_state, status]` for a libvirt state; unknown states map like NOSTATE. */
export function stateNames(state: number): { vmState: string; status: string } {
  const [vmState, status] = STATE_TABLE[state] ?? STATE_TABLE[0]!;
  return { vmState, status };
}

/** Nova's hostId: `sha224(project_id + host)` in hex. */
export function hostId(projectId: string, host: string): string {
  return createHash('sha224').update(projectId + host, 'utf8').digest('hex');
}

/** The Nova `<instance>` element: from virDomainGetMetadata output, else from `<metadata>` by namespace URI. */
function novaElement(d: DomainRef, domain: XmlElement): XmlElement | undefined {
  if (d.novaMetadata) return parseXml(d.novaMetadata);
  const md = child(domain, 'metadata');
  for (const ns of NOVA_NAMESPACES) {
    const el = child(md, 'instance', ns);
    if (el) return el;
  }
  return undefined;
}

function flavorInt(el: XmlElement, name: string): number {
  const text = child(el, name)?.text.trim() ?? '';
  // Ceilometer: missing → 0; the values are small ints (MB, GB, count).
  return /^\d+$/.test(text) ? Number(text) : 0;
}

function nics(devices: XmlElement | undefined): NicDevice[] {
  const out: NicDevice[] = [];
  for (const iface of children(devices, 'interface')) {
    const tap = child(iface, 'target')?.attrs['dev'];
    if (!tap) continue; // no host-side device, nothing to read stats from
    const filterref = child(iface, 'filterref');
    const parameters: Record<string, string | null> = {};
    for (const p of children(filterref, 'parameter')) {
      if (p.attrs['name'] !== undefined) parameters[p.attrs['name'].toLowerCase()] = p.attrs['value'] ?? null;
    }
    parameters['interfaceid'] = child(child(iface, 'virtualport'), 'parameters')?.attrs['interfaceid'] ?? null;
    parameters['bridge'] = child(iface, 'source')?.attrs['bridge'] ?? null;
    out.push({ tap, mac: child(iface, 'mac')?.attrs['address'] ?? null, fref: filterref?.attrs['filter'] ?? null, parameters });
  }
  return out;
}

/** Turn one domain into an Instance, or say why it is not one. */
export function parseDomain(d: DomainRef): Instance | SkippedDomain {
  let domain: XmlElement;
  let nova: XmlElement | undefined;
  try {
    domain = parseXml(d.xml);
    nova = novaElement(d, domain);
  } catch {
    return { uuid: d.uuid, name: d.name, reason: 'bad_xml' };
  }
  if (!nova) return { uuid: d.uuid, name: d.name, reason: 'no_nova_metadata' };
  const flavorEl = child(nova, 'flavor');
  const owner = child(nova, 'owner');
  const displayName = child(nova, 'name')?.text;
  const userId = child(owner, 'user')?.attrs['uuid'];
  const projectId = child(owner, 'project')?.attrs['uuid'];
  const flavorName = flavorEl?.attrs['name'];
  if (displayName === undefined || userId === undefined || projectId === undefined || flavorEl === undefined || flavorName === undefined) {
    return { uuid: d.uuid, name: d.name, reason: 'missing_attributes' };
  }
  const root = children(nova, 'root').find((r) => r.attrs['type'] === 'image');
  const osType = child(child(domain, 'os'), 'type');
  const devices = child(domain, 'devices');
  return {
    id: d.uuid,
    domainName: d.name,
    displayName,
    state: d.state,
    flavor: {
      name: flavorName, vcpus: flavorInt(flavorEl, 'vcpus'), ram: flavorInt(flavorEl, 'memory'), disk: flavorInt(flavorEl, 'disk'),
      ephemeral: flavorInt(flavorEl, 'ephemeral'), swap: flavorInt(flavorEl, 'swap'),
    },
    userId,
    projectId,
    imageId: root?.attrs['uuid'] ?? null,
    osType: osType ? osType.text : null,
    architecture: osType?.attrs['arch'] ?? null,
    disks: children(devices, 'disk').filter((k) => child(k, 'source') && child(k, 'target')?.attrs['dev'])
      .map((k) => ({ dev: child(k, 'target')!.attrs['dev']! })),
    nics: nics(devices),
  };
}

/** Discovery result: instances in listing order, and the domains left out. */
export interface Discovery {
  instances: Instance[];
  skipped: SkippedDomain[];
}

/** Discover the Nova instances among `domains`; non-Nova domains are skipped and reported. */
export function discoverInstances(domains: readonly DomainRef[]): Discovery {
  const out: Discovery = { instances: [], skipped: [] };
  for (const d of domains) {
    const r = parseDomain(d);
    if ('reason' in r) out.skipped.push(r);
    else out.instances.push(r);
  }
  return out;
}

/** Where the metadata is built: the agent's `conf.host` and the flavor id lookup. */
export interface MetadataContext {
  host: string;
  /**
   * Nova's `flavors.find(name=…)` id. Without Nova (and when Nova says
   * NotFound) Ceilometer uses the flavor name, which is the default here.
   */
  flavorId?: (name: string) => string | undefined;
}

/** `resource_metadata` of an instance sample, in Ceilometer's key order (spec §6.2). */
export function instanceMetadata(inst: Instance, ctx: MetadataContext): PyDict {
  const { vmState, status } = stateNames(inst.state);
  const f = inst.flavor;
  return {
    display_name: inst.displayName,
    name: inst.domainName,
    instance_id: inst.id,
    instance_type: f.name,
    host: hostId(inst.projectId, ctx.host),
    instance_host: ctx.host,
    flavor: { id: ctx.flavorId?.(f.name) ?? f.name, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap },
    status,
    state: vmState,
    task_state: '',
    image: inst.imageId === null ? null : { id: inst.imageId },
    image_ref: inst.imageId,
    image_ref_url: null,
    architecture: inst.architecture,
    os_type: inst.osType,
    vcpus: f.vcpus,
    memory_mb: f.ram,
    disk_gb: f.disk,
    ephemeral_gb: f.ephemeral,
    root_gb: f.disk - f.ephemeral,
  };
}

/** The NIC resource id: the filterref name, else `<domain name>-<uuid>-<tap>`. */
export function nicResourceId(inst: Instance, nic: NicDevice): string {
  return nic.fref ?? `${inst.domainName}-${inst.id}-${nic.tap}`;
}
