/**
 * `parsePolicy`: a policy text (DSL lines and natural sentences, mixed freely) to a
 * syntax tree, or every error found (each with line, column and what was expected).
 * A statement starting with an upper-case KEY is DSL; anything else is a sentence.
 */
import type { Policy, PolicyIssue, Rule } from './ast.js';
import { parseDslRule, startsDsl } from './dsl.js';
import { Lexer, ParseFail } from './lexer.js';
import { parseNaturalRule } from './natural.js';

/** The result of parsing: the tree, or the errors (never both). */
export type ParseResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyIssue[] };

/** Stop collecting after this many errors (the rest are usually consequences). */
export const MAX_ERRORS = 50;
/** Longest accepted policy text, in characters. */
export const MAX_POLICY_CHARS = 1_000_000;

/** Parse a policy text. Never throws on bad input: errors are returned. */
export function parsePolicy(text: string): ParseResult {
  if (text.length > MAX_POLICY_CHARS) {
    return { ok: false, errors: [{ line: 1, column: 1, expected: [], found: '', message: `policy is longer than ${MAX_POLICY_CHARS} characters` }] };
  }
  // A byte-order mark (some editors write one) is invisible in editors, so it takes no column.
  const lx = new Lexer(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const rules: Rule[] = [];
  const errors: PolicyIssue[] = [];
  for (;;) {
    let mode: 'dsl' | 'natural' = 'dsl';
    try {
      const t = lx.peek('dsl');
      if (t.type === 'nl') {
        lx.next('dsl');
        continue;
      }
      if (t.type === 'eof') break;
      mode = startsDsl(t) ? 'dsl' : 'natural';
      rules.push(mode === 'dsl' ? parseDslRule(lx) : parseNaturalRule(lx));
    } catch (err) {
      if (!(err instanceof ParseFail)) throw err;
      errors.push(err.issue);
      if (errors.length >= MAX_ERRORS || !recover(lx, mode)) break;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: { rules } };
}

/**
 * Skip the rest of a bad statement: a DSL rule ends at its line's end; a sentence at
 * its full stop or a blank line. Returns false at the end of input.
 */
function recover(lx: Lexer, mode: 'dsl' | 'natural'): boolean {
  if (mode === 'dsl') return lx.skipLine();
  let newlines = 0;
  for (;;) {
    let t;
    try {
      t = lx.next('dsl');
    } catch {
      if (!lx.skipLine()) return false;
      newlines = 1;
      continue;
    }
    if (t.type === 'eof') return false;
    if (t.type === 'punct' && t.text === '.') return true;
    if (t.type === 'nl') {
      newlines++;
      if (newlines >= 2) return true;
    } else {
      newlines = 0;
    }
  }
}
