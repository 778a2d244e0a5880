/**
 * Hadoop Streaming executables (`bin/tally-mapper.js`, `bin/tally-reducer.js`): stdin
 * lines in, `key\tvalue` lines out. The mapper skips unreadable lines and reports
 * them on stderr as a Hadoop counter (`reporter:counter:tally,bad_lines,1`).
 */
import { createInterface } from 'node:readline';
import { parseDuration } from '@tally/common';
import { mapLine, reduceGroup, formatUsageLine, type JobOptions } from './streaming.js';
import { parseInstant } from './reprocess.js';

function writer(): { write(line: string): void; end(): Promise<void> } {
  let buf: string[] = [];
  let size = 0;
  const flush = (): boolean => {
    const ok = process.stdout.write(buf.join(''));
    buf = [];
    size = 0;
    return ok;
  };
  return {
    write(line) {
      buf.push(line, '\n');
      size += line.length + 1;
      if (size > 1 << 16) flush();
    },
    end: () => new Promise((resolve) => {
      flush();
      process.stdout.write('', () => resolve());
    }),
  };
}

/** `tally-mapper`: raw sample lines → `key\tvalue` lines. */
export async function mapperMain(): Promise<number> {
  const out = writer();
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    try {
      for (const m of mapLine(line)) out.write(m);
    } catch (e) {
      process.stderr.write(`reporter:counter:tally,bad_lines,1\ntally-mapper: skipped a line: ${(e as Error).message}\n`);
    }
  }
  await out.end();
  return 0;
}

/** Parse `--gap-threshold 630s --since … --until …`. */
export function reducerOptions(argv: readonly string[]): JobOptions {
  const o: JobOptions = { gapThresholdUs: 630_000_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--gap-threshold') o.gapThresholdUs = parseDuration(value) * 1000;
    else if (flag === '--since') o.fromUs = parseInstant(value, 'since');
    else if (flag === '--until') o.toUs = parseInstant(value, 'until');
    else throw new Error(`tally-reducer: unknown argument ${String(flag)} (known: --gap-threshold, --since, --until)`);
  }
  return o;
}

/** `tally-reducer`: sorted `key\tvalue` lines → usage lines. */
export async function reducerMain(argv: readonly string[]): Promise<number> {
  const o = reducerOptions(argv);
  const out = writer();
  let key: string | undefined;
  let values: string[] = [];
  const flush = (): void => {
    if (key !== undefined) for (const r of reduceGroup(key, values, o)) out.write(formatUsageLine(r));
  };
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const k = tab < 0 ? line : line.slice(0, tab);
    if (k !== key) {
      flush();
      key = k;
      values = [];
    }
    values.push(tab < 0 ? '' : line.slice(tab + 1));
  }
  flush();
  await out.end();
  return 0;
}
