/**
 * Pricing policies as billing-api answers them (`/v1/pricing-policies…`), checked
 * before use, and the pure pieces of the editor: grouping versions by name and
 * the live-versus-draft comparison of a simulation.
 * A stored version's shape comes from `@tally/billing-api/wire`; the validate and
 * simulate answers are described here.
 */
import Decimal from 'decimal.js';
import { isDecimalString } from './format.js';
import { ApiError } from './shape.js';
import type { PolicyVersionView } from './types.js';

/** One stored version of a policy (the API's contract). */
export type { PolicyVersionView };

/** One problem in a policy text. */
export interface PolicyIssueView {
  line: number;
  column: number;
  message: string;
  text: string;
}

/** `POST /v1/pricing-policies/validate`. */
export interface ValidationResult {
  valid: boolean;
  issues: PolicyIssueView[];
}

/** One side of a simulation: the currency, the total and each project's amount. */
export interface SimulationSide {
  currency: string;
  total: string;
  projects: Record<string, string>;
}

/** `POST /v1/pricing-policies/simulate`: last month rated by the live policies and by the draft. */
export interface SimulationResult {
  period: { start: string; end: string };
  usage_records: number;
  live: SimulationSide;
  draft: SimulationSide;
}

function bad(what: string): never {
  throw new ApiError(200, 'bad_response', `the billing API sent an unexpected response (${what})`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkVersion(v: unknown): PolicyVersionView {
  if (!isObj(v) || typeof v['name'] !== 'string' || typeof v['version'] !== 'number' || typeof v['source'] !== 'string' || typeof v['effective_from'] !== 'string') bad('policy version');
  return v as unknown as PolicyVersionView;
}

/** Check `{policies: [...]}` or `{name, versions: [...]}`; returns the versions. */
export function parseVersions(body: unknown): PolicyVersionView[] {
  if (!isObj(body)) bad('body');
  const list = body['policies'] ?? body['versions'];
  if (!Array.isArray(list)) bad('policies');
  return list.map(checkVersion);
}

/** Check a validation answer. */
export function parseValidation(body: unknown): ValidationResult {
  if (!isObj(body) || typeof body['valid'] !== 'boolean' || !Array.isArray(body['issues'])) bad('validation');
  for (const i of body['issues'] as unknown[]) if (!isObj(i) || typeof i['line'] !== 'number' || typeof i['message'] !== 'string') bad('issue');
  return body as unknown as ValidationResult;
}

function checkSide(v: unknown, what: string): SimulationSide {
  if (!isObj(v) || typeof v['currency'] !== 'string' || !isDecimalString(v['total']) || !isObj(v['projects'])) bad(what);
  for (const a of Object.values(v['projects'] as Record<string, unknown>)) if (!isDecimalString(a)) bad(`${what} project amount`);
  return v as unknown as SimulationSide;
}

/** Check a simulation answer. */
export function parseSimulation(body: unknown): SimulationResult {
  if (!isObj(body) || !isObj(body['period']) || typeof body['usage_records'] !== 'number') bad('simulation');
  checkSide(body['live'], 'live');
  checkSide(body['draft'], 'draft');
  return body as unknown as SimulationResult;
}

/** Policy names with their versions, newest first; names sorted. */
export function groupByName(versions: readonly PolicyVersionView[]): Map<string, PolicyVersionView[]> {
  const out = new Map<string, PolicyVersionView[]>();
  for (const v of [...versions].sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version)) {
    out.set(v.name, [...(out.get(v.name) ?? []), v]);
  }
  return out;
}

/** One row of the simulation table: a project (or the total), live, draft and the exact difference. */
export interface ComparisonRow {
  project: string;
  live: string;
  draft: string;
  change: string;
}

/** Live versus draft per project (a project missing on one side counts 0), then the totals. */
export function compareSimulation(s: SimulationResult): ComparisonRow[] {
  const ids = [...new Set([...Object.keys(s.live.projects), ...Object.keys(s.draft.projects)])].sort();
  const row = (project: string, live: string, draft: string): ComparisonRow => {
    const d = new Decimal(draft).minus(live);
    return { project, live, draft, change: `${d.isPositive() && !d.isZero() ? '+' : ''}${d.toFixed()}` };
  };
  return [
    ...ids.map((id) => row(id, s.live.projects[id] ?? '0', s.draft.projects[id] ?? '0')),
    row('total', s.live.total, s.draft.total),
  ];
}
