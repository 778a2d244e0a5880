/**
 * One call from text to a compiled policy, for callers that want an exception:
 * parse errors and compile errors both become a PolicyCompileError listing every issue.
 */
import type { CompiledPolicy, CompileOptions } from './compile.js';
import { compilePolicy, PolicyCompileError } from './compile.js';
import { parsePolicy } from './parse.js';

/** Parse and compile a policy text; throws PolicyCompileError with every issue (line, column, message). */
export function loadPolicy(text: string, opts: CompileOptions = {}): CompiledPolicy {
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new PolicyCompileError(parsed.errors);
  return compilePolicy(parsed.policy, opts);
}
