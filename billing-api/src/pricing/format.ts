/**
 * Print a policy in either language. Parsing what this prints gives back the same
 * rules (for the DSL, the same tree; for the natural language, rules that compile
 * identically — units the natural sentence implies, like "tokens", are not repeated).
 */
import type { Condition, Expr, Outcome, Policy, Rule, Value } from './ast.js';
import { KEY_INDEX, OVER_UNITS, TOKEN_BASES } from './keys.js';
import { RESERVED } from './natural.js';

const PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2 };

/** Print an expression with the fewest parentheses that parse back to the same tree. */
export function formatExpr(e: Expr): string {
  if (e.kind === 'num') return e.text;
  if (e.kind === 'neg') return `-${wrap(e.arg, e.arg.kind === 'bin')}`;
  const p = PREC[e.op]!;
  const l = e.left.kind === 'bin' && PREC[e.left.op]! < p;
  const r = e.right.kind === 'bin' && PREC[e.right.op]! <= p;
  return `${wrap(e.left, l)} ${e.op} ${wrap(e.right, r)}`;
}

const wrap = (e: Expr, paren: boolean): string => (paren ? `(${formatExpr(e)})` : formatExpr(e));

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function pairs(list: [Expr, Expr][]): string {
  return `(${list.map(([a, b]) => `${formatExpr(a)}: ${formatExpr(b)}`).join(', ')})`;
}

function dslValue(v: Value): string {
  switch (v.kind) {
    case 'string': return quote(v.value);
    case 'number': return formatExpr(v.expr) + (v.unit === undefined ? '' : ` (${v.unit})`);
    case 'tiers': return v.mode.toUpperCase() + pairs(v.steps.map((s) => [s.from, s.price])) + (v.unit === undefined ? '' : ` (${v.unit})`);
    case 'curve': return 'CURVE' + pairs(v.points.map((p) => [p.at, p.value]));
  }
}

function dslCondition(c: Condition): string {
  const def = KEY_INDEX.get(c.key)!;
  const op = c.op === '=' && def.kind !== 'fact' ? '==' : c.op;
  return `${c.key} ${op} ${dslValue(c.value)}`;
}

/** One rule in the DSL, on one line. */
export function formatDslRule(r: Rule): string {
  return [...r.conditions.map(dslCondition), ...r.outcomes.map((o) => `${o.key} = ${dslValue(o.value)}`)].join(', ');
}

const WORD = /^[A-Za-z0-9_]+(?:['.-][A-Za-z0-9_]+)*$/;
const FIRST_WORD_TAKEN = new Set(['not', 'over', 'more', 'greater', 'above', 'at', 'under', 'less', 'below']);

/** Whether a text value can be written unquoted in a sentence and read back unchanged. */
function bareOk(s: string): boolean {
  const words = s.split(' ');
  return words.every((w, i) => WORD.test(w) && (i === 0 ? !FIRST_WORD_TAKEN.has(w.toLowerCase()) && !RESERVED.has(w.toLowerCase()) : !RESERVED.has(w.toLowerCase())));
}

function phrase(key: string): string {
  return KEY_INDEX.get(key)!.phrases[0]!.replace(/\bcpu/g, 'CPU').replace(/\bgb-/g, 'GB-').replace(/^vcpus$/, 'vCPUs');
}

function naturalValue(v: Value): string {
  switch (v.kind) {
    case 'string': return bareOk(v.value) ? v.value : quote(v.value);
    case 'number': return formatExpr(v.expr) + (v.unit === undefined ? '' : ` ${v.unit}`);
    case 'tiers': return `${v.mode} ${pairs(v.steps.map((s) => [s.from, s.price]))}${v.unit === undefined ? '' : ` ${v.unit}`}`;
    case 'curve': return `curve ${pairs(v.points.map((p) => [p.at, p.value]))}`;
  }
}

const MOD: Record<string, string> = { '=': '', '!=': 'not ', '>': 'over ', '>=': 'at least ', '<': 'under ', '<=': 'at most ' };

function naturalCondition(c: Condition): string {
  return `the ${phrase(c.key)} is ${MOD[c.op]}${naturalValue(c.value)}`;
}

const BASIS_WORD: Record<string, string> = Object.fromEntries(Object.entries(TOKEN_BASES).map(([w, k]) => [k, w.replace('cpu', 'CPU').replace('gb', 'GB')]));
const OVER_WORD: Record<string, string> = { PERIOD_CPU_HOURS: 'CPU-hours', PERIOD_HOURS: 'hours', PERIOD_GB_HOURS: 'GB-hours', PERIOD_UNITS: 'units', PERIOD_TOKENS: 'tokens' };

function naturalOutcome(o: Outcome): string {
  const basis = BASIS_WORD[o.key];
  if (basis !== undefined && o.value.kind === 'number') {
    const n = formatExpr(o.value.expr);
    return `1 ${basis} is ${n} ${n === '1' ? 'token' : 'tokens'}`;
  }
  if (o.key === 'DISCOUNT_PERCENT' && o.value.kind === 'number' && (o.value.unit === undefined || o.value.unit === '%' || o.value.unit === 'percent')) {
    return `${formatExpr(o.value.expr)} % off`;
  }
  return `the ${phrase(o.key)} is ${naturalValue(o.value)}`;
}

/** One rule as a sentence. */
export function formatNaturalRule(r: Rule): string {
  const outs = r.outcomes.map(naturalOutcome).join(' and ');
  const only = r.conditions.length === 1 ? r.conditions[0]! : undefined;
  let s: string;
  if (only && only.op === '>' && OVER_WORD[only.key] !== undefined && only.value.kind === 'number' && Object.values(OVER_UNITS).includes(only.key)) {
    s = `Over ${formatExpr(only.value.expr)} ${OVER_WORD[only.key]}, ${outs}.`;
  } else if (r.conditions.length === 0) {
    s = `${outs}.`;
  } else {
    s = `When ${r.conditions.map(naturalCondition).join(' and ')}, then ${outs}.`;
  }
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Print a whole policy, one rule a line, in the DSL or the natural language. */
export function formatPolicy(policy: Policy, form: 'dsl' | 'natural'): string {
  return policy.rules.map(form === 'dsl' ? formatDslRule : formatNaturalRule).join('\n') + (policy.rules.length > 0 ? '\n' : '');
}
