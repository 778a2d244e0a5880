/**
 * The oslo.policy rule language, pure: parse a check string into a tree and
 * evaluate it against the caller's credentials and the target of the request.
 *
 * Supported, as in oslo.policy: `@` (always), `!` (never), `role:<name>`,
 * `rule:<name>`, generic `<cred key>:<value>` where the value is a literal or
 * `%(<target key>)s`, `not`, `and`, `or` and parentheses (`and` binds tighter).
 */
import { ValidationError } from '@tally/common';

/** A parsed check. */
export type Check =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'role'; role: string }
  | { kind: 'rule'; rule: string }
  | { kind: 'generic'; key: string; value: string }
  | { kind: 'not'; check: Check }
  | { kind: 'and'; checks: Check[] }
  | { kind: 'or'; checks: Check[] };

/** Who is calling: from a validated Keystone token, or the noauth identity. */
export interface Credentials {
  user_id: string;
  user_name: string;
  project_id: string | null;
  project_name: string | null;
  roles: string[];
  /** `"True"` for a Keystone-validated caller, `"False"` under noauth (usable as `authenticated:True`). */
  authenticated: 'True' | 'False';
}

/** What a request acts on; `project_id` for project-scoped resources. */
export type Target = Record<string, string | undefined>;

function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.trim().split(/\s+/)) {
    if (raw === '') continue;
    let word = raw;
    while (word.startsWith('(')) {
      out.push('(');
      word = word.slice(1);
    }
    let closing = 0;
    while (word.endsWith(')')) {
      closing++;
      word = word.slice(0, -1);
    }
    if (word !== '') out.push(word);
    for (let i = 0; i < closing; i++) out.push(')');
  }
  return out;
}

function atom(word: string, where: string): Check {
  if (word === '@') return { kind: 'true' };
  if (word === '!') return { kind: 'false' };
  const colon = word.indexOf(':');
  if (colon <= 0 || colon === word.length - 1) throw new ValidationError(where, `cannot parse check "${word}" (expected kind:value, @ or !)`);
  const key = word.slice(0, colon);
  const value = word.slice(colon + 1);
  if (key === 'role') return { kind: 'role', role: value };
  if (key === 'rule') return { kind: 'rule', rule: value };
  return { kind: 'generic', key, value };
}

/** Parse a check string; an empty string means "always allowed", as in oslo.policy. `where` names the rule in errors. */
export function parseCheck(text: string, where = 'rule'): Check {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: 'true' };
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const orExpr = (): Check => {
    const parts = [andExpr()];
    while (peek() === 'or') {
      pos++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', checks: parts };
  };
  const andExpr = (): Check => {
    const parts = [notExpr()];
    while (peek() === 'and') {
      pos++;
      parts.push(notExpr());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', checks: parts };
  };
  const notExpr = (): Check => {
    if (peek() === 'not') {
      pos++;
      return { kind: 'not', check: notExpr() };
    }
    const t = peek();
    if (t === undefined) throw new ValidationError(where, `unexpected end of check string "${text}"`);
    pos++;
    if (t === '(') {
      const inner = orExpr();
      if (peek() !== ')') throw new ValidationError(where, `missing ")" in "${text}"`);
      pos++;
      return inner;
    }
    if (t === ')' || t === 'and' || t === 'or') throw new ValidationError(where, `unexpected "${t}" in "${text}"`);
    return atom(t, where);
  };
  const check = orExpr();
  if (pos !== tokens.length) throw new ValidationError(where, `unexpected "${tokens[pos]}" in "${text}"`);
  return check;
}

/** Every `rule:<name>` a check refers to (to reject references to unknown rules at load time). */
export function referencedRules(check: Check): string[] {
  switch (check.kind) {
    case 'rule': return [check.rule];
    case 'not': return referencedRules(check.check);
    case 'and':
    case 'or': return check.checks.flatMap(referencedRules);
    default: return [];
  }
}

const TARGET_REF = /^%\(([A-Za-z0-9_.]+)\)s$/;

/**
 * Evaluate `check`. `rules` resolves `rule:` references (an unknown rule is false,
 * as in oslo.policy); `depth` guards against reference cycles.
 */
export function evaluate(check: Check, creds: Credentials, target: Target, rules: ReadonlyMap<string, Check>, depth = 0): boolean {
  if (depth > 32) return false;
  switch (check.kind) {
    case 'true': return true;
    case 'false': return false;
    case 'role': return creds.roles.some((r) => r.toLowerCase() === check.role.toLowerCase());
    case 'rule': {
      const r = rules.get(check.rule);
      return r !== undefined && evaluate(r, creds, target, rules, depth + 1);
    }
    case 'generic': {
      const m = TARGET_REF.exec(check.value);
      let want: string | undefined = check.value;
      if (m) want = target[m[1]!];
      if (want === undefined) return false;
      const have = (creds as unknown as Record<string, unknown>)[check.key];
      return typeof have === 'string' && have === want;
    }
    case 'not': return !evaluate(check.check, creds, target, rules, depth + 1);
    case 'and': return check.checks.every((c) => evaluate(c, creds, target, rules, depth + 1));
    case 'or': return check.checks.some((c) => evaluate(c, creds, target, rules, depth + 1));
  }
}
