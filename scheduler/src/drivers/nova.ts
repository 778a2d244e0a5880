/**
 * The `nova` driver: members are Nova servers running `tally analyzer` (see
 * `user-data.ts`). It authenticates as a Keystone service user, finds compute and image in
 * the catalog, negotiates the compute microversion (the highest both sides know, from
 * 2.1 up to {@link MAX_MICROVERSION}), and tags each server with metadata
 * `tally-role=analyzer`, `tally-cluster`, `tally-member`, `tally-action`.
 *
 * Idempotent: create first looks for a live server of the member's name and returns it;
 * delete treats 404 as done. Refusals become {@link DriverError}s (`quota` for Nova's
 * "Quota exceeded" 403 and the older 413 OverLimit), which the scheduler turns into alerts.
 */
import { readFileSync } from 'node:fs';
import { defineOptions, opt, KeystoneSession, type Logger, type OptionValues } from '@tally/common';
import { DriverError, type Driver, type DriverMember, type DriverStatus, type MemberSpec } from './types.js';
import { renderUserData, type AnalyzerServerConfig } from './user-data.js';

export const novaOptions = defineOptions('scheduler-nova', 'the nova driver: analyzer servers through the Nova API', {
  novaAuthUrl: opt.url({ name: 'nova-auth-url', default: '', schemes: ['http', 'https'], help: 'Keystone v3 URL of the service user that creates analyzer servers, e.g. http://127.0.0.1:5000/v3.' }),
  novaUsername: opt.string({ name: 'nova-username', default: 'tally', help: 'Service user (needs the member or admin role in nova-project-name).' }),
  novaPassword: opt.string({ name: 'nova-password', default: '', secret: true, help: 'Password of nova-username.' }),
  novaProjectName: opt.string({ name: 'nova-project-name', default: 'service', help: 'Project that owns the analyzer servers (and whose quota they use).' }),
  novaUserDomainName: opt.string({ name: 'nova-user-domain-name', default: 'Default', help: 'Domain of nova-username.' }),
  novaProjectDomainName: opt.string({ name: 'nova-project-domain-name', default: 'Default', help: 'Domain of nova-project-name.' }),
  novaRegionName: opt.string({ name: 'nova-region-name', default: '', help: 'Region of the compute and image endpoints. Empty: the first in the catalog.' }),
  novaInterface: opt.enum({ name: 'nova-interface', default: 'public', choices: ['public', 'internal', 'admin'] as const, help: 'Which catalog endpoints to call.' }),
  novaFlavor: opt.string({ name: 'nova-flavor', default: 'm1.small', help: 'Flavor (name or id) of analyzer servers.' }),
  novaImage: opt.string({ name: 'nova-image', default: 'debian-12', help: 'Glance image (name or id) of analyzer servers: a Linux with cloud-init and systemd.' }),
  novaNetwork: opt.string({ name: 'nova-network', default: '', help: "Neutron network id for analyzer servers; 'auto' lets Nova choose; empty: none (the server must reach the bus, database and DFS some other way only in tests)." }),
  novaKeyName: opt.string({ name: 'nova-key-name', default: '', help: 'Nova keypair to put on analyzer servers (for an operator to log in). Empty: none.' }),
  novaServerPrefix: opt.string({ name: 'nova-server-prefix', default: 'tally-', pattern: /^[A-Za-z0-9_.-]{0,32}$/, help: 'Server names are <prefix><member>, e.g. tally-analyzer-3.' }),
  novaBootTimeout: opt.duration({ name: 'nova-boot-timeout', default: '10m', minMs: 1000, help: 'A server not ACTIVE this long after its create is deleted and alerted.' }),
  novaAnalyzerDatabaseUrl: opt.url({ name: 'nova-analyzer-database-url', default: '', schemes: ['postgres', 'postgresql'], secret: true, help: "Database URL the servers' analyzers use. Empty: the scheduler's database-url (it must be reachable from the servers)." }),
  novaAnalyzerAmqpUrl: opt.url({ name: 'nova-analyzer-amqp-url', default: '', schemes: ['amqp', 'amqps'], secret: true, help: "Bus URL the servers' analyzers use. Empty: the scheduler's amqp-url." }),
  novaAnalyzerDfsUrl: opt.string({ name: 'nova-analyzer-dfs-url', default: '', help: "DFS URL the servers' analyzers use (webhdfs://… so every analyzer shares it). Empty: the scheduler's dfs-url." }),
  novaNodeUrl: opt.string({ name: 'nova-node-url', default: 'https://nodejs.org/dist/v20.19.5/node-v20.19.5-linux-x64.tar.xz', help: 'Node 20 tarball the user-data installs when the image has no /opt/tally/node.' }),
  novaTallyGitUrl: opt.string({ name: 'nova-tally-git-url', default: '', help: 'Git URL of Tally the user-data clones (and builds) when the image has no /opt/tally/app. Empty: the image must have it.' }),
  novaUserDataFile: opt.string({ name: 'nova-user-data-file', default: '', help: 'A user-data template replacing the built-in cloud-config ({{name}}, {{cluster}}, {{queue}}, {{config_yaml}}). Empty: the built-in one.' }),
});

