/**
 * `compilePolicy`: a syntax tree to rules whose conditions are plain functions, built
 * once per policy version. Values are evaluated to exact decimals in canonical units
 * (seconds, fractions, the policy's currency); everything is checked here so that
 * rating never meets a bad rule. Derived facts must not form a cycle.
 */
import type { Decimal } from 'decimal.js';
import { Money } from '../rating.js';
import { formatIssue, type Condition, type Expr, type Policy, type PolicyIssue, type Pos, type Value } from './ast.js';
import { CURRENCY_UNITS, KEY_INDEX, type KeyDef } from './keys.js';
import { formatDslRule } from './format.js';

/** A fact value: text or an exact decimal. */
export type FactValue = string | Decimal;
/** Working memory of one evaluation: fact name to value (absent = unknown; a test on an unknown fact is false). */
export type Facts = Record<string, FactValue | undefined>;

/** A tier step with exact values. */
export interface CompiledTier {
  from: Decimal;
  price: Decimal;
}

/** An outcome's value, evaluated and in canonical units. */
export type CompiledValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: Decimal }
  | { kind: 'tiers'; mode: 'graduated' | 'volume'; steps: CompiledTier[] }
  | { kind: 'curve'; points: { at: Decimal; value: Decimal }[] };

/** One compiled rule. */
export interface CompiledRule {
  /** Declaration order, 0-based. */
  index: number;
  pos: Pos;
  /** The rule in the DSL, for explanations. */
  text: string;
  salience: number;
  /** Number of conditions (more wins a conflict). */
  specificity: number;
  group: string | undefined;
  /** Fact names the conditions read. */
  reads: string[];
  /** The conditions, normalised (values in canonical units), for comparison and display. */
  conditions: { key: string; op: string; value: string }[];
  test: (facts: Facts) => boolean;
  outcomes: { key: string; value: CompiledValue }[];
}

/** A policy ready to rate with. */
export interface CompiledPolicy {
  currency: string;
  /** All rules in conflict-resolution order: salience desc, specificity desc, declaration asc. */
  rules: CompiledRule[];
  /**
   * Discrimination on EVENT and RESOURCE_TYPE (facts no rule can derive): the rules that
   * can match a fact set with these two values, in rule order. Other rules are never tested.
   */
  candidates(event: string | undefined, resourceType: string | undefined): readonly CompiledRule[];
}

