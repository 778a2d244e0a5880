/**
 * The policy syntax tree shared by both languages: a DSL rule and its natural-language
 * twin parse to the same tree (apart from `form` and positions).
 */

/** A 1-based source position. */
export interface Pos {
  line: number;
  column: number;
}

/** An arithmetic expression over exact decimal literals (`240 * 60 * 60`). */
export type Expr =
  | { kind: 'num'; text: string }
  | { kind: 'neg'; arg: Expr }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr };

/** One step of a tier list: from `from` (exclusive, in the charge's basis) on, `price` per basis unit. */
export interface TierStep {
  from: Expr;
  price: Expr;
}

/** One point of a CURVE: at POOL_FREE = `at`, the factor is `value` (linear in between). */
export interface CurvePoint {
  at: Expr;
  value: Expr;
}

/** A value: a string, a number (with an optional unit, lower case), a tier list or a curve. */
export type Value =
  | { kind: 'string'; value: string }
  | { kind: 'number'; expr: Expr; unit?: string }
  | { kind: 'tiers'; mode: 'graduated' | 'volume'; steps: TierStep[]; unit?: string }
  | { kind: 'curve'; points: CurvePoint[] };

/** Comparison operators; `=` is equality (written `==` in the DSL on assignable keys). */
export type CompareOp = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** A test on a fact. */
export interface Condition {
  key: string;
  op: CompareOp;
  value: Value;
  pos: Pos;
}

/** An assignment to an outcome, derived or control key. */
export interface Outcome {
  key: string;
  value: Value;
  pos: Pos;
}

/** One rule, in the order written. */
export interface Rule {
  form: 'dsl' | 'natural';
  pos: Pos;
  conditions: Condition[];
  outcomes: Outcome[];
}

/** A parsed policy. */
export interface Policy {
  rules: Rule[];
}

/** A parse or compile error: where, what was expected, what was found. */
export interface PolicyIssue {
  line: number;
  column: number;
  /** What the parser expected there (empty for semantic errors). */
  expected: string[];
  /** The text found there (`end of input` at the end). */
  found: string;
  message: string;
}

/** `line:column: message`, the way editors and `tally policy validate` print issues. */
export function formatIssue(i: PolicyIssue): string {
  return `${i.line}:${i.column}: ${i.message}`;
}