/** The highest compute microversion this driver was written and tested against (Nova Zed's maximum). */
export const MAX_MICROVERSION = '2.93';

const parseMv = (v: string): [number, number] => {
  const [a, b] = v.split('.').map(Number);
  return [a ?? 2, b ?? 1];
};
const mvLess = (x: string, y: string): boolean => {
  const [a, b] = parseMv(x);
  const [c, d] = parseMv(y);
  return a < c || (a === c && b < d);
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Server { id: string; name: string; status: string; metadata?: Record<string, string>; fault?: { message?: string } }

/** What the driver needs besides its options. */
export interface NovaDriverDeps {
  log: Logger;
  /** The scheduler's own bus, database and DFS, written into each server's configuration (unless overridden). */
  analyzer: AnalyzerServerConfig;
  session?: KeystoneSession;
}

/** Analyzer servers through Nova. */
export class NovaDriver implements Driver {
  readonly name = 'nova';
  private readonly session: KeystoneSession;
  private microversion: string | undefined;
  private flavorId: string | undefined;
  private imageId: string | undefined;
  private readonly template: string;

  constructor(private readonly o: OptionValues<typeof novaOptions>, private readonly deps: NovaDriverDeps) {
    if (o.novaAuthUrl === '') throw new DriverError('nova', 'refused', 'nova-auth-url is required with scheduler-driver nova');
    this.session = deps.session ?? new KeystoneSession({
      authUrl: o.novaAuthUrl, username: o.novaUsername, password: o.novaPassword, projectName: o.novaProjectName,
      userDomainName: o.novaUserDomainName, projectDomainName: o.novaProjectDomainName, regionName: o.novaRegionName, interface: o.novaInterface,
    });
    this.template = o.novaUserDataFile ? readFileSync(o.novaUserDataFile, 'utf8') : '';
    const dfs = o.novaAnalyzerDfsUrl || deps.analyzer.dfsUrl;
    if (dfs === '' || dfs.startsWith('file:')) deps.log.warn('nova driver: the analyzers\' DFS is a local folder; servers need a shared DFS (webhdfs://…) set with nova-analyzer-dfs-url', { dfs });
  }

  /** The negotiated microversion (asked once). */
  async negotiate(): Promise<string> {
    if (this.microversion) return this.microversion;
    const res = await this.session.request('compute', '/', { headers: { accept: 'application/json' } });
    const body = (await res.json().catch(() => ({}))) as { version?: { version?: string; min_version?: string } };
    const max = body.version?.version || '2.1';
    const min = body.version?.min_version || '2.1';
    const chosen = mvLess(max, MAX_MICROVERSION) ? max : MAX_MICROVERSION;
    if (mvLess(chosen, min)) throw new DriverError('nova', 'refused', `no common compute microversion (server ${min}..${max}, driver up to ${MAX_MICROVERSION})`);
    this.microversion = chosen;
    this.deps.log.info('nova microversion negotiated', { microversion: chosen, serverMax: max });
    return chosen;
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
    const mv = await this.negotiate();
    const res = await this.session.request('compute', path, {
      method,
      headers: { accept: 'application/json', 'OpenStack-API-Version': `compute ${mv}`, 'X-OpenStack-Nova-API-Version': mv, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch { /* a non-JSON error page */ }
    return { status: res.status, json, text };
  }

  private failure(op: string, r: { status: number; json: Record<string, unknown>; text: string }): DriverError {
    const inner = Object.values(r.json)[0] as { message?: string } | undefined;
    const message = inner?.message ?? r.text.slice(0, 300);
    const quota = r.status === 413 || (r.status === 403 && /quota/i.test(message));
    return new DriverError('nova', quota ? 'quota' : r.status >= 500 ? 'failed' : 'refused', `${op}: HTTP ${r.status}: ${message}`, { status: r.status, transient: r.status >= 500 });
  }

  private async flavor(): Promise<string> {
    if (this.flavorId) return this.flavorId;
    const direct = await this.call('GET', `/flavors/${encodeURIComponent(this.o.novaFlavor)}`);
    if (direct.status === 200) return (this.flavorId = (direct.json['flavor'] as { id: string }).id);
    const list = await this.call('GET', '/flavors');
    const hit = ((list.json['flavors'] ?? []) as { id: string; name: string }[]).find((f) => f.name === this.o.novaFlavor);
    if (!hit) throw new DriverError('nova', 'refused', `flavor ${this.o.novaFlavor} not found`);
    return (this.flavorId = hit.id);
  }

  private async image(): Promise<string> {
    if (this.imageId) return this.imageId;
    if (UUID.test(this.o.novaImage)) return (this.imageId = this.o.novaImage);
    const res = await this.session.request('image', `/v2/images?name=${encodeURIComponent(this.o.novaImage)}`, { headers: { accept: 'application/json' } });
    const images = ((await res.json().catch(() => ({}))) as { images?: { id: string }[] }).images ?? [];
    if (res.status !== 200 || !images[0]) throw new DriverError('nova', 'refused', `image ${this.o.novaImage} not found in Glance (HTTP ${res.status})`);
    return (this.imageId = images[0].id);
  }

  private serverName(member: string): string {
    return `${this.o.novaServerPrefix}${member}`;
  }

  private async findServers(nameRegex: string): Promise<Server[]> {
    const out: Server[] = [];
    let path: string | undefined = `/servers/detail?name=${encodeURIComponent(nameRegex)}`;
    while (path) {
      const r = await this.call('GET', path);
      if (r.status !== 200) throw this.failure('list servers', r);
      out.push(...((r.json['servers'] ?? []) as Server[]));
      const next = ((r.json['servers_links'] ?? []) as { rel: string; href: string }[]).find((l) => l.rel === 'next')?.href;
      path = next;
    }
    return out.filter((s) => s.metadata?.['tally-role'] === 'analyzer');
  }

  async create(spec: MemberSpec): Promise<{ ref: string }> {
    const name = this.serverName(spec.name);
    const existing = (await this.findServers(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)).find((s) => s.status !== 'DELETED' && s.status !== 'SOFT_DELETED');
    if (existing) return { ref: existing.id };
    const mv = await this.negotiate();
    const userData = renderUserData({
      name: spec.name, cluster: spec.cluster, queue: spec.queue, nodeUrl: this.o.novaNodeUrl, tallyGitUrl: this.o.novaTallyGitUrl, template: this.template,
      config: {
        ...this.deps.analyzer,
        databaseUrl: this.o.novaAnalyzerDatabaseUrl || this.deps.analyzer.databaseUrl,
        amqpUrl: this.o.novaAnalyzerAmqpUrl || this.deps.analyzer.amqpUrl,
        dfsUrl: this.o.novaAnalyzerDfsUrl || this.deps.analyzer.dfsUrl,
      },
    });
    const server: Record<string, unknown> = {
      name, flavorRef: await this.flavor(), imageRef: await this.image(),
      metadata: { 'tally-role': 'analyzer', 'tally-cluster': spec.cluster, 'tally-member': spec.name, 'tally-action': spec.actionId.slice(0, 255) },
      user_data: Buffer.from(userData, 'utf8').toString('base64'),
    };
    const net = this.o.novaNetwork;
    if (net === 'auto' || net === 'none') server['networks'] = net;
    else if (net !== '') server['networks'] = [{ uuid: net }];
    else if (!mvLess(mv, '2.37')) server['networks'] = 'none';
    if (this.o.novaKeyName) server['key_name'] = this.o.novaKeyName;
    if (!mvLess(mv, '2.52')) server['tags'] = ['tally-analyzer'];
    const r = await this.call('POST', '/servers', { server });
    if (r.status !== 202) throw this.failure(`create ${name}`, r);
    const id = (r.json['server'] as { id: string }).id;
    this.deps.log.info('nova server created', { name, id, microversion: mv });
    return { ref: id };
  }

  private static status(s: Server): DriverStatus {
    if (s.status === 'ACTIVE') return 'active';
    if (s.status === 'BUILD' || s.status === 'REBUILD') return 'building';
    if (s.status === 'DELETED' || s.status === 'SOFT_DELETED') return 'gone';
    return 'error';
  }

  async status(_cluster: string, name: string, ref: string | null): Promise<DriverMember> {
    if (!ref) return { name, ref: '', status: 'gone' };
    const r = await this.call('GET', `/servers/${encodeURIComponent(ref)}`);
    if (r.status === 404) return { name, ref, status: 'gone' };
    if (r.status !== 200) throw this.failure(`show ${ref}`, r);
    const s = r.json['server'] as Server;
    return { name, ref, status: NovaDriver.status(s), ...(s.fault?.message ? { detail: s.fault.message } : {}) };
  }

  async list(cluster: string): Promise<DriverMember[]> {
    const servers = await this.findServers(`^${this.o.novaServerPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    return servers.filter((s) => s.metadata?.['tally-cluster'] === cluster && s.metadata['tally-member']).map((s) => ({
      name: s.metadata!['tally-member']!, ref: s.id, status: NovaDriver.status(s), ...(s.status !== 'ACTIVE' && s.status !== 'BUILD' ? { detail: `${s.status}${s.fault?.message ? `: ${s.fault.message}` : ''}` } : {}),
    }));
  }

  async delete(_cluster: string, name: string, ref: string | null): Promise<void> {
    const ids = ref ? [ref] : (await this.findServers(`^${this.serverName(name)}$`)).map((s) => s.id);
    for (const id of ids) {
      const r = await this.call('DELETE', `/servers/${encodeURIComponent(id)}`);
      if (r.status !== 204 && r.status !== 404) throw this.failure(`delete ${id}`, r);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
