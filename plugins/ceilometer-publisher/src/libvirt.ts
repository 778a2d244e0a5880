/**
 * The libvirt Hypervisor: koffi (FFI) calling libvirt.so.0 directly, read-only.
 *
 * Every libvirt call that can do I/O (open, list, state, XML, metadata, stats)
 * runs through koffi's `.async()` on the libuv pool, so a slow libvirtd RPC never
 * blocks the event loop. Calls are serialised through one queue: libvirt
 * reports errors through a process-wide callback (`virSetErrorFunc`, which also
 * stops libvirt printing to stderr), and one call at a time lets the error be
 * attributed to the call that raised it. Structs are read from Buffers, so every
 * 64-bit counter comes back as an exact bigint.
 */
import koffi, { type LibraryHandle } from 'koffi';
import { UnavailableError } from '@tally/common';
import { DomainNotFoundError, DomainNotRunningError, LibvirtError, type BlockInfo, type BlockStats, type DomainRef, type Hypervisor, type InstanceStats, type InterfaceStats, type MemoryStats } from './hypervisor.js';
import { NOVA_NAMESPACES } from './metadata.js';
import { cpuFromBulk, type BulkStats } from './bulkstats.js';

type Fn = ReturnType<LibraryHandle["func"]>;
type Handle = unknown;

const VIR_ERR_NO_SUPPORT = 3;
const VIR_DOMAIN_STATS_STATE = 1;
const VIR_DOMAIN_STATS_CPU_TOTAL = 2;
const VIR_DOMAIN_STATS_VCPU = 8;
const VIR_DOMAIN_STATS_PERF = 64;
const VIR_ERR_NO_DOMAIN = 42;
const VIR_ERR_OPERATION_INVALID = 55;
const VIR_DOMAIN_METADATA_ELEMENT = 2;
/** virDomainMemoryStatTags → our field names (KiB). */
const MEM_TAGS: Record<number, keyof MemoryStats> = { 0: 'swapInKiB', 1: 'swapOutKiB', 4: 'unusedKiB', 5: 'availableKiB', 7: 'rssKiB', 8: 'usableKiB' };

interface Api {
  allStats: Fn; statsFree: Fn; statsRecord: ReturnType<typeof koffi.struct>;
  openRw: Fn; lifecycle: Record<DomainAction, Fn>;
  open: Fn; close: Fn; listAll: Fn; domFree: Fn; getName: Fn; getUUID: Fn; getState: Fn; getInfo: Fn; getXML: Fn; getMeta: Fn;
  blockStats: Fn; blockStatsFlags: Fn; blockInfo: Fn; ifStats: Fn; memStats: Fn; free: Fn;
}

let api: Api | undefined;
/** The error libvirt reported during the call in flight (set by the error callback). */
let lastError: { code: number; message: string } | undefined;

