/**
 * The local billing file: an on-disk journal of every message the agent is
 * about to publish. A cycle's messages are appended (and fsynced) before the
 * first publish; a record leaves the journal only after the broker's confirm.
 *
 * Layout of `dir`:
 * - `pending.jsonl` — one line per message, `{"seq":N,"ts":"<sample timestamp>","samples":[…]}`
 *   (Python JSON, so counters above 2^53 and int/float survive), and `{"ack":N}` lines
 *   written after each confirm. Records are published strictly in order, so the confirmed
 *   ones are always a prefix: on open, every record after the last ack is pending.
 *   The file is rewritten (tmp, fsync, rename) without its confirmed prefix once that
 *   prefix is all of it or larger than {@link COMPACT_BYTES}.
 * - `sent/<YYYY-MM-DDTHH>.jsonl` — confirmed records by the hour of their sample
 *   timestamp, kept `retention` for re-publishing on request (upload), then deleted.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError, defineOptions, opt, type Logger } from '@tally/common';
import { dumps, parsePy, type PyDict } from './pyjson.js';

/** Options of the journal. */
export const journalOptions = defineOptions('agent-journal', "the polling agent's local billing file (journal of unconfirmed and recently sent samples)", {
  journalDir: opt.string({ name: 'journal-dir', default: '', help: 'Folder of the journal. Empty: <data-dir>/agent-journal.' }),
  journalMaxBytes: opt.int({ name: 'journal-max-bytes', default: 256 * 1024 * 1024, min: 4096, help: 'Most bytes of unconfirmed samples kept while the bus is away. When full, new samples are dropped, counted and logged at ERROR each cycle.' }),
  journalRetention: opt.duration({ name: 'journal-retention', default: '2d', minMs: 0, help: 'How long confirmed samples are kept (by sample timestamp) for `tally agent upload`. 0 keeps none.' }),
});

/** Rewrite `pending.jsonl` when its confirmed prefix grows beyond this. */
export const COMPACT_BYTES = 4 * 1024 * 1024;

/** One journaled message: the signed sample dicts of one meter batch. */
export interface JournalRecord {
  seq: number;
  /** The samples' timestamp (Python isoformat, naive UTC). */
  ts: string;
  /** The sample dicts, serialised by `dumps` (published as they are). */
  samplesJson: string;
  /** The sample dicts, parsed on demand. */
  samples(): PyDict[];
}

interface Entry {
  seq: number;
  ts: string;
  line: string;
}

const SAMPLES_KEY = '"samples": ';

function record(e: Entry): JournalRecord {
  // The line is `{"seq": …, "ts": "…", "samples": […]}`; ts is JSON-escaped, so the first key match is the key.
  const samplesJson = e.line.slice(e.line.indexOf(SAMPLES_KEY) + SAMPLES_KEY.length, -1);
  return { seq: e.seq, ts: e.ts, samplesJson, samples: () => (parsePy(e.line) as PyDict)['samples'] as PyDict[] };
}

/** Counters of a journal, for logs and tests. */
export interface JournalStats {
  appended: number;
  confirmed: number;
  /** Samples refused because the journal was full. */
  droppedSamples: number;
  /** Cycles in which the journal was full. */
  fullAlarms: number;
}

/** Journal settings; `dir` undefined keeps everything in memory (tests, benchmarks). */
export interface JournalSettings {
  dir?: string;
  /** Only read (for `tally agent upload` beside a running agent): never writes. */
  readOnly?: boolean;
  maxBytes: number;
  retentionMs: number;
}

const ms = (ts: string): number => Date.parse(ts.endsWith('Z') ? ts : ts + 'Z');
const hourKey = (ts: string): string => ts.slice(0, 13);

/** The journal; see the module comment. Not safe for two processes on one folder. */
export class Journal {
  readonly stats: JournalStats = { appended: 0, confirmed: 0, droppedSamples: 0, fullAlarms: 0 };
  private pending: Entry[] = [];
  private pendingBytes = 0;
  private ackedBytes = 0;
  private nextSeq = 1;
  private fd: number | undefined;
  /** Confirmed records kept in memory when there is no folder. */
  private readonly memSent: Entry[] = [];

