/**
 * billing-api's policy, as in OpenStack: every rule has a default here in code,
 * an operator overrides any of them in a YAML policy file, and
 * `tally api policy-sample` prints the defaults as a commented sample.
 *
 * Roles: `admin` sees and changes everything; `member` and `reader` see their
 * token's project only (member implies reader in Keystone, both are listed so
 * a deployment without the implication behaves the same).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TallyError, ValidationError } from '@tally/common';
import { evaluate, parseCheck, referencedRules, type Check, type Credentials, type Target } from './rules.js';

/** One rule with its default, as documented in the sample. */
export interface RuleDefault {
  name: string;
  check: string;
  description: string;
  /** `METHOD path` pairs the rule guards; empty for base rules. */
  operations: string[];
}

const base = (name: string, check: string, description: string): RuleDefault => ({ name, check, description, operations: [] });
const op = (name: string, check: string, description: string, ...operations: string[]): RuleDefault => ({ name, check, description, operations });

/** Every rule billing-api knows, base rules first. Routes name these. */
export const RULE_DEFAULTS: readonly RuleDefault[] = [
  base('admin', 'role:admin', 'A cloud administrator: every project, every action.'),
  base('project_reader', '(role:reader or role:member or role:admin) and project_id:%(project_id)s', 'Any role on the target project.'),
  base('project_member', '(role:member or role:admin) and project_id:%(project_id)s', 'Member (or admin) of the target project.'),
  base('any_role', 'role:reader or role:member or role:admin', 'Any role on some project (results are limited to that project).'),
  base('admin_or_reader', 'rule:admin or rule:project_reader', 'Admin, or any role on the target project.'),
  base('authenticated_admin', 'rule:admin and authenticated:True', 'Admin with a validated Keystone token (never a noauth caller).'),
  op('billing:projects:list', 'rule:any_role', 'List projects with month-to-date totals (non-admins see their own project only).', 'GET /v1/projects'),
  op('billing:charges:get', 'rule:admin_or_reader', "A project's charges for a period.", 'GET /v1/projects/{project_id}/charges'),
  op('billing:usage:get', 'rule:admin_or_reader', "A project's usage and charges grouped by resource, flavor or day.", 'GET /v1/projects/{project_id}/usage'),
  op('billing:forecast:get', 'rule:admin_or_reader', "A project's month-to-date total and end-of-month forecast.", 'GET /v1/projects/{project_id}/forecast'),
  op('billing:policies:list', 'rule:any_role', 'List pricing policies and their versions.', 'GET /v1/pricing-policies', 'GET /v1/pricing-policies/{name}'),
  op('billing:policies:write', 'rule:admin', 'Add, modify or delete a pricing policy.', 'POST /v1/pricing-policies', 'PUT /v1/pricing-policies/{name}', 'DELETE /v1/pricing-policies/{name}'),
  op('billing:policies:validate', 'rule:admin', 'Validate or simulate a draft pricing policy.', 'POST /v1/pricing-policies/validate', 'POST /v1/pricing-policies/simulate'),
  op('billing:quotes:create', 'rule:any_role', 'Price a described set of resources (no data is read or written).', 'POST /v1/quotes'),
  op('billing:accounts:list', 'rule:admin', 'List every account (payer).', 'GET /v1/accounts'),
  op('billing:accounts:get', 'rule:admin_or_reader', 'An account, its balance and projects (target: a project it pays for).', 'GET /v1/accounts/{account_id}', 'GET /v1/accounts/{account_id}/ledger'),
  op('billing:accounts:write', 'rule:admin', 'Create or change an account and its payment scheme.', 'POST /v1/accounts', 'PATCH /v1/accounts/{account_id}'),
  op('billing:accounts:topup', 'rule:authenticated_admin', 'Credit an account (a top-up).', 'POST /v1/accounts/{account_id}/topups'),
  op('billing:invoices:get', 'rule:admin_or_reader', "An account's invoices and their CSV (target: a project it pays for).", 'GET /v1/accounts/{account_id}/invoices', 'GET /v1/invoices/{invoice_id}', 'GET /v1/invoices/{invoice_id}/csv'),
  op('billing:project_account:get', 'rule:admin_or_reader', 'The account paying for a project (id, name, scheme, balances).', 'GET /v1/projects/{project_id}/account'),
  op('billing:project_invoices:get', 'rule:admin_or_reader', "A project's invoices, detail and CSV (only the project's lines when its account pays for other projects too).",
    'GET /v1/projects/{project_id}/invoices', 'GET /v1/projects/{project_id}/invoices/{invoice_id}', 'GET /v1/projects/{project_id}/invoices/{invoice_id}/csv'),
  op('billing:invoices:write', 'rule:authenticated_admin', 'Finalize or void an invoice, issue a credit note.', 'POST /v1/invoices/{invoice_id}/finalize', 'POST /v1/invoices/{invoice_id}/void', 'POST /v1/invoices/{invoice_id}/credit-notes'),
  op('billing:runs:create', 'rule:authenticated_admin', 'Start a billing run for a period.', 'POST /v1/billing-runs'),
  op('billing:modes:get', 'rule:admin_or_reader', "A project's resources and their billing modes.", 'GET /v1/projects/{project_id}/billing-modes'),
  op('billing:modes:write', 'rule:admin or rule:project_member', "Set a project's resources' billing modes (one, or a template of many); readers may not.",
    'PUT /v1/projects/{project_id}/resources/{resource_id}/billing-mode', 'POST /v1/projects/{project_id}/billing-modes'),
  op('billing:pools:list', 'rule:any_role', 'Pools with their free-capacity series and dynamic factors.', 'GET /v1/pools'),
  op('billing:pools:write', 'rule:admin', "Feed a pool's free capacity (the admin feed; Nova/Placement later).", 'POST /v1/pools/{name}/capacity'),
  op('billing:audit:list', 'rule:admin', 'Read the audit trail.', 'GET /v1/audit'),
  op('billing:components:list', 'rule:admin', "The scheduler's registry of Tally's running parts and their load.", 'GET /v1/components'),
  op('billing:alerts:list', 'rule:admin', 'List alerts (lost parts, clusters at max size, cloud refusals, …).', 'GET /v1/alerts'),
  op('billing:alerts:acknowledge', 'rule:admin', 'Acknowledge an alert.', 'POST /v1/alerts/{alert_id}/acknowledge'),
  op('billing:scheduler:get', 'rule:admin', "The scheduler's clusters, decision log, action audit trail and scaling policies; validate a scaling policy.",
    'GET /v1/scheduler/clusters', 'GET /v1/scheduler/decisions', 'GET /v1/scheduler/actions', 'GET /v1/scaling-policies', 'GET /v1/scaling-policies/{cluster}', 'POST /v1/scaling-policies/validate'),
  op('billing:scaling_policies:write', 'rule:admin', "Store or delete a cluster's scaling policy.", 'PUT /v1/scaling-policies/{cluster}', 'DELETE /v1/scaling-policies/{cluster}'),
];