function load(): Api {
  if (api) return api;
  const lib = koffi.load('libvirt.so.0');
  const libc = koffi.load('libc.so.6');
  const virError = koffi.struct('tally_virError', { code: 'int', domain: 'int', message: 'const char *' });
  const errFunc = koffi.proto('void tally_virErrorFunc(void *userData, void *err)');
  const setErrorFunc = lib.func('void virSetErrorFunc(void *userData, tally_virErrorFunc *handler)');
  // Kept registered for the life of the process: libvirt may call it from any thread (koffi relays to the main thread).
  const cb = koffi.register((_u: unknown, err: unknown) => {
    const e = koffi.decode(err, virError) as { code: number; message: string | null };
    lastError = { code: e.code, message: e.message ?? 'unknown libvirt error' };
  }, koffi.pointer(errFunc));
  setErrorFunc(null, cb);
  const heapStr = koffi.disposable('tally_heap_str', 'str'); // freed with free() after conversion
  api = {
    allStats: lib.func('int virConnectGetAllDomainStats(void *conn, unsigned int stats, _Out_ void **retStats, unsigned int flags)'),
    statsFree: lib.func('void virDomainStatsRecordListFree(void *stats)'),
    statsRecord: koffi.struct('tally_virDomainStatsRecord', { dom: 'void *', params: 'void *', nparams: 'int' }),
    open: lib.func('void *virConnectOpenReadOnly(const char *name)'),
    openRw: lib.func('void *virConnectOpen(const char *name)'),
    lifecycle: {
      create: lib.func('int virDomainCreate(void *dom)'), destroy: lib.func('int virDomainDestroy(void *dom)'),
      suspend: lib.func('int virDomainSuspend(void *dom)'), resume: lib.func('int virDomainResume(void *dom)'),
    },
    close: lib.func('int virConnectClose(void *conn)'),
    listAll: lib.func('int virConnectListAllDomains(void *conn, _Out_ void **domains, unsigned int flags)'),
    domFree: lib.func('int virDomainFree(void *dom)'),
    getName: lib.func('const char *virDomainGetName(void *dom)'),
    getUUID: lib.func('int virDomainGetUUIDString(void *dom, void *buf)'),
    getState: lib.func('int virDomainGetState(void *dom, _Out_ int *state, _Out_ int *reason, unsigned int flags)'),
    getInfo: lib.func('int virDomainGetInfo(void *dom, void *info)'),
    getXML: lib.func('virDomainGetXMLDesc', heapStr, ['void *', 'unsigned int']),
    getMeta: lib.func('virDomainGetMetadata', heapStr, ['void *', 'int', 'const char *', 'unsigned int']),
    blockStats: lib.func('int virDomainBlockStats(void *dom, const char *disk, void *stats, size_t size)'),
    blockStatsFlags: lib.func('int virDomainBlockStatsFlags(void *dom, const char *disk, void *params, _Inout_ int *nparams, unsigned int flags)'),
    blockInfo: lib.func('int virDomainGetBlockInfo(void *dom, const char *disk, void *info, unsigned int flags)'),
    ifStats: lib.func('int virDomainInterfaceStats(void *dom, const char *device, void *stats, size_t size)'),
    memStats: lib.func('int virDomainMemoryStats(void *dom, void *stats, unsigned int nr, unsigned int flags)'),
    free: libc.func('void free(void *ptr)'),
  };
  return api;
}

/** Lifecycle actions, for tests against the test driver (they need a read-write connection). */
export type DomainAction = 'create' | 'destroy' | 'suspend' | 'resume';

/** sizeof(virTypedParameter): char field[80]; int type; (pad) union value (8 bytes). */
const TYPED_PARAM_SIZE = 96;

/** The integer-valued entries of a virTypedParameter array (INT, UINT, LLONG, ULLONG), by field name. */
function typedParams(buf: Buffer, n: number): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (let i = 0; i < n; i++) {
    const o = i * TYPED_PARAM_SIZE;
    const end = buf.indexOf(0, o);
    const field = buf.toString('latin1', o, Math.min(end < 0 ? o + 80 : end, o + 80));
    const type = buf.readInt32LE(o + 80);
    const v = type === 1 ? BigInt(buf.readInt32LE(o + 88)) : type === 2 ? BigInt(buf.readUInt32LE(o + 88))
      : type === 3 ? buf.readBigInt64LE(o + 88) : type === 4 ? buf.readBigUInt64LE(o + 88) : undefined;
    if (v !== undefined) out.set(field, v);
  }
  return out;
}

/** The libvirt-backed Hypervisor; create it with {@link openLibvirt}. */
export class LibvirtHypervisor implements Hypervisor {
  readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();
  private handles = new Map<string, Handle>();
  private conn: Handle | null;

  private constructor(private readonly a: Api, uri: string, conn: Handle) {
    this.description = uri;
    this.conn = conn;
  }

  /** Open a read-only connection (`qemu:///system`, `test:///abs/node.xml`, …). */
  static async open(uri: string, opts: { readWrite?: boolean } = {}): Promise<LibvirtHypervisor> {
    const a = load();
    const h = new LibvirtHypervisor(a, uri, null);
    const conn = opts.readWrite ? await h.call('virConnectOpen', a.openRw, uri) : await h.call('virConnectOpenReadOnly', a.open, uri);
    if (!conn) throw new UnavailableError('libvirt', `cannot open ${uri}: ${h.lastMessage ?? 'unknown error'}`);
    h.conn = conn;
    return h;
  }

