/**
 * A small WebHDFS server for tests — NOT a real HDFS (no replication, no blocks, files
 * in memory). It follows the WebHDFS REST API where the client can tell: a namenode
 * port and a datanode port, 307 redirects for CREATE/APPEND/OPEN, 201 Created on
 * create, `{"boolean": …}` answers, RemoteException JSON bodies with the Java
 * exception names, `user.name` and delegation-token authentication, and injectable faults.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault to inject on the next matching request(s). */
export interface Fault {
  op: string;
  /** Which step: the namenode (step one) or the datanode (step two). */
  at: 'namenode' | 'datanode';
  /** `status500`: answer 500 with a RemoteException; `reset`: destroy the socket without answering. */
  kind: 'status500' | 'reset';
  times: number;
}

export interface WebHdfsServerOptions {
  /** Valid delegation tokens and the user each stands for. */
  tokens?: Record<string, string>;
  /** Refuse requests carrying neither user.name nor a valid token (401). */
  requireUser?: boolean;
}

interface Req {
  op: string;
  path: string;
  q: URLSearchParams;
  user: string | undefined;
}

/** The fake cluster: `namenodeUrl` is what a client needs. */
export class WebHdfsTestServer {
  readonly files = new Map<string, Buffer>();
  readonly dirs = new Set<string>(['/']);
  /** Every request as `<port kind> <method> <op> <path> <user>`, for assertions. */
  readonly log: string[] = [];
  private faults: Fault[] = [];
  private nn: Server | undefined;
  private dn: Server | undefined;
  private dnPort = 0;
  namenodeUrl = '';

  constructor(private readonly opts: WebHdfsServerOptions = {}) {}

