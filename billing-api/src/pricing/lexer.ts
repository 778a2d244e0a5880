/**
 * The hand-written tokenizer of both policy languages. Tokens are read on demand in a
 * mode: `dsl` keeps newlines (a DSL rule ends at the end of its line unless the line
 * ends with a comma) and reads identifiers; `natural` skips newlines (a sentence ends
 * with a full stop) and reads words, which may contain `'`, `-` and `.` between
 * letters or digits (`client's`, `CPU-hour`, `m1.tiny`).
 */
import type { PolicyIssue, Pos } from './ast.js';

/** Token types. `word` is an identifier in the DSL and a word in the natural language. */
export type TokenType = 'word' | 'num' | 'str' | 'punct' | 'nl' | 'eof';

/** One token with its 1-based position. */
export interface Token {
  type: TokenType;
  text: string;
  line: number;
  column: number;
  offset: number;
}

/** Thrown inside a statement; the parser records it and resynchronises. */
export class ParseFail extends Error {
  constructor(readonly issue: PolicyIssue) {
    super(issue.message);
  }
}

const PUNCT2 = ['==', '!=', '>=', '<='];
const PUNCT1 = ',.;():%=><+-*/';
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Describe a token for messages. */
export function describe(t: Token): string {
  if (t.type === 'eof') return 'end of input';
  if (t.type === 'nl') return 'end of line';
  return JSON.stringify(t.text);
}

/** A fail at a token. */
export function fail(t: Token | Pos, expected: string[], message?: string): ParseFail {
  const found = 'type' in t ? describe(t) : '';
  const msg = message ?? `expected ${expected.join(' or ')}, found ${found}`;
  return new ParseFail({ line: t.line, column: t.column, expected, found, message: msg });
}

/** An on-demand tokenizer over one source text. */
export class Lexer {
  private offset = 0;
  private line = 1;
  private lineStart = 0;
  private peeked: { mode: 'dsl' | 'natural'; tok: Token; end: [number, number, number] } | undefined;

  constructor(private readonly src: string) {}

  /** The next token without consuming it. */
  peek(mode: 'dsl' | 'natural'): Token {
    if (this.peeked && this.peeked.mode === mode) return this.peeked.tok;
    const save: [number, number, number] = [this.offset, this.line, this.lineStart];
    const tok = this.read(mode);
    const end: [number, number, number] = [this.offset, this.line, this.lineStart];
    [this.offset, this.line, this.lineStart] = save;
    this.peeked = { mode, tok, end };
    return tok;
  }

  /** Consume and return the next token. */
  next(mode: 'dsl' | 'natural'): Token {
    const tok = this.peek(mode);
    [this.offset, this.line, this.lineStart] = this.peeked!.end;
    this.peeked = undefined;
    return tok;
  }

  /** The current position, to return to with {@link reset} (look-ahead in the natural language). */
  mark(): [number, number, number] {
    return [this.offset, this.line, this.lineStart];
  }

  /** Return to a position from {@link mark}. */
  reset(m: [number, number, number]): void {
    [this.offset, this.line, this.lineStart] = m;
    this.peeked = undefined;
  }

  /** Skip to just after the next newline (error recovery); returns false at the end of input. */
  skipLine(): boolean {
    this.peeked = undefined;
    const i = this.src.indexOf('\n', this.offset);
    if (i < 0) {
      this.offset = this.src.length;
      return false;
    }
    this.offset = i + 1;
    this.line += 1;
    this.lineStart = this.offset;
    return true;
  }

  private read(mode: 'dsl' | 'natural'): Token {
    const s = this.src;
    for (;;) {
      const c = s[this.offset];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
        this.offset++;
      } else if (c === '#') {
        while (this.offset < s.length && s[this.offset] !== '\n') this.offset++;
      } else if (c === '\n') {
        const tok = this.make('nl', '\n');
        this.offset++;
        this.line++;
        this.lineStart = this.offset;
        if (mode === 'dsl') return tok;
      } else {
        break;
      }
    }
    if (this.offset >= s.length) return this.make('eof', '');
    const start = this.offset;
    const c = s[start]!;
    if (c === '"') return this.readString();
    if (isAlnum(c)) {
      let i = start;
      const inner = mode === 'natural' ? /['.\-’]/ : /\./;
      for (;;) {
        while (isAlnum(s[i])) i++;
        const d = s[i];
        // In the DSL only a decimal point joins (0.0002); in words `'`, `-` and `.` join alnums.
        const joins = mode === 'natural' || /^\d+$/.test(s.slice(start, i));
        if (d !== undefined && joins && inner.test(d) && isAlnum(s[i + 1])) i++;
        else break;
      }
      const text = s.slice(start, i).replace(/’/g, "'");
      const tok = this.make(/^\d+(\.\d+)?$/.test(text) ? 'num' : 'word', text);
      this.offset = i;
      return tok;
    }
    const two = s.slice(start, start + 2);
    if (PUNCT2.includes(two)) {
      const tok = this.make('punct', two);
      this.offset += 2;
      return tok;
    }
    if (PUNCT1.includes(c) || c === '€') {
      const tok = this.make(c === '€' ? 'word' : 'punct', c);
      this.offset++;
      return tok;
    }
    throw fail(this.make('punct', c), [], `unexpected character ${JSON.stringify(c)}`);
  }

  private readString(): Token {
    const s = this.src;
    const tok = this.make('str', '');
    let i = this.offset + 1;
    let out = '';
    for (;;) {
      const c = s[i];
      if (c === undefined || c === '\n') throw fail(tok, ['closing "'], 'unterminated string: expected closing "');
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e !== '"' && e !== '\\') throw fail({ line: tok.line, column: tok.column + (i - this.offset) }, ['\\" or \\\\'], `unknown escape \\${e ?? ''} in string`);
        out += e;
        i += 2;
      } else {
        out += c;
        i++;
      }
    }
    this.offset = i + 1;
    return { ...tok, text: out };
  }

  private make(type: TokenType, text: string): Token {
    return { type, text, line: this.line, column: this.offset - this.lineStart + 1, offset: this.offset };
  }
}