  private lastMessage: string | undefined;
  private noBlockStatsFlags = false;
  /** Bulk stats of the last listing, by uuid. */
  private bulk = new Map<string, BulkStats>();

  /** What the last listing's bulk call returned for a domain (diagnostics and tests). */
  bulkStatsOf(uuid: string): BulkStats | undefined {
    return this.bulk.get(uuid);
  }

  /**
   * One `virConnectGetAllDomainStats` (state, CPU, vCPU, perf) for every domain. Drivers
   * fill what they can (the test driver only the state); failures leave the per-domain path.
   */
  private async readBulk(groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_PERF): Promise<Map<string, BulkStats>> {
    const a = this.a;
    const out: unknown[] = [null];
    const n = await this.call<number>('virConnectGetAllDomainStats', a.allStats, this.conn, groups, out, 0);
    const res = new Map<string, BulkStats>();
    if (n <= 0 || !out[0]) return res;
    try {
      for (const rp of koffi.decode(out[0], 'void *', n) as Handle[]) {
        const r = koffi.decode(rp, a.statsRecord) as { dom: Handle; params: Handle; nparams: number };
        const buf = Buffer.alloc(37);
        a.getUUID(r.dom, buf);
        const bytes = r.nparams > 0 ? Buffer.from(koffi.decode(r.params, koffi.array('uint8', r.nparams * TYPED_PARAM_SIZE)) as number[]) : Buffer.alloc(0);
        res.set(buf.toString('latin1', 0, 36), typedParams(bytes, r.nparams));
      }
    } finally {
      a.statsFree(out[0]);
    }
    return res;
  }

