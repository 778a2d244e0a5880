/**
 * The forward-chaining engine. Working memory is one fact set (a usage record, an
 * event or a billing period with its account's facts). Rules whose conditions hold
 * form the agenda; the first rule in conflict-resolution order fires (salience, then
 * specificity, then declaration order — see {@link ruleOrder}); a rule that derives a
 * fact makes the rules reading that fact be tested again; this repeats until no rule
 * is left to fire (a fixed point). Each rule fires at most once per fact set, at most
 * one rule per activation group fires, and the first rule to assign an outcome's slot
 * wins (see {@link slotOf}: all COST_PER_* keys share one slot): later rules assigning
 * it are reported as shadowed, never silently dropped.
 * Derived facts cannot form cycles (checked by compilePolicy), so this always ends.
 */
import type { CompiledPolicy, CompiledRule, CompiledValue, Facts } from './compile.js';
import { KEY_INDEX, slotOf } from './keys.js';

/** A rule that matched but did not set `key` because `by` had already (or, for ACTIVATION_GROUP, because `by` fired in its group). */
export interface Shadowed {
  rule: CompiledRule;
  key: string;
  by: CompiledRule;
}

/** What the engine concluded for one fact set. */
export interface Inference {
  /** Outcome key to its value and the rule that set it. */
  outcomes: Map<string, { value: CompiledValue; rule: CompiledRule }>;
  /** Rules fired, in firing order. */
  fired: CompiledRule[];
  shadowed: Shadowed[];
}

/** Run the rules over `facts` to a fixed point. Derived facts are added to `facts`. */
export function infer(policy: CompiledPolicy, facts: Facts): Inference {
  const event = facts['EVENT'];
  const type = facts['RESOURCE_TYPE'];
  const cands = policy.candidates(typeof event === 'string' ? event : undefined, typeof type === 'string' ? type : undefined);
  const n = cands.length;
  const matched = new Uint8Array(n);
  const done = new Uint8Array(n);
  for (let i = 0; i < n; i++) matched[i] = cands[i]!.test(facts) ? 1 : 0;
  const outcomes: Inference['outcomes'] = new Map();
  const fired: CompiledRule[] = [];
  const shadowed: Shadowed[] = [];
  const groups = new Map<string, CompiledRule>();
  const slots = new Map<string, CompiledRule>();
  for (;;) {
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (matched[i] === 1 && done[i] === 0) {
        const g = cands[i]!.group;
        if (g !== undefined && groups.has(g)) {
          done[i] = 1;
          shadowed.push({ rule: cands[i]!, key: 'ACTIVATION_GROUP', by: groups.get(g)! });
          continue;
        }
        pick = i;
        break;
      }
    }
    if (pick < 0) break;
    const rule = cands[pick]!;
    done[pick] = 1;
    fired.push(rule);
    if (rule.group !== undefined) groups.set(rule.group, rule);
    let changed: string[] | undefined;
    for (const o of rule.outcomes) {
      const slot = slotOf(o.key);
      const owner = slots.get(slot);
      if (owner !== undefined && owner !== rule) {
        shadowed.push({ rule, key: o.key, by: owner });
        continue;
      }
      slots.set(slot, rule);
      outcomes.set(o.key, { value: o.value, rule });
      if (KEY_INDEX.get(o.key)!.kind === 'derived' && o.value.kind === 'string') {
        facts[o.key] = o.value.value;
        (changed ??= []).push(o.key);
      }
    }
    if (changed) {
      for (let i = 0; i < n; i++) {
        if (done[i] === 0 && cands[i]!.reads.some((k) => changed.includes(k))) matched[i] = cands[i]!.test(facts) ? 1 : 0;
      }
    }
  }
  return { outcomes, fired, shadowed };
}
