/**
 * Line explanations. Every rated line carries one; most are never read, so the text is
 * built on first read from values captured while rating (the numbers are the same).
 */
import { LINE_DECIMALS } from '../rating.js';
import type { Facts } from './compile.js';
import type { Inference } from './engine.js';
import { showFacts } from './facts.js';

/** Why a line costs what it costs. */
export interface Explanation {
  /** The usage record, event or period the line came from. */
  source: Record<string, string>;
  policyVersion: string | null;
  /** The facts the rules saw (including derived facts). */
  facts: Record<string, string>;
  /** Rules fired, in firing order (line and DSL text). */
  rules: { line: number; rule: string }[];
  /** Rules that matched but lost a conflict: `key` was set by the rule on line `byLine`. */
  shadowed: { line: number; key: string; byLine: number }[];
  /** Price elements applied: rate x quantity = amount (exact, before rounding). */
  rates: { key: string; rate: string; quantity: string; unit: string; amount: string }[];
  /** Conversions and other steps, in words. */
  conversions: string[];
  rounding: string;
}

/** How each line is rounded, in words. */
export const ROUNDING_TEXT = `half-even to ${LINE_DECIMALS} decimals`;

/** An {@link Explanation} whose parts are computed once, on first read; JSON gives the plain object. */
export class LazyExplanation implements Explanation {
  readonly rounding = ROUNDING_TEXT;
  private made: Partial<Explanation> = {};

  constructor(
    private readonly sourceOf: () => Record<string, string>,
    readonly policyVersion: string | null,
    private readonly factSet: Facts,
    private readonly inf: Inference,
    private readonly rateThunks: readonly (() => Explanation['rates'][number])[],
    private readonly conv: readonly (() => string)[],
  ) {}

  get source(): Record<string, string> {
    return (this.made.source ??= this.sourceOf());
  }

  get facts(): Record<string, string> {
    return (this.made.facts ??= showFacts(this.factSet));
  }

  get rules(): Explanation['rules'] {
    return (this.made.rules ??= this.inf.fired.map((r) => ({ line: r.pos.line, rule: r.text })));
  }

  get shadowed(): Explanation['shadowed'] {
    return (this.made.shadowed ??= this.inf.shadowed.map((s) => ({ line: s.rule.pos.line, key: s.key, byLine: s.by.pos.line })));
  }

  get rates(): Explanation['rates'] {
    return (this.made.rates ??= this.rateThunks.map((f) => f()));
  }

  get conversions(): string[] {
    return (this.made.conversions ??= this.conv.map((f) => f()));
  }

  /** The plain object, for JSON. */
  toJSON(): Explanation {
    const { source, policyVersion, facts, rules, shadowed, rates, conversions, rounding } = this;
    return { source, policyVersion, facts, rules, shadowed, rates, conversions, rounding };
  }
}