  private constructor(private readonly s: JournalSettings, private readonly log: Logger) {}

  /** Open (or create) the journal in `settings.dir` and load what is still pending. */
  static open(settings: JournalSettings, log: Logger): Journal {
    const j = new Journal(settings, log);
    if (settings.dir !== undefined) j.load(settings.dir);
    return j;
  }

  private load(dir: string): void {
    if (!this.s.readOnly) {
      mkdirSync(join(dir, 'sent'), { recursive: true });
      lock(dir);
    }
    const path = join(dir, 'pending.jsonl');
    const records: Entry[] = [];
    let acked = 0;
    if (existsSync(path)) {
      const lines = readFileSync(path, 'utf8').split('\n');
      for (const [i, line] of lines.entries()) {
        if (line === '') continue;
        let v;
        try {
          v = parsePy(line) as PyDict;
        } catch (e) {
          // Only the last line can be torn (a crash mid-append); anything else is corruption worth shouting about.
          if (i < lines.length - 2) this.log.error('journal line unreadable; skipped', { path, line: i + 1, err: e });
          continue;
        }
        if (typeof v['ack'] === 'bigint') acked = Math.max(acked, Number(v['ack']));
        else if (typeof v['seq'] === 'bigint') records.push({ seq: Number(v['seq']), ts: String(v['ts']), line });
      }
    }
    this.pending = records.filter((r) => r.seq > acked);
    this.pendingBytes = this.pending.reduce((n, r) => n + r.line.length + 1, 0);
    this.nextSeq = records.reduce((m, r) => Math.max(m, r.seq), acked) + 1;
    if (this.s.readOnly) return;
    this.rewrite();
    if (this.pending.length > 0) this.log.warn('journal holds unconfirmed samples from a previous run; replaying', { messages: this.pending.length, bytes: this.pendingBytes });
  }

  private get path(): string {
    return join(this.s.dir!, 'pending.jsonl');
  }

