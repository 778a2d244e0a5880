/**
 * Pieces both parsers share: arithmetic expressions, tier lists and curves, and the
 * check of a value against its key (type and unit), made while positions are known.
 */
import type { CurvePoint, Expr, Pos, TierStep, Value } from './ast.js';
import { CURRENCY_UNITS, type KeyDef } from './keys.js';
import { fail, type Lexer, type Token } from './lexer.js';

type Mode = 'dsl' | 'natural';

/** Consume a punctuation token or fail naming it. */
export function expectPunct(lx: Lexer, mode: Mode, text: string): Token {
  const t = lx.peek(mode);
  if (t.type !== 'punct' || t.text !== text) throw fail(t, [JSON.stringify(text)]);
  return lx.next(mode);
}

/** Whether the next token is this punctuation. */
export function isPunct(lx: Lexer, mode: Mode, text: string): boolean {
  const t = lx.peek(mode);
  return t.type === 'punct' && t.text === text;
}

/** Most operators in one expression (a bound on tree depth, so nothing recurses without limit). */
export const MAX_EXPR_OPERATORS = 100;

interface ExprCtx {
  lx: Lexer;
  mode: Mode;
  ops: number;
}

/** expr = term { ("+"|"-") term } ; term = factor { ("*"|"/") factor } ; factor = NUMBER | "-" factor | "(" expr ")". */
export function parseExpr(lx: Lexer, mode: Mode): Expr {
  return sum({ lx, mode, ops: 0 });
}

function count(c: ExprCtx): void {
  if (++c.ops > MAX_EXPR_OPERATORS) throw fail(c.lx.peek(c.mode), [], `expression too long (over ${MAX_EXPR_OPERATORS} operators or parentheses)`);
}

function sum(c: ExprCtx): Expr {
  let left = term(c);
  while (isPunct(c.lx, c.mode, '+') || isPunct(c.lx, c.mode, '-')) {
    count(c);
    const op = c.lx.next(c.mode).text as '+' | '-';
    left = { kind: 'bin', op, left, right: term(c) };
  }
  return left;
}

function term(c: ExprCtx): Expr {
  let left = factor(c);
  while (isPunct(c.lx, c.mode, '*') || isPunct(c.lx, c.mode, '/')) {
    count(c);
    const op = c.lx.next(c.mode).text as '*' | '/';
    left = { kind: 'bin', op, left, right: factor(c) };
  }
  return left;
}

function factor(c: ExprCtx): Expr {
  const t = c.lx.peek(c.mode);
  if (t.type === 'num') return { kind: 'num', text: c.lx.next(c.mode).text };
  if (t.type === 'punct' && t.text === '-') {
    count(c);
    c.lx.next(c.mode);
    return { kind: 'neg', arg: factor(c) };
  }
  if (t.type === 'punct' && t.text === '(') {
    count(c);
    c.lx.next(c.mode);
    const e = sum(c);
    expectPunct(c.lx, c.mode, ')');
    return e;
  }
  throw fail(t, ['a number']);
}

/** `(` from `:` value { `,` from `:` value } `)` — the body of GRADUATED, VOLUME and CURVE. */
export function parsePairs(lx: Lexer, mode: Mode): [Expr, Expr][] {
  expectPunct(lx, mode, '(');
  const pairs: [Expr, Expr][] = [];
  for (;;) {
    const a = parseExpr(lx, mode);
    expectPunct(lx, mode, ':');
    pairs.push([a, parseExpr(lx, mode)]);
    if (isPunct(lx, mode, ',')) lx.next(mode);
    else break;
  }
  expectPunct(lx, mode, ')');
  return pairs;
}

/** A GRADUATED/VOLUME/CURVE value after its keyword. */
export function parseListValue(lx: Lexer, mode: Mode, keyword: string): Value {
  const pairs = parsePairs(lx, mode);
  if (keyword === 'curve') return { kind: 'curve', points: pairs.map(([at, value]): CurvePoint => ({ at, value })) };
  return { kind: 'tiers', mode: keyword as 'graduated' | 'volume', steps: pairs.map(([from, price]): TierStep => ({ from, price })) };
}

/** Units a key accepts (lower case). */
export function unitsOf(def: KeyDef): string[] {
  if (def.type === 'money') return Object.keys(CURRENCY_UNITS);
  return Object.keys(def.units ?? {});
}

/** Check a value against its key: string vs number, lists where allowed, known units. */
export function checkValue(def: KeyDef, value: Value, pos: Pos, unitPos: Pos): void {
  const isString = def.type === 'string';
  if (isString && value.kind !== 'string') throw fail(pos, ['a quoted string'], `${def.key} takes a text value (a quoted string)`);
  if (!isString && value.kind === 'string') throw fail(pos, ['a number'], `${def.key} takes a number, not text`);
  if (value.kind === 'tiers' && !def.tiers) throw fail(pos, ['a number'], `${def.key} does not take tiers (GRADUATED/VOLUME)`);
  if (value.kind === 'curve' && !def.curve) throw fail(pos, ['a number'], `${def.key} does not take a CURVE`);
  if ((value.kind === 'number' || value.kind === 'tiers') && value.unit !== undefined) {
    const allowed = unitsOf(def);
    if (!allowed.includes(value.unit)) {
      throw fail(unitPos, allowed, allowed.length === 0
        ? `${def.key} takes no unit, found ${JSON.stringify(value.unit)}`
        : `unknown unit ${JSON.stringify(value.unit)} for ${def.key}; expected one of ${allowed.join(', ')}`);
    }
  }
}
