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

/** expr = term { ("+"|"-") term } ; term = factor { ("*"|"/") factor } ; factor = NUMBER | "-" factor | "(" expr ")". */
export function parseExpr(lx: Lexer, mode: Mode, depth = 0): Expr {
  if (depth > 50) throw fail(lx.peek(mode), [], 'expression nested too deeply (over 50 levels)');
  let left = parseTerm(lx, mode, depth);
  while (isPunct(lx, mode, '+') || isPunct(lx, mode, '-')) {
    const op = lx.next(mode).text as '+' | '-';
    left = { kind: 'bin', op, left, right: parseTerm(lx, mode, depth) };
  }
  return left;
}

function parseTerm(lx: Lexer, mode: Mode, depth: number): Expr {
  let left = parseFactor(lx, mode, depth);
  while (isPunct(lx, mode, '*') || isPunct(lx, mode, '/')) {
    const op = lx.next(mode).text as '*' | '/';
    left = { kind: 'bin', op, left, right: parseFactor(lx, mode, depth) };
  }
  return left;
}

function parseFactor(lx: Lexer, mode: Mode, depth: number): Expr {
  const t = lx.peek(mode);
  if (t.type === 'num') return { kind: 'num', text: lx.next(mode).text };
  if (t.type === 'punct' && t.text === '-') {
    lx.next(mode);
    return { kind: 'neg', arg: parseFactor(lx, mode, depth + 1) };
  }
  if (t.type === 'punct' && t.text === '(') {
    lx.next(mode);
    const e = parseExpr(lx, mode, depth + 1);
    expectPunct(lx, mode, ')');
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
