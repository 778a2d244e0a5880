/**
 * The pricing core: two policy languages, a forward-chaining rule engine and exact
 * rating. Pure (no HTTP, no database, no clock). See docs/pricing.md.
 *
 *   const parsed = parsePolicy(text);            // { ok, policy } | { ok: false, errors }
 *   const compiled = compilePolicy(parsed.policy); // once per policy version
 *   const { lines, total } = ratePeriod(compiled, { usage, accounts }, period, rates);
 */
export type { Policy, Rule, Condition, Outcome, Value, Expr, Pos, CompareOp, PolicyIssue, TierStep, CurvePoint } from './ast.js';
export { formatIssue } from './ast.js';
export { parsePolicy, MAX_ERRORS, MAX_POLICY_CHARS, type ParseResult } from './parse.js';
export { formatPolicy, formatDslRule, formatNaturalRule, formatExpr } from './format.js';
export {
  compilePolicy, PolicyCompileError, ruleOrder,
  type CompiledPolicy, type CompiledRule, type CompiledValue, type CompileOptions, type Facts, type FactValue,
} from './compile.js';
export { infer, type Inference, type Shadowed } from './engine.js';
export { KEYS, KEY_INDEX, CURRENCY_UNITS, type KeyDef, type KeyKind, type ValueType } from './keys.js';
export {
  METER_EVENTS, PERIOD_EVENT,
  type UsageInput, type OneOffEvent, type AccountFacts, type ResourceFacts, type CapacitySample, type RatingInput,
} from './facts.js';
export {
  ratePeriod, versionAt, roundLine,
  type TokenRate, type PolicyVersion, type PolicySource, type RatingPeriod, type LineKind, type Explanation, type PricedLine, type RatingResult,
} from './rate.js';
export { quote, QUOTE_VALID_SECONDS, type Quote, type QuoteItem, type QuoteRequest } from './quote.js';
export { DEFAULT_POLICY_TEXT } from './default-policy.js';
export { loadPolicy } from './load.js';
export { settleResource, type Settlement } from './settle.js';