  /** Run one libvirt call asynchronously, strictly after the previous one. */
  private call<T = unknown>(name: string, fn: Fn, ...args: unknown[]): Promise<T> {
    const run = (): Promise<T> => new Promise<T>((resolve, reject) => {
      lastError = undefined;
      fn.async(...args, (err: unknown, res: T) => {
        this.lastMessage = lastError?.message;
        if (err) reject(new LibvirtError(name, String(err)));
        else resolve(res);
      });
    });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Turn a failed call into the right error, using what the error callback saw. */
  private failure(name: string, uuid: string): Error {
    const e = lastError;
    if (e?.code === VIR_ERR_OPERATION_INVALID) return new DomainNotRunningError(uuid);
    if (e?.code === VIR_ERR_NO_DOMAIN) return new DomainNotFoundError(uuid);
    return new LibvirtError(name, this.lastMessage ?? 'failed', e?.code);
  }

  private dom(uuid: string): Handle {
    const h = this.handles.get(uuid);
    if (h === undefined) throw new DomainNotFoundError(uuid);
    return h;
  }

  async listDomains(): Promise<DomainRef[]> {
    const a = this.a;
    const out: unknown[] = [null];
    const n = await this.call<number>('virConnectListAllDomains', a.listAll, this.conn, out, 0);
    if (n < 0) throw new LibvirtError('virConnectListAllDomains', this.lastMessage ?? 'failed');
    const ptrs = n > 0 ? (koffi.decode(out[0], 'void *', n) as Handle[]) : [];
    if (out[0]) a.free(out[0]);
    const fresh = new Map<string, Handle>();
    const domains: DomainRef[] = [];
    this.bulk = await this.readBulk();
    try {
      for (const d of ptrs) {
        // Name and UUID live in the handle itself (no RPC), so these two are synchronous.
        const buf = Buffer.alloc(37);
        a.getUUID(d, buf);
        const uuid = buf.toString('latin1', 0, 36);
        fresh.set(uuid, d);
        const name = a.getName(d) as string;
        const state = [0];
        const reason = [0];
        // The state from the bulk stats where the driver gave it (one call for all), per domain otherwise.
        const bulkState = this.bulk.get(uuid)?.get('state.state');
        if (bulkState !== undefined) state[0] = Number(bulkState);
        else if ((await this.call<number>('virDomainGetState', a.getState, d, state, reason, 0)) < 0) continue; // vanished meanwhile
        const xml = await this.call<string | null>('virDomainGetXMLDesc', a.getXML, d, 0);
        if (xml === null) continue;
        let novaMetadata: string | null = null;
        for (const ns of NOVA_NAMESPACES) {
          // Fails with VIR_ERR_NO_DOMAIN_METADATA (80) when absent: then try the next version.
          novaMetadata = await this.call<string | null>('virDomainGetMetadata', a.getMeta, d, VIR_DOMAIN_METADATA_ELEMENT, ns, 0);
          if (novaMetadata !== null) break;
        }
        domains.push({ uuid, name, state: state[0]!, xml, novaMetadata });
      }
    } finally {
      const old = this.handles;
      this.handles = fresh;
      for (const h of old.values()) await this.call('virDomainFree', a.domFree, h);
    }
    return domains;
  }

  async listStates(): Promise<{ uuid: string; state: number }[]> {
    // One bulk call for every domain's state where the driver supports it (all current ones do).
    const bulk = await this.readBulk(VIR_DOMAIN_STATS_STATE);
    const fromBulk = [...bulk].flatMap(([uuid, st]) => (st.has('state.state') ? [{ uuid, state: Number(st.get('state.state')) }] : []));
    if (fromBulk.length > 0 && fromBulk.length === bulk.size) return fromBulk;
    const a = this.a;
    const out: unknown[] = [null];
    const n = await this.call<number>('virConnectListAllDomains', a.listAll, this.conn, out, 0);
    if (n < 0) throw new LibvirtError('virConnectListAllDomains', this.lastMessage ?? 'failed');
    const ptrs = n > 0 ? (koffi.decode(out[0], 'void *', n) as Handle[]) : [];
    if (out[0]) a.free(out[0]);
    const states: { uuid: string; state: number }[] = [];
    for (const d of ptrs) {
      const buf = Buffer.alloc(37);
      a.getUUID(d, buf);
      const state = [0];
      if ((await this.call<number>('virDomainGetState', a.getState, d, state, [0], 0)) >= 0) states.push({ uuid: buf.toString('latin1', 0, 36), state: state[0]! });
      await this.call('virDomainFree', a.domFree, d);
    }
    return states;
  }

  /** Change a domain's state on this connection (opened with `readWrite`); for tests with the test driver. */
  async control(uuid: string, action: DomainAction): Promise<void> {
    const fn = this.a.lifecycle[action];
    if ((await this.call<number>(`virDomain ${action}`, fn, this.dom(uuid))) < 0) throw this.failure(`virDomain ${action}`, uuid);
  }

  async instanceStats(uuid: string): Promise<InstanceStats> {
    const d = this.dom(uuid);
    const info = Buffer.alloc(40); // virDomainInfo: uchar state; ulong maxMem; ulong memory; ushort nrVirtCpu; ullong cpuTime
    if ((await this.call<number>('virDomainGetInfo', this.a.getInfo, d, info)) < 0) throw this.failure('virDomainGetInfo', uuid);
    if (info.readUInt8(0) === 5) throw new DomainNotRunningError(uuid);
    const mem = Buffer.alloc(16 * 16); // virDomainMemoryStatStruct: int tag; ullong val (16 bytes with padding)
    const n = await this.call<number>('virDomainMemoryStats', this.a.memStats, d, mem, 16, 0);
    if (n < 0) throw this.failure('virDomainMemoryStats', uuid);
    const memory: MemoryStats = {};
    for (let i = 0; i < n; i++) {
      const key = MEM_TAGS[mem.readInt32LE(i * 16)];
      if (key) memory[key] = mem.readBigUInt64LE(i * 16 + 8);
    }
    // Ceilometer's CPU time (Σ vcpu time + wait) when the driver fills the bulk stats, virDomainGetInfo's otherwise.
    const bulk = this.bulk.get(uuid);
    const fromBulk = bulk && cpuFromBulk(bulk);
    return fromBulk ? { ...fromBulk, memory } : { cpuTimeNs: info.readBigUInt64LE(32), vcpus: info.readUInt16LE(24), memory };
  }

  async blockStats(uuid: string, dev: string): Promise<BlockStats> {
    const b = Buffer.alloc(40); // long long rd_req, rd_bytes, wr_req, wr_bytes, errs
    if ((await this.call<number>('virDomainBlockStats', this.a.blockStats, this.dom(uuid), dev, b, 40)) < 0) throw this.failure('virDomainBlockStats', uuid);
    return { rdReqs: b.readBigInt64LE(0), rdBytes: b.readBigInt64LE(8), wrReqs: b.readBigInt64LE(16), wrBytes: b.readBigInt64LE(24), ...(await this.blockTimes(uuid, dev)) };
  }

  /** `rd_total_times`/`wr_total_times` from virDomainBlockStatsFlags; empty when the driver lacks it (the test driver does). */
  private async blockTimes(uuid: string, dev: string): Promise<{ rdTotalTimesNs?: bigint; wrTotalTimesNs?: bigint }> {
    if (this.noBlockStatsFlags) return {};
    const n = [0];
    if ((await this.call<number>('virDomainBlockStatsFlags', this.a.blockStatsFlags, this.dom(uuid), dev, null, n, 0)) < 0 || n[0]! <= 0) {
      // The driver lacks the call altogether (the test driver does): stop asking.
      if (lastError?.code === VIR_ERR_NO_SUPPORT) this.noBlockStatsFlags = true;
      return {};
    }
    const buf = Buffer.alloc(n[0]! * TYPED_PARAM_SIZE);
    if ((await this.call<number>('virDomainBlockStatsFlags', this.a.blockStatsFlags, this.dom(uuid), dev, buf, n, 0)) < 0) return {};
    const p = typedParams(buf, n[0]!);
    return { ...(p.has('rd_total_times') ? { rdTotalTimesNs: p.get('rd_total_times')! } : {}), ...(p.has('wr_total_times') ? { wrTotalTimesNs: p.get('wr_total_times')! } : {}) };
  }

  async blockInfo(uuid: string, dev: string): Promise<BlockInfo> {
    const b = Buffer.alloc(24); // ullong capacity, allocation, physical
    if ((await this.call<number>('virDomainGetBlockInfo', this.a.blockInfo, this.dom(uuid), dev, b, 0)) < 0) throw this.failure('virDomainGetBlockInfo', uuid);
    return { capacity: b.readBigUInt64LE(0), allocation: b.readBigUInt64LE(8), physical: b.readBigUInt64LE(16) };
  }

  async interfaceStats(uuid: string, dev: string): Promise<InterfaceStats> {
    const b = Buffer.alloc(64); // long long rx_bytes, rx_packets, rx_errs, rx_drop, tx_bytes, tx_packets, tx_errs, tx_drop
    if ((await this.call<number>('virDomainInterfaceStats', this.a.ifStats, this.dom(uuid), dev, b, 64)) < 0) throw this.failure('virDomainInterfaceStats', uuid);
    const r = (i: number): bigint => b.readBigInt64LE(i * 8);
    return { rxBytes: r(0), rxPackets: r(1), rxErrs: r(2), rxDrop: r(3), txBytes: r(4), txPackets: r(5), txErrs: r(6), txDrop: r(7) };
  }

  async close(): Promise<void> {
    if (this.conn === null) return;
    for (const h of this.handles.values()) await this.call('virDomainFree', this.a.domFree, h);
    this.handles.clear();
    const c = this.conn;
    this.conn = null;
    await this.call('virConnectClose', this.a.close, c);
  }
}

/** Open libvirt read-only at `uri` (Ceilometer's `[DEFAULT] libvirt_uri`). */
export function openLibvirt(uri: string, opts: { readWrite?: boolean } = {}): Promise<LibvirtHypervisor> {
  return LibvirtHypervisor.open(uri, opts);
}
