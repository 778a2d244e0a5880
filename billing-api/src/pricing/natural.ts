/**
 * The controlled natural language (grammar in docs/pricing.md). Sentences end with a
 * full stop and may span lines; keywords and key phrases are case-insensitive.
 *
 *   sentence  = ("When" | "If") condition { ("and" | ",") condition } [","] "then" outcomes "."
 *             | "Over" expr UNIT "," outcomes "."            (a threshold on a period total)
 *             | outcomes "."
 *   condition = ["the"] PHRASE "is" [ "not" | "over" | "at least" | "under" | "at most" ] value
 *   outcomes  = outcome { ("and" | ",") outcome }
 *   outcome   = ["the"] PHRASE "is" value | "1" BASIS "is" expr ("token" | "tokens") | expr ("%" | "percent") "off"
 */
import type { CompareOp, Condition, Outcome, Pos, Rule, Value } from './ast.js';
import { KEY_INDEX, OVER_UNITS, PHRASES, TOKEN_BASES, assigns, type KeyDef } from './keys.js';
import { fail, type Lexer, type Token } from './lexer.js';
import { checkValue, expectPunct, isPunct, parseExpr, parseListValue } from './syntax.js';

const M = 'natural';
/** Words that end an unquoted text value (or start a comparison), so a value containing them is quoted by the formatter. */
export const RESERVED = new Set(['and', 'then', 'is', 'not', 'over', 'at', 'under', 'the']);
const MODIFIERS: [string[], CompareOp][] = [
  [['not'], '!='], [['over'], '>'], [['more', 'than'], '>'], [['greater', 'than'], '>'], [['above'], '>'],
  [['at', 'least'], '>='], [['under'], '<'], [['less', 'than'], '<'], [['below'], '<'], [['at', 'most'], '<='],
];

const lower = (t: Token): string => (t.type === 'word' ? t.text.toLowerCase() : '');
const isWord = (lx: Lexer, w: string): boolean => lower(lx.peek(M)) === w;

function expectWord(lx: Lexer, ...words: string[]): Token {
  const t = lx.peek(M);
  if (!words.includes(lower(t))) throw fail(t, words.map((w) => JSON.stringify(w)));
  return lx.next(M);
}

/** Parse one sentence; the lexer is at its first token. */
export function parseNaturalRule(lx: Lexer): Rule {
  const first = lx.peek(M);
  const pos: Pos = { line: first.line, column: first.column };
  const conditions: Condition[] = [];
  const w = lower(first);
  if (w === 'when' || w === 'if') {
    lx.next(M);
    for (;;) {
      conditions.push(parseCondition(lx));
      if (isWord(lx, 'and')) lx.next(M);
      else if (isPunct(lx, M, ',')) {
        lx.next(M);
        if (isWord(lx, 'then')) break;
        if (isWord(lx, 'and')) lx.next(M);
      } else break;
    }
    expectWord(lx, 'then');
  } else if (w === 'over') {
    lx.next(M);
    const at = lx.peek(M);
    const expr = parseExpr(lx, M);
    const u = lx.peek(M);
    const key = OVER_UNITS[lower(u)];
    if (key === undefined) throw fail(u, Object.keys(OVER_UNITS), `expected a period unit after "Over ${''}..." (${Object.keys(OVER_UNITS).join(', ')}), found ${u.type === 'eof' ? 'end of input' : JSON.stringify(u.text)}`);
    lx.next(M);
    conditions.push({ key, op: '>', value: { kind: 'number', expr }, pos: { line: at.line, column: at.column } });
    expectPunct(lx, M, ',');
  }
  const outcomes: Outcome[] = [];
  for (;;) {
    outcomes.push(parseOutcome(lx));
    if (isWord(lx, 'and')) lx.next(M);
    else if (isPunct(lx, M, ',')) {
      lx.next(M);
      if (isWord(lx, 'and')) lx.next(M);
    } else break;
  }
  expectPunct(lx, M, '.');
  return { form: 'natural', pos, conditions, outcomes };
}

function parsePhrase(lx: Lexer): { def: KeyDef; pos: Pos } {
  if (isWord(lx, 'the')) lx.next(M);
  const start = lx.peek(M);
  // PHRASES is sorted longest first, so "cost per cpu-hour" is tried before shorter phrases.
  for (const p of PHRASES) {
    if (matchAhead(lx, p.words)) {
      for (let i = 0; i < p.words.length; i++) lx.next(M);
      return { def: p.def, pos: { line: start.line, column: start.column } };
    }
  }
  throw fail(start, ['a known term such as "the event" or "the cost per hour"'], `unknown term starting at ${start.type === 'eof' ? 'end of input' : JSON.stringify(start.text)}`);
}

