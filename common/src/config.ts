/**
 * Declarative configuration, in the oslo.config spirit: every option is declared
 * next to the code that reads it (type, laptop-friendly default, help, bounds,
 * secret flag); `renderSample` prints a sample built from all declarations.
 *
 * Sources, highest first: command-line flags (`--amqp-url`), the environment
 * (`TALLY_AMQP_URL`), a YAML config file (`amqp-url: …`), the declared default.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.js';

interface BaseDecl {
  /** Kebab-case name: the flag, the file key, and (upper-snake) the env suffix. */
  name: string;
  help: string;
  secret?: boolean;
  /** A flag for one command run (e.g. `--once`): not read from file or environment, not in the sample. */
  cliOnly?: boolean;
}
export interface StringDecl extends BaseDecl { type: 'string'; default: string; pattern?: RegExp }
export interface IntDecl extends BaseDecl { type: 'int'; default: number; min?: number; max?: number }
export interface BoolDecl extends BaseDecl { type: 'bool'; default: boolean }
export interface EnumDecl<T extends string = string> extends BaseDecl { type: 'enum'; default: T; choices: readonly T[] }
/** A URL whose scheme must be one of `schemes`; the empty string means "not set". */
export interface UrlDecl extends BaseDecl { type: 'url'; default: string; schemes: readonly string[] }
/** A duration, given as seconds (`300`) or with a unit (`500ms`, `10s`, `5m`, `2h`, `1d`); read as milliseconds. */
export interface DurationDecl extends BaseDecl { type: 'duration'; default: string; minMs?: number }
/** An exact decimal, kept as its string form (money, prices). */
export interface DecimalDecl extends BaseDecl { type: 'decimal'; default: string }

export type OptionDecl = StringDecl | IntDecl | BoolDecl | EnumDecl | UrlDecl | DurationDecl | DecimalDecl;

type ValueOf<D> = D extends IntDecl ? number
  : D extends BoolDecl ? boolean
  : D extends DurationDecl ? number
  : D extends EnumDecl<infer T> ? T
  : string;

export interface OptionGroup<S extends Record<string, OptionDecl> = Record<string, OptionDecl>> {
  /** Section title in the sample, e.g. `bus`, `agent`. */
  readonly group: string;
  readonly description: string;
  readonly options: S;
}

export type OptionValues<G> = G extends OptionGroup<infer S> ? { [K in keyof S]: ValueOf<S[K]> } : never;

/** Declare a group of options; keep it beside the code that reads them. */
export function defineOptions<S extends Record<string, OptionDecl>>(group: string, description: string, options: S): OptionGroup<S> {
  return { group, description, options };
}

/** Declaration helpers, so declarations read as data. */
export const opt = {
  string: (d: Omit<StringDecl, 'type'>): StringDecl => ({ type: 'string', ...d }),
  int: (d: Omit<IntDecl, 'type'>): IntDecl => ({ type: 'int', ...d }),
  bool: (d: Omit<BoolDecl, 'type'>): BoolDecl => ({ type: 'bool', ...d }),
  enum: <const T extends string>(d: BaseDecl & { default: NoInfer<T>; choices: readonly T[] }): EnumDecl<T> => ({ type: 'enum', ...d }),
  url: (d: Omit<UrlDecl, 'type'>): UrlDecl => ({ type: 'url', ...d }),
  duration: (d: Omit<DurationDecl, 'type'>): DurationDecl => ({ type: 'duration', ...d }),
  decimal: (d: Omit<DecimalDecl, 'type'>): DecimalDecl => ({ type: 'decimal', ...d }),
};

