/**
 * Reading a pool's resource providers from Placement (and, to resolve aggregate
 * names and availability zones, from Nova), with negotiated microversions: the
 * highest version both sides know, refused when the server is older than needed.
 */
import type { ProviderReading } from './placement-capacity.js';
import type { PlacementPool } from './placement-spec.js';
import { ServiceError, type OpenStackSession } from './openstack-session.js';

/** Placement microversions: `member_of` needs 1.3; 1.39 is the newest Zed's Placement serves. */
export const PLACEMENT_MIN = '1.3';
export const PLACEMENT_MAX = '1.39';
/** Nova: hypervisor ids are the compute nodes' (= providers') uuids from 2.53 on. */
export const NOVA_MIN = '2.53';
export const NOVA_MAX = '2.93';

const parts = (v: string): [number, number] => {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};
const cmp = (a: string, b: string): number => {
  const [x, y] = [parts(a), parts(b)];
  return x[0] - y[0] || x[1] - y[1];
};

/**
 * The microversion to speak: min(ours, the server's max), refused (ServiceError)
 * when that is below what we need or below the server's minimum.
 */
export function negotiate(service: string, server: { min: string; max: string }, want: { min: string; max: string }): string {
  const v = cmp(server.max, want.max) < 0 ? server.max : want.max;
  if (cmp(v, want.min) < 0 || cmp(v, server.min) < 0) {
    throw new ServiceError(service, `microversions ${server.min}-${server.max} offered, ${want.min}-${want.max} needed`);
  }
  return v;
}

interface VersionDoc {
  versions?: { id?: string; min_version?: string; max_version?: string; version?: string; status?: string }[];
  version?: { min_version?: string; version?: string };
}

/** Where and how to read: endpoint URLs (empty: from the catalog). */
export interface ReaderSettings {
  placementUrl: string;
  computeUrl: string;
}

/** Reads providers for pools. One per poller; versions are negotiated once. */
export class PlacementReader {
  private placement: { url: string; version: string } | undefined;
  private nova: { url: string; version: string } | undefined;

  constructor(private readonly session: OpenStackSession, private readonly settings: ReaderSettings) {}

  private async placementApi(): Promise<{ url: string; version: string }> {
    if (this.placement) return this.placement;
    const url = await this.session.endpoint('placement', this.settings.placementUrl);
    const doc = await this.session.getJson<VersionDoc>('placement', `${url}/`);
    const v = doc.versions?.[0];
    const version = negotiate('placement', { min: v?.min_version ?? '1.0', max: v?.max_version ?? '1.0' }, { min: PLACEMENT_MIN, max: PLACEMENT_MAX });
    return (this.placement = { url, version });
  }

  private async novaApi(): Promise<{ url: string; version: string }> {
    if (this.nova) return this.nova;
    const url = await this.session.endpoint('compute', this.settings.computeUrl);
    const doc = await this.session.getJson<VersionDoc>('compute', `${url}/`);
    const version = negotiate('compute', { min: doc.version?.min_version || '2.1', max: doc.version?.version || '2.1' }, { min: NOVA_MIN, max: NOVA_MAX });
    return (this.nova = { url, version });
  }

  private async pl<T>(path: string): Promise<T> {
    const p = await this.placementApi();
    return this.session.getJson<T>('placement', `${p.url}${path}`, { 'openstack-api-version': `placement ${p.version}` });
  }

  private async nv<T>(path: string): Promise<T> {
    const n = await this.novaApi();
    return this.session.getJson<T>('compute', `${n.url}${path}`, { 'openstack-api-version': `compute ${n.version}` });
  }

  /** The negotiated versions so far (for status and logs). */
  versions(): { placement: string | null; compute: string | null } {
    return { placement: this.placement?.version ?? null, compute: this.nova?.version ?? null };
  }

  /** The provider uuids (and names) that make up `pool` now. */
  async providers(pool: PlacementPool): Promise<{ uuid: string; name: string }[]> {
    type Rps = { resource_providers: { uuid: string; name: string }[] };
    const s = pool.source;
    if (s.kind === 'aggregate') {
      let uuid = 'uuid' in s ? s.uuid : undefined;
      if (uuid === undefined) {
        const aggs = (await this.nv<{ aggregates: { name: string; uuid: string }[] }>('/os-aggregates')).aggregates;
        uuid = aggs.find((a) => a.name === (s as { name: string }).name)?.uuid;
        if (uuid === undefined) throw new ServiceError('compute', `no host aggregate named ${(s as { name: string }).name}`);
      }
      return (await this.pl<Rps>(`/resource_providers?member_of=${encodeURIComponent(uuid)}`)).resource_providers.map((r) => ({ uuid: r.uuid, name: r.name }));
    }
    if (s.kind === 'az') {
      const zones = (await this.nv<{ availabilityZoneInfo: { zoneName: string; hosts: Record<string, Record<string, unknown>> | null }[] }>('/os-availability-zone/detail')).availabilityZoneInfo;
      const zone = zones.find((z) => z.zoneName === s.zone);
      if (!zone) throw new ServiceError('compute', `no availability zone named ${s.zone}`);
      const hosts = new Set(Object.entries(zone.hosts ?? {}).filter(([, svcs]) => 'nova-compute' in svcs).map(([h]) => h));
      const hvs = (await this.nv<{ hypervisors: { id: string; hypervisor_hostname: string; service: { host: string } }[] }>('/os-hypervisors/detail')).hypervisors;
      return hvs.filter((h) => hosts.has(h.service.host)).map((h) => ({ uuid: h.id, name: h.hypervisor_hostname }));
    }
    const out = s.uuids.map((uuid) => ({ uuid, name: uuid }));
    for (const name of s.names) {
      const found = (await this.pl<Rps>(`/resource_providers?name=${encodeURIComponent(name)}`)).resource_providers;
      if (found.length === 0) throw new ServiceError('placement', `no resource provider named ${name}`);
      out.push(...found.map((r) => ({ uuid: r.uuid, name: r.name })));
    }
    return out;
  }

  /** Inventories and usages of each provider (a provider deleted meanwhile is left out). */
  async read(providers: readonly { uuid: string; name: string }[]): Promise<ProviderReading[]> {
    const out: ProviderReading[] = [];
    for (const p of providers) {
      try {
        const inv = await this.pl<{ inventories: ProviderReading['inventories'] }>(`/resource_providers/${encodeURIComponent(p.uuid)}/inventories`);
        const use = await this.pl<{ usages: ProviderReading['usages'] }>(`/resource_providers/${encodeURIComponent(p.uuid)}/usages`);
        out.push({ uuid: p.uuid, name: p.name, inventories: inv.inventories, usages: use.usages });
      } catch (e) {
        if (e instanceof ServiceError && e.status === 404) continue;
        throw e;
      }
    }
    return out;
  }
}