  /** Replace pending.jsonl by the unconfirmed records only (tmp file, fsync, rename). */
  private rewrite(): void {
    if (this.s.dir === undefined) return;
    if (this.fd !== undefined) closeSync(this.fd);
    const tmp = this.path + '.tmp';
    const fd = openSync(tmp, 'w');
    if (this.pending.length > 0) writeSync(fd, this.pending.map((r) => r.line + '\n').join(''));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    const dfd = openSync(this.s.dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
    this.fd = openSync(this.path, 'a');
    this.ackedBytes = 0;
  }

  /**
   * Append the messages of one cycle (each a list of signed sample dicts with one
   * timestamp) and fsync once. Messages that do not fit under `maxBytes` are
   * refused: counted in `droppedSamples` and logged at ERROR.
   */
  append(messages: readonly PyDict[][]): { appended: number; droppedSamples: number } {
    if (this.s.readOnly) throw new Error('journal opened read-only');
    const lines: string[] = [];
    let dropped = 0;
    for (const samples of messages) {
      const ts = String(samples[0]?.['timestamp'] ?? '');
      const seq = this.nextSeq;
      const line = `{"seq": ${seq}, "ts": ${JSON.stringify(ts)}, "samples": ${dumps(samples)}}`;
      if (this.pendingBytes + line.length + 1 > this.s.maxBytes) {
        dropped += samples.length;
        continue;
      }
      this.nextSeq++;
      this.pending.push({ seq, ts, line });
      this.pendingBytes += line.length + 1;
      lines.push(line + '\n');
    }
    if (this.fd !== undefined && lines.length > 0) {
      writeSync(this.fd, lines.join(''));
      fsyncSync(this.fd);
    }
    this.stats.appended += lines.length;
    if (dropped > 0) {
      this.stats.droppedSamples += dropped;
      this.stats.fullAlarms++;
      this.log.error('JOURNAL FULL: samples dropped (the bus has been away too long; raise journal-max-bytes or restore the bus)', {
        droppedSamples: dropped, totalDroppedSamples: this.stats.droppedSamples, pendingBytes: this.pendingBytes, maxBytes: this.s.maxBytes,
      });
    }
    return { appended: lines.length, droppedSamples: dropped };
  }

  /** The oldest unconfirmed record. */
  head(): JournalRecord | undefined {
    const e = this.pending[0];
    return e && record(e);
  }

  /** The `n` oldest unconfirmed records, oldest first. */
  peek(n: number): JournalRecord[] {
    return this.pending.slice(0, n).map(record);
  }

  /** Unconfirmed messages and their bytes. */
  get depth(): { messages: number; bytes: number } {
    return { messages: this.pending.length, bytes: this.pendingBytes };
  }

  /** Record the broker's confirm of the head record `seq`; moves it to the sent store. */
  ack(seq: number): void {
    const e = this.pending[0];
    if (!e || e.seq !== seq) throw new Error(`journal: ack ${seq} is not the head (${e?.seq ?? 'empty'})`);
    this.pending.shift();
    this.pendingBytes -= e.line.length + 1;
    this.stats.confirmed++;
    this.keepSent(e);
    if (this.fd === undefined) return;
    const ackLine = `{"ack": ${seq}}\n`;
    writeSync(this.fd, ackLine);
    this.ackedBytes += e.line.length + 1 + ackLine.length;
    if (this.pending.length === 0 || this.ackedBytes > COMPACT_BYTES) this.rewrite();
  }

  private keepSent(e: Entry): void {
    if (this.s.retentionMs <= 0) return;
    if (this.s.dir === undefined) {
      this.memSent.push(e);
      return;
    }
    const fd = openSync(join(this.s.dir, 'sent', `${hourKey(e.ts)}.jsonl`), 'a');
    try {
      writeSync(fd, e.line + '\n');
    } finally {
      closeSync(fd);
    }
  }

  /** Delete sent records whose hour ended more than `retention` before `now`. */
  prune(now: Date): number {
    const limit = now.getTime() - this.s.retentionMs;
    if (this.s.dir === undefined) {
      const before = this.memSent.length;
      this.memSent.splice(0, this.memSent.length, ...this.memSent.filter((e) => ms(e.ts) >= limit));
      return before - this.memSent.length;
    }
    let removed = 0;
    for (const f of readdirSync(join(this.s.dir, 'sent'))) {
      const hour = /^(\d{4}-\d\d-\d\dT\d\d)\.jsonl$/.exec(f)?.[1];
      if (hour && ms(`${hour}:00:00`) + 3_600_000 <= limit) {
        rmSync(join(this.s.dir, 'sent', f), { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Every record (sent or still pending) with a sample timestamp in `[since, until)`, oldest hour first. */
  *range(since: Date, until: Date): Generator<JournalRecord> {
    const inRange = (e: Entry): boolean => ms(e.ts) >= since.getTime() && ms(e.ts) < until.getTime();
    const sent = this.s.dir === undefined ? this.memSent : readSentFiles(join(this.s.dir, 'sent'), since, until, this.log);
    for (const e of [...sent, ...this.pending]) if (inRange(e)) yield record(e);
  }

  /** Close the file; pending records stay on disk for the next run. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(join(this.s.dir!, 'lock'), { force: true });
  }
}

/** One writer per folder: a `lock` file with the owner's pid (a dead owner's lock is taken over). */
function lock(dir: string): void {
  const path = join(dir, 'lock');
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(path, 'utf8'));
    let alive: boolean;
    try {
      alive = pid > 0 && pid !== process.pid && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) throw new UnavailableError('journal', `journal ${dir} is in use by process ${pid}`);
    rmSync(path, { force: true });
  }
}

/** Read the sent files whose hour overlaps `[since, until)`. */
function readSentFiles(dir: string, since: Date, until: Date, log: Logger): Entry[] {
  const out: Entry[] = [];
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const f of files) {
    const hour = /^(\d{4}-\d\d-\d\dT\d\d)\.jsonl$/.exec(f)?.[1];
    if (!hour) continue;
    const start = ms(`${hour}:00:00`);
    if (start + 3_600_000 <= since.getTime() || start >= until.getTime()) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const v = parsePy(line) as PyDict;
        out.push({ seq: Number(v['seq']), ts: String(v['ts']), line });
      } catch (e) {
        log.warn('sent journal line unreadable; skipped', { file: f, err: e });
      }
    }
  }
  return out;
}