/** The caller may not do this: 403, naming the rule. */
export class ForbiddenError extends TallyError {
  constructor(rule: string) {
    super('forbidden', `policy does not allow ${rule}`);
  }
}

/** The loaded policy: defaults with overrides applied, all parsed. */
export class AccessPolicy {
  private readonly rules: Map<string, Check>;

  /** `overrides`: rule name → check string (from a policy file). Throws ValidationError naming the bad rule. */
  constructor(overrides: Record<string, string> = {}) {
    this.rules = new Map();
    for (const d of RULE_DEFAULTS) this.rules.set(d.name, parseCheck(d.check, d.name));
    for (const [name, text] of Object.entries(overrides)) {
      if (typeof text !== 'string') throw new ValidationError(name, 'a policy rule must be a check string');
      this.rules.set(name, parseCheck(text, name));
    }
    for (const [name, check] of this.rules) {
      for (const ref of referencedRules(check)) {
        if (!this.rules.has(ref)) throw new ValidationError(name, `refers to unknown rule "${ref}"`);
      }
    }
  }

  /** Does the policy allow `rule` for `creds` on `target`? An unknown rule name is a programming error. */
  allows(rule: string, creds: Credentials, target: Target = {}): boolean {
    const check = this.rules.get(rule);
    if (!check) throw new TallyError('policy_unknown_rule', `no policy rule named ${rule}`);
    return evaluate(check, creds, target, this.rules);
  }

  /** Like {@link allows}, but throws {@link ForbiddenError} when denied. */
  enforce(rule: string, creds: Credentials, target: Target = {}): void {
    if (!this.allows(rule, creds, target)) throw new ForbiddenError(rule);
  }
}

/** Parse a YAML (or JSON) policy file's text into overrides. */
export function parseAccessPolicyFile(text: string, source = 'policy file'): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ValidationError(source, `not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ValidationError(source, 'must be a mapping of rule name to check string');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new ValidationError(k, 'a policy rule must be a check string');
    out[k] = v;
  }
  return out;
}

/** Load the policy: defaults, plus the file's overrides when `path` is not empty. */
export function loadAccessPolicy(path: string): AccessPolicy {
  if (path === '') return new AccessPolicy();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValidationError('policy-file', `cannot read ${path}: ${(e as Error).message}`);
  }
  return new AccessPolicy(parseAccessPolicyFile(text, path));
}

/** The commented sample policy file, like oslopolicy-sample-generator's output. */
export function renderAccessPolicySample(): string {
  const lines = ['# billing-api policy (YAML). Every rule below shows its default; uncomment to override.', ''];
  for (const d of RULE_DEFAULTS) {
    lines.push(`# ${d.description}`);
    for (const o of d.operations) lines.push(`# ${o}`);
    lines.push(`#${JSON.stringify(d.name)}: ${JSON.stringify(d.check)}`, '');
  }
  return lines.join('\n');
}