  async start(): Promise<this> {
    this.nn = createServer((req, res) => void this.handle('namenode', req, res));
    this.dn = createServer((req, res) => void this.handle('datanode', req, res));
    const listen = (s: Server): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
    this.namenodeUrl = `http://127.0.0.1:${await listen(this.nn)}`;
    this.dnPort = await listen(this.dn);
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.nn, this.dn]) {
      if (!s) continue;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  inject(f: Fault): void {
    this.faults.push({ ...f });
  }

  private takeFault(at: Fault['at'], op: string): Fault | undefined {
    const f = this.faults.find((x) => x.at === at && x.op === op && x.times > 0);
    if (f) f.times--;
    return f;
  }

  private parent(path: string): string {
    return path.slice(0, path.lastIndexOf('/')) || '/';
  }

  private mkdirs(path: string): boolean {
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (const p of parts) {
      cur += `/${p}`;
      if (this.files.has(cur)) return false;
      this.dirs.add(cur);
    }
    return true;
  }

  private async handle(kind: 'namenode' | 'datanode', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
    };
    const remote = (status: number, exception: string, message: string): void =>
      send(status, { RemoteException: { exception, javaClassName: exception === 'FileNotFoundException' ? 'java.io.FileNotFoundException' : `org.apache.hadoop.${exception}`, message } });
    if (!u.pathname.startsWith('/webhdfs/v1/')) return remote(404, 'IllegalArgumentException', `not a WebHDFS path: ${u.pathname}`);
    const path = decodeURIComponent(u.pathname.slice('/webhdfs/v1'.length)).replace(/\/+$/, '') || '/';
    const op = (u.searchParams.get('op') ?? '').toUpperCase();
    const token = u.searchParams.get('delegation');
    let user = u.searchParams.get('user.name') ?? undefined;
    if (token !== null) {
      user = this.opts.tokens?.[token];
      if (!user) return remote(403, 'SecurityException', 'Failed to obtain user group information: token is invalid or expired');
    }
    this.log.push(`${kind} ${req.method} ${op} ${path} ${user ?? '-'}`);
    if (this.opts.requireUser && !user) return remote(401, 'SecurityException', 'Authentication required');
    const fault = this.takeFault(kind, op);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status500') return remote(500, 'IOException', `injected fault on ${op}`);
    const r: Req = { op, path, q: u.searchParams, user };
    if (kind === 'datanode') return this.datanode(req, res, r, send, remote);
    const toDatanode = (): void => {
      const q = new URLSearchParams(u.searchParams);
      q.set('namenoderpcaddress', new URL(this.namenodeUrl).host);
      send(307, undefined, { location: `http://127.0.0.1:${this.dnPort}${u.pathname}?${q.toString()}` });
    };
    switch (`${req.method} ${op}`) {
      case 'PUT CREATE':
        if (this.dirs.has(path)) return remote(403, 'FileAlreadyExistsException', `${path} is a directory`);
        if (this.files.has(path) && r.q.get('overwrite') === 'false') return remote(403, 'FileAlreadyExistsException', `${path} for client already exists`);
        return toDatanode();
      case 'POST APPEND':
      case 'GET OPEN':
        if (!this.files.has(path)) return remote(404, 'FileNotFoundException', `File does not exist: ${path}`);
        return toDatanode();
      case 'PUT MKDIRS':
        return this.mkdirs(path) ? send(200, { boolean: true }) : remote(403, 'ParentNotDirectoryException', `a file is in the way of ${path}`);
      case 'PUT RENAME': {
        const dest = r.q.get('destination') ?? '';
        if (!dest.startsWith('/')) return remote(400, 'IllegalArgumentException', 'destination must be an absolute path');
        const data = this.files.get(path);
        if (!data || this.files.has(dest) || this.dirs.has(dest) || !this.dirs.has(this.parent(dest))) return send(200, { boolean: false });
        this.files.delete(path);
        this.files.set(dest, data);
        return send(200, { boolean: true });
      }
      case 'DELETE DELETE': {
        if (this.files.delete(path)) return send(200, { boolean: true });
        if (!this.dirs.has(path)) return send(200, { boolean: false });
        const inside = [...this.files.keys(), ...this.dirs].some((p) => p.startsWith(`${path}/`));
        if (inside && r.q.get('recursive') !== 'true') return remote(403, 'PathIsNotEmptyDirectoryException', `${path} is non empty': Directory is not empty`);
        for (const p of [...this.files.keys()]) if (p.startsWith(`${path}/`)) this.files.delete(p);
        for (const p of [...this.dirs]) if (p === path || p.startsWith(`${path}/`)) this.dirs.delete(p);
        return send(200, { boolean: true });
      }
      case 'GET LISTSTATUS': {
        const status = (suffix: string, full: string): Record<string, unknown> => {
          const file = this.files.get(full);
          return { pathSuffix: suffix, type: file ? 'FILE' : 'DIRECTORY', length: file?.length ?? 0, owner: user ?? 'hdfs', group: 'supergroup', permission: file ? '644' : '755', replication: file ? 1 : 0, blockSize: file ? 134217728 : 0, modificationTime: 0, accessTime: 0, fileId: 0, childrenNum: 0, storagePolicy: 0 };
        };
        if (this.files.has(path)) return send(200, { FileStatuses: { FileStatus: [status('', path)] } });
        if (!this.dirs.has(path)) return remote(404, 'FileNotFoundException', `File ${path} does not exist.`);
        const prefix = path === '/' ? '/' : `${path}/`;
        const names = new Set<string>();
        for (const p of [...this.files.keys(), ...this.dirs]) if (p.startsWith(prefix) && p !== path) names.add(p.slice(prefix.length).split('/')[0] as string);
        return send(200, { FileStatuses: { FileStatus: [...names].sort().map((n) => status(n, prefix + n)) } });
      }
      default:
        return remote(400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "op": ${req.method} ${op}`);
    }
  }

  private async datanode(req: IncomingMessage, res: ServerResponse, r: Req, send: (s: number, b?: unknown, h?: Record<string, string>) => void, remote: (s: number, e: string, m: string) => void): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === 'PUT' && r.op === 'CREATE') {
      if (this.files.has(r.path) && r.q.get('overwrite') === 'false') return remote(403, 'FileAlreadyExistsException', `${r.path} for client already exists`);
      if (!this.mkdirs(this.parent(r.path))) return remote(403, 'ParentNotDirectoryException', `a file is in the way of ${r.path}`);
      this.files.set(r.path, body);
      return send(201, undefined, { location: `hdfs://${new URL(this.namenodeUrl).host}${r.path}` });
    }
    if (req.method === 'POST' && r.op === 'APPEND') {
      const old = this.files.get(r.path);
      if (!old) return remote(404, 'FileNotFoundException', `File does not exist: ${r.path}`);
      this.files.set(r.path, Buffer.concat([old, body]));
      return send(200);
    }
    if (req.method === 'GET' && r.op === 'OPEN') {
      const data = this.files.get(r.path);
      if (!data) return remote(404, 'FileNotFoundException', `File does not exist: ${r.path}`);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) }).end(data);
      return;
    }
    return remote(400, 'IllegalArgumentException', `Invalid datanode operation ${req.method} ${r.op}`);
  }
}