/** Thrown by compilePolicy with every problem found. */
export class PolicyCompileError extends Error {
  constructor(readonly issues: PolicyIssue[]) {
    super(`invalid policy:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'PolicyCompileError';
  }
}

class Bad extends Error {
  constructor(readonly pos: Pos, message: string) {
    super(message);
  }
}

/** Evaluate an expression exactly. */
export function evalExpr(e: Expr, pos: Pos): Decimal {
  switch (e.kind) {
    case 'num': return new Money(e.text);
    case 'neg': return evalExpr(e.arg, pos).neg();
    case 'bin': {
      const l = evalExpr(e.left, pos);
      const r = evalExpr(e.right, pos);
      if (e.op === '+') return l.plus(r);
      if (e.op === '-') return l.minus(r);
      if (e.op === '*') return l.times(r);
      if (r.isZero()) throw new Bad(pos, 'division by zero');
      return l.div(r);
    }
  }
}

function unitFactor(def: KeyDef, unit: string | undefined, currency: string, pos: Pos): Decimal {
  if (unit === undefined) return new Money(1);
  if (def.type === 'money') {
    const code = CURRENCY_UNITS[unit];
    if (code !== currency) throw new Bad(pos, `${def.key} is in ${code ?? unit}, but the policy's currency is ${currency}`);
    return new Money(1);
  }
  return new Money(def.units?.[unit] ?? '1');
}

function compileValue(def: KeyDef, v: Value, currency: string, pos: Pos): CompiledValue {
  if (v.kind === 'string') return v;
  if (v.kind === 'number') return { kind: 'number', value: evalExpr(v.expr, pos).times(unitFactor(def, v.unit, currency, pos)) };
  if (v.kind === 'tiers') {
    const f = unitFactor(def, v.unit, currency, pos);
    const steps = v.steps.map((s) => ({ from: evalExpr(s.from, pos), price: evalExpr(s.price, pos).times(f) }));
    if (!steps[0]!.from.isZero()) throw new Bad(pos, 'the first tier must start from 0');
    steps.forEach((s, i) => {
      if (i > 0 && !s.from.gt(steps[i - 1]!.from)) throw new Bad(pos, 'tier starts must increase');
      if (s.price.isNeg()) throw new Bad(pos, 'tier prices must not be negative');
    });
    return { kind: 'tiers', mode: v.mode, steps };
  }
  const points = v.points.map((p) => ({ at: evalExpr(p.at, pos), value: evalExpr(p.value, pos) }));
  points.forEach((p, i) => {
    if (p.at.isNeg() || p.at.gt(1) || (i > 0 && !p.at.gt(points[i - 1]!.at))) throw new Bad(pos, 'curve points must be increasing free capacities between 0 and 1');
    if (p.value.isNeg() || p.value.gt(1)) throw new Bad(pos, 'a dynamic factor must be between 0 and 1 (dynamic never costs more than on-demand)');
  });
  return { kind: 'curve', points };
}

function checkOutcome(def: KeyDef, v: CompiledValue, pos: Pos): void {
  if (v.kind !== 'number') return;
  const x = v.value;
  if (def.key === 'DYNAMIC_FACTOR' && (x.isNeg() || x.gt(1))) throw new Bad(pos, 'a dynamic factor must be between 0 and 1 (dynamic never costs more than on-demand)');
  if (def.key === 'DISCOUNT_PERCENT' && (x.isNeg() || x.gt(100))) throw new Bad(pos, 'a discount must be between 0 and 100 percent');
  if (def.key === 'PRIORITY' && (!x.isInteger() || x.abs().gt(1_000_000))) throw new Bad(pos, 'PRIORITY must be a whole number between -1000000 and 1000000');
  if (def.kind === 'outcome' && x.isNeg()) throw new Bad(pos, `${def.key} must not be negative`);
}

function normalise(c: Condition, currency: string): { key: string; op: string; value: string } {
  if (c.value.kind === 'string') return { key: c.key, op: c.op, value: JSON.stringify(c.value.value) };
  if (c.value.kind !== 'number') throw new Bad(c.pos, 'a test compares with a number or a string');
  return { key: c.key, op: c.op, value: evalExpr(c.value.expr, c.pos).times(unitFactor(KEY_INDEX.get(c.key)!, c.value.unit, currency, c.pos)).toFixed() };
}

function compileCondition(c: Condition, currency: string): (f: Facts) => boolean {
  const def = KEY_INDEX.get(c.key)!;
  const key = c.key;
  if (c.value.kind === 'string') {
    const s = c.value.value;
    return c.op === '=' ? (f) => f[key] === s : (f) => { const x = f[key]; return typeof x === 'string' && x !== s; };
  }
  if (c.value.kind !== 'number') throw new Bad(c.pos, 'a test compares with a number or a string');
  const v = evalExpr(c.value.expr, c.pos).times(unitFactor(def, c.value.unit, currency, c.pos));
  const num = (cmp: (x: Decimal) => boolean) => (f: Facts) => { const x = f[key]; return typeof x === 'object' && cmp(x); };
  switch (c.op) {
    case '=': return num((x) => x.eq(v));
    case '!=': return num((x) => !x.eq(v));
    case '>': return num((x) => x.gt(v));
    case '>=': return num((x) => x.gte(v));
    case '<': return num((x) => x.lt(v));
    case '<=': return num((x) => x.lte(v));
  }
}

function conjunction(tests: ((f: Facts) => boolean)[]): (f: Facts) => boolean {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [(f: Facts) => boolean, (f: Facts) => boolean];
    return (f) => a(f) && b(f);
  }
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}

/** Conflict-resolution order: salience (PRIORITY) desc, then specificity desc, then declaration order. */
export function ruleOrder(a: CompiledRule, b: CompiledRule): number {
  return b.salience - a.salience || b.specificity - a.specificity || a.index - b.index;
}

/** Options of {@link compilePolicy}. */
export interface CompileOptions {
  /** ISO 4217 code of the policy's money values (default EUR). */
  currency?: string;
}