export function envName(optionName: string): string {
  return 'TALLY_' + optionName.toUpperCase().replace(/-/g, '_');
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse `300`, `10s`, `1.5h`, `250ms` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 300, 10s, 5m, 2h)`);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000));
}

function coerce(d: OptionDecl, raw: unknown): unknown {
  const text = typeof raw === 'string' ? raw : raw === null || raw === undefined ? '' : String(raw);
  switch (d.type) {
    case 'string':
      if (d.pattern && text !== '' && !d.pattern.test(text)) throw new Error(`must match ${String(d.pattern)}`);
      return text;
    case 'int': {
      if (!/^-?\d+$/.test(text.trim())) throw new Error(`must be an integer, got ${JSON.stringify(text)}`);
      const n = Number(text);
      if (d.min !== undefined && n < d.min) throw new Error(`must be >= ${d.min}, got ${n}`);
      if (d.max !== undefined && n > d.max) throw new Error(`must be <= ${d.max}, got ${n}`);
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (/^(1|true|yes|on)$/i.test(text)) return true;
      if (/^(0|false|no|off)$/i.test(text)) return false;
      throw new Error(`must be true or false, got ${JSON.stringify(text)}`);
    case 'enum':
      if (!d.choices.includes(text)) throw new Error(`must be one of ${d.choices.join(', ')}, got ${JSON.stringify(text)}`);
      return text;
    case 'url': {
      if (text === '') return '';
      let u: URL;
      try {
        u = new URL(text);
      } catch {
        throw new Error(`not a URL: ${JSON.stringify(text)}`);
      }
      const scheme = u.protocol.replace(/:$/, '');
      if (!d.schemes.includes(scheme)) throw new Error(`scheme must be one of ${d.schemes.join(', ')}, got ${scheme}`);
      return text;
    }
    case 'duration': {
      const ms = parseDuration(text);
      if (d.minMs !== undefined && ms < d.minMs) throw new Error(`must be at least ${d.minMs} ms`);
      return ms;
    }
    case 'decimal':
      if (!/^-?\d+(\.\d+)?$/.test(text.trim())) throw new Error(`must be a decimal number, got ${JSON.stringify(text)}`);
      return text.trim();
  }
}

export interface LoadInput {
  /** Every group the program knows; keys outside them are errors in files and flags. */
  known: readonly OptionGroup[];
  /** Groups the running command uses; flags for other groups are errors. */
  used: readonly OptionGroup[];
  /** Command-line arguments after the command name. */
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Config file path; defaults to `--config` or `TALLY_CONFIG`. */
  configFile?: string;
}

export interface LoadedConfig {
  /** Typed values of one group (which must be in `used`). */
  get<G extends OptionGroup>(group: G): OptionValues<G>;
  /** Positional arguments left after the flags. */
  readonly positionals: readonly string[];
  /** Where each option's value came from: flag, env, file or default. */
  readonly sources: ReadonlyMap<string, string>;
}

/**
 * Load and validate configuration. Collects every problem and throws one
 * ConfigError listing them all.
 */
export function loadConfig(input: LoadInput): LoadedConfig {
  const env = input.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const allDecls = new Map<string, OptionDecl>();
  for (const g of input.known) for (const d of Object.values(g.options)) allDecls.set(d.name, d);
  const usedDecls = new Map<string, OptionDecl>();
  for (const g of input.used) for (const d of Object.values(g.options)) usedDecls.set(d.name, d);

  // Flags.
  const flags = new Map<string, string | boolean>();
  const positionals: string[] = [];
  let configFile = input.configFile;
  const args = [...input.argv];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') { positionals.push(...args.slice(i + 1)); break; }
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    let name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    let value: string | boolean | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
    if (name === 'config') {
      configFile = typeof value === 'string' ? value : args[++i];
      if (!configFile) issues.push({ option: 'config', source: 'flag', message: 'needs a file path' });
      continue;
    }
    let decl = usedDecls.get(name);
    if (!decl && name.startsWith('no-') && usedDecls.get(name.slice(3))?.type === 'bool') {
      name = name.slice(3);
      decl = usedDecls.get(name);
      value = false;
    }
    if (!decl) {
      issues.push({ option: name, source: 'flag', message: allDecls.has(name) ? 'not used by this command' : 'unknown option' });
      continue;
    }
    if (value === undefined) {
      if (decl.type === 'bool') value = true;
      else {
        const next = args[i + 1];
        if (next === undefined || next.startsWith('--')) {
          issues.push({ option: name, source: 'flag', message: 'needs a value' });
          continue;
        }
        value = next;
        i++;
      }
    }
    flags.set(name, value);
  }

  // File.
  configFile ??= env['TALLY_CONFIG'] || undefined;
  let fileValues: Record<string, unknown> = {};
  if (configFile) {
    try {
      const parsed: unknown = parseYaml(readFileSync(configFile, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be a mapping of option names');
        fileValues = parsed as Record<string, unknown>;
      }
    } catch (e) {
      issues.push({ option: 'config', source: configFile, message: (e as Error).message });
    }
    for (const key of Object.keys(fileValues)) {
      const decl = allDecls.get(key);
      if (!decl) issues.push({ option: key, source: configFile, message: 'unknown option' });
      else if (decl.cliOnly) issues.push({ option: key, source: configFile, message: 'may only be given as a flag' });
    }
  }

  const values = new Map<string, unknown>();
  const sources = new Map<string, string>();
  for (const [name, decl] of usedDecls) {
    let raw: unknown = undefined;
    let source = 'default';
    if (flags.has(name)) { raw = flags.get(name); source = 'flag'; }
    else if (!decl.cliOnly && env[envName(name)] !== undefined) { raw = env[envName(name)]; source = `env ${envName(name)}`; }
    else if (!decl.cliOnly && name in fileValues) { raw = fileValues[name]; source = configFile ?? 'file'; }
    if (source === 'default') { values.set(name, coerce(decl, decl.default)); sources.set(name, source); continue; }
    try {
      values.set(name, coerce(decl, raw));
      sources.set(name, source);
    } catch (e) {
      issues.push({ option: name, source, message: (e as Error).message });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const usedSet = new Set(input.used);
  return {
    positionals,
    sources,
    get<G extends OptionGroup>(group: G): OptionValues<G> {
      if (!usedSet.has(group)) throw new Error(`option group ${group.group} was not loaded for this command`);
      const out: Record<string, unknown> = {};
      for (const [key, decl] of Object.entries(group.options)) out[key] = values.get(decl.name);
      return out as OptionValues<G>;
    },
  };
}

/** Defaults of one group, as typed values; for tests and embedding. */
export function defaults<G extends OptionGroup>(group: G, overrides: Partial<OptionValues<G>> = {}): OptionValues<G> {
  const out: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(group.options)) out[key] = coerce(decl, decl.default);
  return { ...out, ...overrides } as OptionValues<G>;
}

function yamlScalar(d: OptionDecl): string {
  if (d.type === 'int' || d.type === 'bool') return String(d.default);
  return JSON.stringify(d.default);
}

/** The commented YAML sample printed by `tally config sample`. */
export function renderSample(groups: readonly OptionGroup[]): string {
  const out: string[] = [
    '# Tally configuration sample, generated by `tally config sample` from every declared option.',
    '# Use it with --config FILE or TALLY_CONFIG=FILE. Each option can also be set in the',
    '# environment (TALLY_<NAME>) or as a flag (--<name>); flags override the environment,',
    '# which overrides this file. Uncomment a line to change its default.',
  ];
  const seen = new Set<string>();
  for (const g of groups) {
    const decls = Object.values(g.options).filter((d) => !d.cliOnly && !seen.has(d.name));
    if (decls.length === 0) continue;
    out.push('', `## ${g.group}: ${g.description}`);
    for (const d of decls) {
      seen.add(d.name);
      out.push('');
      for (const line of wrap(d.help, 88)) out.push(`# ${line}`);
      const facts: string[] = [`type ${d.type}`];
      if (d.type === 'enum') facts.push(`one of ${d.choices.join(' | ')}`);
      if (d.type === 'url') facts.push(`schemes ${d.schemes.join(', ')}`);
      if (d.type === 'int' && (d.min !== undefined || d.max !== undefined)) facts.push(`range ${d.min ?? '-inf'}..${d.max ?? 'inf'}`);
      if (d.secret) facts.push('secret');
      facts.push(`env ${envName(d.name)}`, `flag --${d.name}`);
      out.push(`# (${facts.join('; ')})`);
      out.push(`#${d.name}: ${yamlScalar(d)}`);
    }
  }
  return out.join('\n') + '\n';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (cur && cur.length + 1 + word.length > width) { lines.push(cur); cur = word; }
    else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(cur);
  return lines;
}
