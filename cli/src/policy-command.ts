/**
 * `tally policy validate|format|explain FILE`: check a pricing policy, print it in
 * either language, or show how the engine orders its rules (and, given a usage file,
 * what each line costs and why). Pure file work: no database, no bus.
 */
import { readFileSync } from 'node:fs';
import {
  compilePolicy, formatPolicy, formatNaturalRule, parsePolicy, ratePeriod, PolicyCompileError,
  type CompiledPolicy, type Policy, type PolicyIssue, type RatingInput, type TokenRate,
} from '@tally/billing-api';

/** Output sinks, injectable for tests. */
export interface PolicyIo {
  out(s: string): void;
  err(s: string): void;
  read(path: string): string;
}

const NODE_IO: PolicyIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  read: (p) => readFileSync(p, 'utf8'),
};

/** Usage of the policy command. */
export const POLICY_USAGE = [
  'usage: tally policy validate FILE            check a policy; errors as FILE:line:column: message',
  '       tally policy format FILE [dsl|natural] print the policy in the DSL (default) or in sentences',
  '       tally policy explain FILE [USAGE.json] rules in the order the engine tries them;',
  '                                              with a usage file, every rated line and why',
].join('\n');

function report(io: PolicyIo, file: string, issues: readonly PolicyIssue[]): void {
  for (const i of issues) io.err(`${file}:${i.line}:${i.column}: ${i.message}\n`);
}

function load(io: PolicyIo, file: string): { policy: Policy; compiled: CompiledPolicy } | undefined {
  let text: string;
  try {
    text = io.read(file);
  } catch (err) {
    io.err(`tally policy: cannot read ${file}: ${(err as Error).message}\n`);
    return undefined;
  }
  const parsed = parsePolicy(text);
  if (!parsed.ok) {
    report(io, file, parsed.errors);
    return undefined;
  }
  try {
    return { policy: parsed.policy, compiled: compilePolicy(parsed.policy) };
  } catch (err) {
    if (!(err instanceof PolicyCompileError)) throw err;
    report(io, file, err.issues);
    return undefined;
  }
}

/** Dates in a usage file are ISO strings; revive the fields rating reads as dates. */
function reviveDates(_key: string, v: unknown): unknown {
  return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(v) ? new Date(v) : v;
}

function explainUsage(io: PolicyIo, compiled: CompiledPolicy, usageFile: string): number {
  let doc: RatingInput & { period?: { start: Date; end: Date }; rates?: TokenRate[] };
  try {
    doc = JSON.parse(io.read(usageFile), reviveDates) as typeof doc;
  } catch (err) {
    io.err(`tally policy: cannot read ${usageFile}: ${(err as Error).message}\n`);
    return 1;
  }
  if (!Array.isArray(doc.usage)) {
    io.err(`tally policy: ${usageFile}: usage: must be an array of usage records\n`);
    return 1;
  }
  const starts = doc.usage.map((u) => u.windowStart.getTime());
  const period = doc.period ?? { start: new Date(Math.min(...starts)), end: new Date(Math.max(...doc.usage.map((u) => u.windowEnd.getTime()))) };
  const result = ratePeriod(compiled, doc, period, doc.rates ?? []);
  for (const l of result.lines) {
    io.out(`${l.kind} ${l.projectId ?? '-'} ${l.resourceId ?? ''} ${l.event} ${l.start.toISOString()}: ${l.amount.toFixed()} ${result.currency}\n`);
    for (const r of l.explanation.rules) io.out(`  fired  line ${r.line}: ${r.rule}\n`);
    for (const s of l.explanation.shadowed) io.out(`  lost   line ${s.line}: ${s.key} already set by line ${s.byLine}\n`);
    for (const r of l.explanation.rates) io.out(`  rate   ${r.key} ${r.rate} x ${r.quantity} ${r.unit} = ${r.amount}\n`);
    for (const c of l.explanation.conversions) io.out(`  step   ${c}\n`);
  }
  io.out(`total ${result.totalText} ${result.currency}\n`);
  return 0;
}

/** Run `tally policy …`; returns the exit code. */
export function runPolicyCommand(args: readonly string[], io: PolicyIo = NODE_IO): number {
  const [verb, file, extra] = args;
  if (verb === undefined || file === undefined || !['validate', 'format', 'explain'].includes(verb)) {
    io.err(`${POLICY_USAGE}\n`);
    return 2;
  }
  const loaded = load(io, file);
  if (!loaded) return 1;
  const { policy, compiled } = loaded;
  if (verb === 'validate') {
    const natural = policy.rules.filter((r) => r.form === 'natural').length;
    io.out(`${file}: valid, ${policy.rules.length} rules (${policy.rules.length - natural} DSL, ${natural} natural)\n`);
    return 0;
  }
  if (verb === 'format') {
    if (extra !== undefined && extra !== 'dsl' && extra !== 'natural') {
      io.err(`tally policy format: the form must be dsl or natural, got ${JSON.stringify(extra)}\n`);
      return 2;
    }
    io.out(formatPolicy(policy, extra ?? 'dsl'));
    return 0;
  }
  if (extra !== undefined) return explainUsage(io, compiled, extra);
  io.out(`${compiled.rules.length} rules in the order the engine tries them (priority, then more conditions, then the order written):\n`);
  for (const r of compiled.rules) {
    const meta = [`priority ${r.salience}`, `${r.specificity} conditions`, ...(r.group === undefined ? [] : [`group "${r.group}"`])].join(', ');
    io.out(`line ${r.pos.line} (${meta}):\n  ${r.text}\n  ${formatNaturalRule(policy.rules[r.index]!)}\n`);
  }
  return 0;
}