/** Whether the next words are `words`, consuming nothing. */
function matchAhead(lx: Lexer, words: readonly string[]): boolean {
  const mark = lx.mark();
  try {
    for (const w of words) {
      if (lower(lx.next(M)) !== w) return false;
    }
    return true;
  } finally {
    lx.reset(mark);
  }
}

function parseCondition(lx: Lexer): Condition {
  const { def, pos } = parsePhrase(lx);
  if (def.kind === 'outcome' || def.kind === 'control') throw fail(pos, ['"then"'], `${def.key} is a price element, not a fact to test: expected "then" before it`);
  expectWord(lx, 'is');
  let op: CompareOp = '=';
  for (const [words, o] of MODIFIERS) {
    if (matchAhead(lx, words)) {
      for (let i = 0; i < words.length; i++) lx.next(M);
      op = o;
      break;
    }
  }
  const valTok = lx.peek(M);
  const { value } = parseValue(lx, def);
  if (value.kind === 'string' && op !== '=' && op !== '!=') throw fail(valTok, ['a number'], 'text can only be tested with "is" or "is not"');
  return { key: def.key, op, value, pos };
}

function parseOutcome(lx: Lexer): Outcome {
  const t = lx.peek(M);
  const pos: Pos = { line: t.line, column: t.column };
  if (t.type === 'num' && TOKEN_BASES[lower(lookAhead(lx, 1))] !== undefined) {
    if (t.text !== '1') throw fail(t, ['"1"'], 'a token conversion reads "1 CPU-hour is N tokens"');
    lx.next(M);
    const key = TOKEN_BASES[lower(lx.next(M))]!;
    expectWord(lx, 'is');
    const expr = parseExpr(lx, M);
    expectWord(lx, 'token', 'tokens');
    return { key, value: { kind: 'number', expr }, pos };
  }
  if (t.type === 'num' || (t.type === 'punct' && (t.text === '(' || t.text === '-'))) {
    const expr = parseExpr(lx, M);
    if (isPunct(lx, M, '%')) lx.next(M);
    else expectWord(lx, 'percent');
    expectWord(lx, 'off');
    return { key: 'DISCOUNT_PERCENT', value: { kind: 'number', expr }, pos };
  }
  const { def } = parsePhrase(lx);
  if (!assigns(def)) throw fail(pos, ['a price element such as "the cost per hour"'], `${def.key} is a fact, it cannot be assigned`);
  expectWord(lx, 'is');
  const { value } = parseValue(lx, def);
  return { key: def.key, value, pos };
}

function lookAhead(lx: Lexer, n: number): Token {
  const mark = lx.mark();
  try {
    let t = lx.next(M);
    for (let i = 0; i < n; i++) t = lx.next(M);
    return t;
  } finally {
    lx.reset(mark);
  }
}

function parseValue(lx: Lexer, def: KeyDef): { value: Value; unitPos: Pos } {
  const t = lx.peek(M);
  let value: Value;
  if (def.type === 'string') {
    if (t.type === 'str') {
      lx.next(M);
      value = { kind: 'string', value: t.text };
    } else {
      const words: string[] = [];
      for (let w = lx.peek(M); (w.type === 'word' || w.type === 'num') && !(words.length > 0 && RESERVED.has(lower(w))); w = lx.peek(M)) {
        words.push(lx.next(M).text);
      }
      if (words.length === 0) throw fail(t, ['a value such as VM Assignment']);
      value = { kind: 'string', value: words.join(' ') };
    }
    checkValue(def, value, t, t);
    return { value, unitPos: t };
  }
  if (t.type === 'word' && ['graduated', 'volume', 'curve'].includes(lower(t))) {
    lx.next(M);
    value = parseListValue(lx, M, lower(t));
  } else {
    value = { kind: 'number', expr: parseExpr(lx, M) };
  }
  const u = lx.peek(M);
  if (value.kind !== 'curve' && ((u.type === 'word' && !RESERVED.has(lower(u))) || (u.type === 'punct' && u.text === '%'))) {
    lx.next(M);
    if (value.kind !== 'string') value = { ...value, unit: u.text.toLowerCase() };
  }
  checkValue(KEY_INDEX.get(def.key)!, value, t, u);
  return { value, unitPos: u };
}
