/**
 * The quote worker thread: prices one quote at a time with the pricing core and
 * answers with the JSON of the result as UTF-8 bytes, so neither the pricing nor
 * the serialisation nor the encoding of a large quote runs on the API's event loop. Policy
 * versions arrive as source text (compiled policies hold functions, which cannot
 * cross threads) and are compiled once per version.
 */
import { parentPort } from 'node:worker_threads';
import { TallyError } from '@tally/common';
import { compilePolicy, parsePolicy, quote, type CompiledPolicy, type PolicyVersion } from '../pricing/index.js';
import type { QuoteTask, QuoteReply } from './runner.js';

const compiled = new Map<string, CompiledPolicy>();

function compile(label: string, source: string): CompiledPolicy {
  const key = `${label}\u0000${source}`;
  let c = compiled.get(key);
  if (!c) {
    const parsed = parsePolicy(source);
    if (!parsed.ok) throw new TallyError('policy_invalid', `stored policy ${label} no longer parses`);
    c = compilePolicy(parsed.policy);
    if (compiled.size > 256) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

function run(task: QuoteTask): QuoteReply {
  try {
    const versions: PolicyVersion[] = task.versions.map((v) => ({ effectiveFrom: new Date(v.effectiveFrom), policy: compile(v.label, v.source), label: v.label }));
    const q = quote(versions, task.request, { now: new Date(task.now), id: task.id });
    // UTF-8 here, so the API's thread neither encodes nor copies the answer (it is transferred).
    return { ok: true, json: new TextEncoder().encode(JSON.stringify(q)) };
  } catch (e) {
    const err = e as TallyError;
    return { ok: false, code: err instanceof TallyError ? err.code : 'internal_error', message: String(err?.message ?? err), ...(err instanceof TallyError && err.field ? { field: err.field } : {}) };
  }
}

parentPort?.on('message', (task: QuoteTask) => {
  const reply = run(task);
  parentPort!.postMessage(reply, reply.ok ? [reply.json.buffer as ArrayBuffer] : []);
});