/** Compile a parsed policy; throws {@link PolicyCompileError} listing every problem. */
export function compilePolicy(policy: Policy, opts: CompileOptions = {}): CompiledPolicy {
  const currency = opts.currency ?? 'EUR';
  const issues: PolicyIssue[] = [];
  const rules: CompiledRule[] = [];
  policy.rules.forEach((r, index) => {
    try {
      const outcomes: CompiledRule['outcomes'] = [];
      let salience = 0;
      let group: string | undefined;
      for (const o of r.outcomes) {
        const def = KEY_INDEX.get(o.key)!;
        if (outcomes.some((x) => x.key === o.key) || (o.key === 'PRIORITY' && salience !== 0) || (o.key === 'ACTIVATION_GROUP' && group !== undefined)) {
          throw new Bad(o.pos, `${o.key} is assigned twice in one rule`);
        }
        const value = compileValue(def, o.value, currency, o.pos);
        checkOutcome(def, value, o.pos);
        if (o.key === 'PRIORITY' && value.kind === 'number') salience = value.value.toNumber();
        else if (o.key === 'ACTIVATION_GROUP' && value.kind === 'string') group = value.value;
        else outcomes.push({ key: o.key, value });
      }
      if (outcomes.length === 0) throw new Bad(r.pos, 'a rule needs at least one price element or derived fact besides PRIORITY and ACTIVATION_GROUP');
      const test = conjunction(r.conditions.map((c) => compileCondition(c, currency)));
      rules.push({
        index, pos: r.pos, text: formatDslRule(r), salience, specificity: r.conditions.length, group,
        reads: [...new Set(r.conditions.map((c) => c.key))], conditions: r.conditions.map((c) => normalise(c, currency)), test, outcomes,
      });
    } catch (err) {
      if (!(err instanceof Bad)) throw err;
      issues.push({ line: err.pos.line, column: err.pos.column, expected: [], found: '', message: err.message });
    }
  });
  if (issues.length === 0) issues.push(...findCycles(rules));
  if (issues.length > 0) throw new PolicyCompileError(issues);
  rules.sort(ruleOrder);
  return { currency, rules, candidates: discriminate(policy, rules) };
}

/** Most (EVENT, RESOURCE_TYPE) pairs whose candidate lists are kept; beyond it the cache starts again. */
const CANDIDATE_CACHE = 10_000;

function discriminate(policy: Policy, rules: CompiledRule[]): CompiledPolicy['candidates'] {
  const eq = (r: CompiledRule, key: string): string | undefined => {
    const c = policy.rules[r.index]!.conditions.find((x) => x.key === key && x.op === '=' && x.value.kind === 'string');
    return c?.value.kind === 'string' ? c.value.value : undefined;
  };
  const keyed = rules.map((r) => ({ r, event: eq(r, 'EVENT'), type: eq(r, 'RESOURCE_TYPE') }));
  const cache = new Map<string, CompiledRule[]>();
  return (event, type) => {
    const k = `${event ?? '\u0001'}\u0000${type ?? '\u0001'}`;
    let list = cache.get(k);
    if (!list) {
      list = keyed.filter((x) => (x.event === undefined || x.event === event) && (x.type === undefined || x.type === type)).map((x) => x.r);
      if (cache.size >= CANDIDATE_CACHE) cache.clear();
      cache.set(k, list);
    }
    return list;
  };
}

/** Derived facts must not depend on themselves through rules (A derives X from Y, B derives Y from X). */
function findCycles(rules: CompiledRule[]): PolicyIssue[] {
  const edges = new Map<string, { to: string; rule: CompiledRule }[]>();
  for (const r of rules) {
    for (const o of r.outcomes) {
      if (KEY_INDEX.get(o.key)!.kind !== 'derived') continue;
      for (const k of r.reads) {
        if (KEY_INDEX.get(k)!.kind !== 'derived') continue;
        edges.set(k, [...(edges.get(k) ?? []), { to: o.key, rule: r }]);
      }
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: { key: string; rule?: CompiledRule }[] = [];
  const visit = (k: string): PolicyIssue | undefined => {
    if (state.get(k) === 'done') return undefined;
    if (state.get(k) === 'open') {
      const from = path.findIndex((p) => p.key === k);
      const cyc = path.slice(from);
      const first = cyc[1]?.rule ?? cyc[0]?.rule;
      const lines = cyc.flatMap((p) => (p.rule ? [p.rule.pos.line] : []));
      return { line: first?.pos.line ?? 1, column: first?.pos.column ?? 1, expected: [], found: '', message: `rules on lines ${lines.join(', ')} form a cycle: ${cyc.map((p) => p.key).join(' -> ')}` };
    }
    state.set(k, 'open');
    for (const e of edges.get(k) ?? []) {
      path.push({ key: e.to, rule: e.rule });
      const found = visit(e.to);
      path.pop();
      if (found) return found;
    }
    state.set(k, 'done');
    return undefined;
  };
  for (const k of edges.keys()) {
    path.length = 0;
    path.push({ key: k });
    const found = visit(k);
    if (found) return [found];
  }
  return [];
}
