/**
 * The structured DSL of seed 002 (grammar in docs/pricing.md):
 *
 *   rule   = clause { "," {NL} clause } [ "." | ";" ] ( NL | EOF )
 *   clause = KEY op value [ "(" unit ")" ]
 *   op     = "=" | "==" | "!=" | ">" | ">=" | "<" | "<="
 *   value  = STRING | expr | ("GRADUATED" | "VOLUME" | "CURVE") "(" expr ":" expr { "," expr ":" expr } ")"
 *
 * `=` on an outcome, derived or control key assigns; on a fact it tests. `==` always tests.
 */
import type { CompareOp, Condition, Outcome, Pos, Rule, Value } from './ast.js';
import { KEY_INDEX, assigns } from './keys.js';
import { fail, type Lexer, type Token } from './lexer.js';
import { checkValue, isPunct, parseExpr, parseListValue } from './syntax.js';

const OPS = ['=', '==', '!=', '>', '>=', '<', '<='];
const LIST_WORDS = ['graduated', 'volume', 'curve'];

/** Whether a statement starting with this token is DSL (an upper-case key). */
export function startsDsl(t: Token): boolean {
  return t.type === 'word' && /^[A-Z][A-Z0-9_]*$/.test(t.text) && (t.text.length > 1);
}

/** Parse one DSL rule; the lexer is at its first token. */
export function parseDslRule(lx: Lexer): Rule {
  const first = lx.peek('dsl');
  const pos: Pos = { line: first.line, column: first.column };
  const conditions: Condition[] = [];
  const outcomes: Outcome[] = [];
  for (;;) {
    parseClause(lx, conditions, outcomes);
    if (!isPunct(lx, 'dsl', ',')) break;
    lx.next('dsl');
    while (lx.peek('dsl').type === 'nl') lx.next('dsl');
  }
  if (isPunct(lx, 'dsl', '.') || isPunct(lx, 'dsl', ';')) lx.next('dsl');
  const end = lx.peek('dsl');
  if (end.type !== 'nl' && end.type !== 'eof') throw fail(end, ['","', 'end of line']);
  if (outcomes.length === 0) throw fail(pos, ['an outcome such as COST_PER_SECOND = 0.0002'], 'a rule needs at least one outcome (e.g. COST_PER_HOUR = 0.01)');
  return { form: 'dsl', pos, conditions, outcomes };
}

function parseClause(lx: Lexer, conditions: Condition[], outcomes: Outcome[]): void {
  const keyTok = lx.peek('dsl');
  if (keyTok.type !== 'word') throw fail(keyTok, ['a key such as EVENT']);
  const def = KEY_INDEX.get(keyTok.text);
  if (!def) throw fail(keyTok, ['a known key'], `unknown key ${JSON.stringify(keyTok.text)}`);
  lx.next('dsl');
  const opTok = lx.peek('dsl');
  if (opTok.type !== 'punct' || !OPS.includes(opTok.text)) throw fail(opTok, OPS.map((o) => JSON.stringify(o)));
  lx.next('dsl');
  const pos: Pos = { line: keyTok.line, column: keyTok.column };
  const valTok = lx.peek('dsl');
  const { value, unitPos } = parseValue(lx);
  checkValue(def, value, { line: valTok.line, column: valTok.column }, unitPos);
  const op = opTok.text;
  if (op === '=' && assigns(def)) {
    outcomes.push({ key: def.key, value, pos });
    return;
  }
  if (def.kind === 'outcome' || def.kind === 'control') {
    throw fail(opTok, ['"="'], `${def.key} is assigned with =, it cannot be tested`);
  }
  if (value.kind !== 'number' && value.kind !== 'string') throw fail(valTok, ['a number'], 'a test compares with a number or a string');
  if (value.kind === 'string' && op !== '=' && op !== '==' && op !== '!=') throw fail(opTok, ['"="', '"!="'], `text can only be tested with = or !=`);
  conditions.push({ key: def.key, op: (op === '==' ? '=' : op) as CompareOp, value, pos });
}

function parseValue(lx: Lexer): { value: Value; unitPos: Pos } {
  const t = lx.peek('dsl');
  let value: Value;
  if (t.type === 'str') {
    lx.next('dsl');
    return { value: { kind: 'string', value: t.text }, unitPos: t };
  }
  if (t.type === 'word' && LIST_WORDS.includes(t.text.toLowerCase())) {
    lx.next('dsl');
    value = parseListValue(lx, 'dsl', t.text.toLowerCase());
  } else if (t.type === 'num' || (t.type === 'punct' && (t.text === '(' || t.text === '-'))) {
    value = { kind: 'number', expr: parseExpr(lx, 'dsl') };
  } else {
    throw fail(t, ['a quoted string', 'a number', 'GRADUATED(', 'VOLUME(', 'CURVE(']);
  }
  let unitPos: Pos = lx.peek('dsl');
  if (isPunct(lx, 'dsl', '(') && value.kind !== 'curve') {
    lx.next('dsl');
    const u = lx.peek('natural');
    unitPos = u;
    if (u.type !== 'word' && !(u.type === 'punct' && u.text === '%')) throw fail(u, ['a unit such as seconds or Euros']);
    lx.next('natural');
    const close = lx.peek('dsl');
    if (close.type !== 'punct' || close.text !== ')') throw fail(close, ['")"']);
    lx.next('dsl');
    if (value.kind !== 'string') value = { ...value, unit: u.text.toLowerCase() };
  }
  return { value, unitPos };
}
