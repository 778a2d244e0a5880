/**
 * The `local` driver: members are `tally analyzer` processes on this machine (the
 * embedded default, so `tally start` shows the scheduler at work without a cloud).
 * How a member is started is injected: {@link ProcessLauncher} spawns `tally analyzer`
 * child processes (needs RabbitMQ and a PostgreSQL they can reach); inside `tally start`,
 * where the bus is in-process, the CLI passes a launcher that starts analyzers in the same
 * process instead. A member the driver did not start in this run is unknown to it: after a
 * scheduler restart its old members are reported gone and forgotten (their processes, if
 * still alive, keep running as unmanaged analyzers and are counted, never removed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@tally/common';
import { DriverError, type Driver, type DriverMember, type MemberSpec } from './types.js';

/** A started analyzer. */
export interface LaunchedAnalyzer {
  /** `pid:1234` or `in-process:<name>`. */
  readonly ref: string;
  /** Resolves with the exit code (0 after a drain) once it has stopped. */
  readonly exited: Promise<number | null>;
  /** Ask it to stop (SIGTERM: it stops intake, writes and acknowledges its batch, deregisters). */
  stop(): Promise<void>;
}

export interface Launcher {
  launch(spec: MemberSpec): Promise<LaunchedAnalyzer>;
}

/**
 * Spawns `node <tally> analyzer --analyzer-id <name> --component-cluster <cluster>
 * --analyzer-queue <queue> <args…>`; output goes to `<logDir>/<name>.log`.
 */
export class ProcessLauncher implements Launcher {
  constructor(private readonly o: { tallyBin: string; args: readonly string[]; env?: NodeJS.ProcessEnv; logDir: string; stopTimeoutMs?: number }) {}

  launch(spec: MemberSpec): Promise<LaunchedAnalyzer> {
    mkdirSync(this.o.logDir, { recursive: true });
    const out = createWriteStream(join(this.o.logDir, `${spec.name}.log`), { flags: 'a' });
    const child: ChildProcess = spawn(process.execPath, [this.o.tallyBin, 'analyzer', '--analyzer-id', spec.name, '--component-cluster', spec.cluster, '--analyzer-queue', spec.queue, ...this.o.args], {
      env: { ...process.env, ...this.o.env, TALLY_LOG_FORMAT: 'pretty' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
      out.end();
      resolve(code);
    }));
    return new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new DriverError('local', 'failed', `cannot start tally analyzer: ${err.message}`, { cause: err })));
      child.once('spawn', () => resolve({
        ref: `pid:${child.pid}`,
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), this.o.stopTimeoutMs ?? 60_000);
          await exited;
          clearTimeout(t);
        },
      }));
    });
  }
}

interface Entry { cluster: string; launched: LaunchedAnalyzer; code: number | null | undefined; stopping: boolean }

/** Members as processes (or in-process analyzers) of this machine. */
export class LocalDriver implements Driver {
  readonly name = 'local';
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly launcher: Launcher, private readonly log: Logger) {}

  async create(spec: MemberSpec): Promise<{ ref: string }> {
    const e = this.entries.get(spec.name);
    if (e && e.code === undefined) return { ref: e.launched.ref };
    const launched = await this.launcher.launch(spec);
    const entry: Entry = { cluster: spec.cluster, launched, code: undefined, stopping: false };
    this.entries.set(spec.name, entry);
    void launched.exited.then((code) => {
      entry.code = code;
      if (!entry.stopping && code !== 0) this.log.warn('a local analyzer exited on its own', { member: spec.name, code });
    });
    return { ref: launched.ref };
  }

  private member(name: string, e: Entry | undefined): DriverMember {
    if (!e) return { name, ref: '', status: 'gone' };
    if (e.code === undefined) return { name, ref: e.launched.ref, status: 'active' };
    // A drained or stopped analyzer exits 0; anything else is a failure.
    return e.code === 0 || e.stopping ? { name, ref: e.launched.ref, status: 'gone' } : { name, ref: e.launched.ref, status: 'error', detail: `exited with code ${e.code}` };
  }

  status(_cluster: string, name: string): Promise<DriverMember> {
    return Promise.resolve(this.member(name, this.entries.get(name)));
  }

  list(cluster: string): Promise<DriverMember[]> {
    return Promise.resolve([...this.entries].filter(([, e]) => e.cluster === cluster).map(([name, e]) => this.member(name, e)));
  }

  async delete(_cluster: string, name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    e.stopping = true;
    await e.launched.stop();
    this.entries.delete(name);
  }

  /** Stop every analyzer this driver started (each drains on SIGTERM). */
  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.delete('', n)));
  }
}
