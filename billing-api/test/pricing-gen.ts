/**
 * Seeded generators of pricing policies (as syntax trees) and usage, for the property
 * and fuzz tests. Deterministic: the same seed gives the same cases, so a failure
 * can be replayed from the seed printed in the assertion message.
 */
import type { Condition, Expr, Outcome, Policy, Rule, Value } from '../src/pricing/ast.js';
import { KEYS, CURRENCY_UNITS, type KeyDef } from '../src/pricing/keys.js';

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
export type Rng = ReturnType<typeof prng>;

const WORDS = ['VM Assignment', 'Platinum', 'BLADE Type 4', 'm1.tiny', 'Gold', 'and', 'not bad', 'say "hi"', 'x\\y', 'then', 'One-off', "client's", 'Billing Period', ''];

/** A decimal literal text such as "0.0002" or "240". */
export function decimalText(r: Rng, maxInt = 1000, maxDp = 4): string {
  const i = String(r.int(maxInt));
  const dp = r.int(maxDp + 1);
  return dp === 0 ? i : `${i}.${Array.from({ length: dp }, () => r.int(10)).join('')}`;
}

function expr(r: Rng, depth: number, positive: boolean): Expr {
  if (depth <= 0 || r.next() < 0.6) return { kind: 'num', text: decimalText(r) };
  if (!positive && r.next() < 0.1) return { kind: 'neg', arg: expr(r, depth - 1, true) };
  // + and * of non-negative operands stay non-negative (outcome values must not be negative).
  const op = positive ? r.pick(['+', '*'] as const) : r.pick(['+', '-', '*'] as const);
  return { kind: 'bin', op, left: expr(r, depth - 1, positive), right: expr(r, depth - 1, positive) };
}

function unitFor(r: Rng, def: KeyDef): string | undefined {
  if (r.next() < 0.5) return undefined;
  if (def.type === 'money') return r.pick(Object.keys(CURRENCY_UNITS).filter((u) => CURRENCY_UNITS[u] === 'EUR'));
  const units = Object.keys(def.units ?? {}).filter((u) => def.units![u] === '1' || def.type === 'duration');
  return units.length > 0 ? r.pick(units) : undefined;
}

function value(r: Rng, def: KeyDef, forOutcome: boolean): Value {
  if (def.type === 'string') return { kind: 'string', value: r.pick(WORDS) };
  if (def.key === 'DYNAMIC_FACTOR' || def.key === 'POOL_FREE') {
    if (forOutcome && r.next() < 0.5) return { kind: 'curve', points: [{ at: { kind: 'num', text: '0' }, value: { kind: 'num', text: '1' } }, { at: { kind: 'num', text: '1' }, value: { kind: 'num', text: `0.${r.int(10)}` } }] };
    return { kind: 'number', expr: { kind: 'num', text: `0.${r.int(100)}` } };
  }
  if (def.key === 'DISCOUNT_PERCENT') return { kind: 'number', expr: { kind: 'num', text: String(r.int(101)) } };
  if (def.key === 'PRIORITY') return { kind: 'number', expr: { kind: 'num', text: String(r.int(10)) } };
  if (forOutcome && def.tiers && r.next() < 0.3) {
    return { kind: 'tiers', mode: r.pick(['graduated', 'volume'] as const), steps: [{ from: { kind: 'num', text: '0' }, price: { kind: 'num', text: decimalText(r, 2) } }, { from: { kind: 'num', text: String(1 + r.int(50)) }, price: { kind: 'num', text: decimalText(r, 2) } }] };
  }
  const u = unitFor(r, def);
  return { kind: 'number', expr: expr(r, 3, forOutcome), ...(u === undefined ? {} : { unit: u }) };
}

const FACTS = KEYS.filter((k) => k.kind === 'fact');
const OUTCOMES = KEYS.filter((k) => k.kind !== 'fact');

/** A random valid rule (conditions on facts and derived facts, 1-3 distinct outcomes). */
export function genRule(r: Rng, line: number): Rule {
  const pos = { line, column: 1 };
  const conditions: Condition[] = Array.from({ length: r.int(4) }, () => {
    const def = r.pick([...FACTS, ...KEYS.filter((k) => k.kind === 'derived')]);
    const v = value(r, def, false);
    const op = v.kind === 'string' ? r.pick(['=', '!='] as const) : r.pick(['=', '!=', '>', '>=', '<', '<='] as const);
    return { key: def.key, op, value: v, pos };
  });
  const used = new Set<string>();
  const outcomes: Outcome[] = [];
  for (let i = 0, n = 1 + r.int(3); i < n; i++) {
    const def = r.pick(OUTCOMES);
    if (used.has(def.key)) continue;
    used.add(def.key);
    outcomes.push({ key: def.key, value: value(r, def, true), pos });
  }
  // Derived facts are only assigned by rules that test no derived fact: no cycles.
  const kind = (key: string) => KEYS.find((k) => k.key === key)!.kind;
  const final = conditions.some((c) => kind(c.key) === 'derived') ? outcomes.filter((o) => kind(o.key) !== 'derived') : outcomes;
  if (final.every((o) => o.key === 'PRIORITY' || o.key === 'ACTIVATION_GROUP')) final.push({ key: 'COST_PER_UNIT', value: { kind: 'number', expr: { kind: 'num', text: '2' } }, pos });
  return { form: 'dsl', pos, conditions, outcomes: final };
}

/** A random valid policy of `n` rules. */
export function genPolicy(r: Rng, n: number): Policy {
  return { rules: Array.from({ length: n }, (_, i) => genRule(r, i + 1)) };
}
