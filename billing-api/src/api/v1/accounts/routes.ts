/**
 * Accounts, top-ups, the ledger view, invoices, credit notes, billing runs and
 * the audit trail. An account's readers are the members and readers of any
 * project it pays for; everything that moves money needs an authenticated admin.
 */
import type { Context } from 'koa';
import { ValidationError, type Knex, type Logger } from '@tally/common';
import type { Credentials, Target } from '../../../auth/rules.js';
import { accountProjects, createAccount, getAccount, listAccounts, topUp, updateAccount, type Scheme } from '../../../accounts/accounts.js';
import { accountEntries } from '../../../accounts/ledger.js';
import { creditNote, finalizeInvoice, invoiceAccountId, invoiceCsv, listInvoices, voidInvoice } from '../../../invoices/invoices.js';
import { runBilling } from '../../../invoices/run.js';
import { auditEvents, type Actor } from '../../../audit.js';
import type { RequestState } from '../../../http-errors.js';
import type { RouteSet } from '../route.js';
import type { AccessPolicy } from '../../../auth/policy.js';
import { isAdmin } from '../../../auth/middleware.js';
import { invoiceForCaller } from '../../../invoices/project-invoices.js';
import type { UsageDeps } from '../../../usage.js';
import { array, decimal, EMPTY_BODY, id, object, oneOf, optional, text, timestamp } from '../schema.js';

const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SCHEMES: readonly Scheme[] = ['postpaid', 'prepaid', 'continuous'];
const KEY = text({ max: 128, pattern: /^[A-Za-z0-9_.:-]+$/, what: '1-128 letters, digits, dots, colons, dashes or underscores', example: 'topup-2026-11-01' });
/** Money as stored (numeric(24,6)): at most 18 digits before the point and 6 after. */
const MONEY = decimal({ example: '100.00' });
const POSITIVE_MONEY = decimal({ example: '100.00', positive: true });
const NAME = text({ max: 200, example: 'Research group' });
const PROJECTS = array(id('proj-a'), { max: 1000, unique: (p) => p, what: 'project ids' });

/** `POST /v1/accounts`. */
export const CREATE_ACCOUNT = object({
  id: optional(id('acct-1')), name: NAME,
  currency: text({ max: 3, pattern: /^[A-Z]{3}$/, what: 'an ISO 4217 code such as EUR', example: 'EUR' }),
  scheme: oneOf(SCHEMES), low_balance_threshold: optional(MONEY), projects: PROJECTS,
});
/** `PATCH /v1/accounts/{id}`. */
export const PATCH_ACCOUNT = object({ name: optional(NAME), scheme: optional(oneOf(SCHEMES)), low_balance_threshold: optional(MONEY), projects: optional(PROJECTS) });
/** `POST /v1/accounts/{id}/topups`. */
export const TOPUP = object({ amount: POSITIVE_MONEY, idempotency_key: KEY });
/** `POST /v1/invoices/{id}/credit-notes`. */
export const CREDIT_NOTE = object({ amount: POSITIVE_MONEY, reason: text({ max: 500, example: 'goodwill credit' }), idempotency_key: KEY });
/** `POST /v1/billing-runs`. */
export const BILLING_RUN = object({
  start: timestamp('2026-10-01T00:00:00Z'), end: timestamp('2026-11-01T00:00:00Z'),
  accounts: optional(array(id('acct-1'), { max: 100_000, unique: (a) => a, what: 'account ids' })),
});
const AUDIT_QUERY = object({
  target_type: optional(text({ max: 64, pattern: /^[a-z_]+$/, what: 'a target type such as account or invoice', example: 'account' })),
  target_id: optional(text({ max: 255, example: 'acct-1' })),
  limit: optional(text({ max: 4, pattern: /^\d+$/, what: 'an integer from 1 to 1000', example: '100' })),
}, { what: 'query parameter' });

/** Deps of these routes. */
export interface AccountRouteDeps extends UsageDeps {
  db: Knex;
  log: Logger;
  clock: () => Date;
  /** To tell an admin (whole invoice) from a project's member or reader (its own lines when the account is shared). */
  policy: AccessPolicy;
}

const actor = (ctx: Context, creds: Credentials): Actor => ({ creds, requestId: (ctx.state as RequestState).requestId });
const pathId = (ctx: Context, field: string): string => {
  const v = ctx.params[field] ?? '';
  if (!ID.test(v)) throw new ValidationError(field, 'must be 1-64 letters, digits, dots, dashes or underscores');
  return v;
};
const creds = (ctx: Context): Credentials | undefined => (ctx.state as { creds?: Credentials }).creds;

/** Target for an account: the caller's project when the account pays for it (so project roles apply), else none. */
async function accountTarget(db: Knex, ctx: Context, accountId: string | undefined): Promise<Target> {
  const own = creds(ctx)?.project_id;
  if (accountId === undefined || own === null || own === undefined) return {};
  const projects = await accountProjects(db, accountId);
  return projects.includes(own) ? { project_id: own } : {};
}

/** Mount the routes. */
export function accountRoutes(routes: RouteSet, deps: AccountRouteDeps): void {
  const { db } = deps;
  routes.add({
    method: 'GET', path: '/v1/accounts', rule: 'billing:accounts:list', summary: 'Every account',
    parse: () => undefined, handle: () => listAccounts(db).then((accounts) => ({ accounts })),
  });
  routes.add({
    method: 'POST', path: '/v1/accounts', rule: 'billing:accounts:write', summary: 'Create an account paying for one or many projects', status: 201,
    body: CREATE_ACCOUNT,
    parse: (_ctx, { body: b }) => ({ id: b.id, name: b.name, currency: b.currency, scheme: b.scheme, lowBalanceThreshold: b.low_balance_threshold ?? '0', projects: b.projects }),
    handle: (input, c, ctx) => createAccount(db, actor(ctx, c), input),
  });
  routes.add({
    method: 'GET', path: '/v1/accounts/:account_id', rule: 'billing:accounts:get', summary: 'An account with its derived balances and alert',
    target: (ctx) => accountTarget(db, ctx, pathId(ctx, 'account_id')),
    parse: (ctx) => pathId(ctx, 'account_id'), handle: (id) => getAccount(db, id),
  });
  routes.add({
    method: 'PATCH', path: '/v1/accounts/:account_id', rule: 'billing:accounts:write', summary: 'Change name, scheme, threshold or projects',
    body: PATCH_ACCOUNT,
    parse: (ctx, { body: b }) => ({ id: pathId(ctx, 'account_id'), patch: { name: b.name, scheme: b.scheme, lowBalanceThreshold: b.low_balance_threshold, projects: b.projects } }),
    handle: (input, c, ctx) => updateAccount(db, actor(ctx, c), input.id, input.patch),
  });
  routes.add({
    method: 'POST', path: '/v1/accounts/:account_id/topups', rule: 'billing:accounts:topup', summary: 'Credit an account (idempotent by idempotency_key)', status: 201,
    body: TOPUP,
    parse: (ctx, { body: b }) => ({ id: pathId(ctx, 'account_id'), amount: b.amount, idempotencyKey: b.idempotency_key }),
    handle: async (input, c, ctx) => {
      const r = await topUp(db, actor(ctx, c), input.id, input);
      if (!r.created) ctx.set('Idempotent-Replay', 'true');
      return r.account;
    },
  });
  routes.add({
    method: 'GET', path: '/v1/accounts/:account_id/ledger', rule: 'billing:accounts:get', summary: "An account's ledger entries, newest first",
    target: (ctx) => accountTarget(db, ctx, pathId(ctx, 'account_id')),
    parse: (ctx) => pathId(ctx, 'account_id'),
    handle: async (id) => ({ account: await getAccount(db, id).then((a) => a.id), entries: await accountEntries(db, id, 500) }),
  });
  routes.add({
    method: 'GET', path: '/v1/accounts/:account_id/invoices', rule: 'billing:invoices:get', summary: "An account's invoices",
    target: (ctx) => accountTarget(db, ctx, pathId(ctx, 'account_id')),
    parse: (ctx) => pathId(ctx, 'account_id'),
    handle: async (id) => ({ account: (await getAccount(db, id)).id, invoices: await listInvoices(db, id) }),
  });
  /** An admin sees the whole invoice; a project's member or reader only its own project's lines when the account pays for several. */
  const callerInvoice = (id: string, c: Credentials) => invoiceForCaller(db, id, { admin: isAdmin(deps.policy, c), projectId: c.project_id });
  const invoiceTarget = async (ctx: Context): Promise<Target> => accountTarget(db, ctx, await invoiceAccountId(db, pathId(ctx, 'invoice_id')));
  routes.add({
    method: 'GET', path: '/v1/invoices/:invoice_id', rule: 'billing:invoices:get', summary: 'An invoice with lines (each referencing its rated line) and credit notes',
    target: invoiceTarget, parse: (ctx) => pathId(ctx, 'invoice_id'), handle: (id, c) => callerInvoice(id, c),
  });
  routes.add({
    method: 'GET', path: '/v1/invoices/:invoice_id/csv', rule: 'billing:invoices:get', summary: 'An invoice as CSV',
    target: invoiceTarget, parse: (ctx) => pathId(ctx, 'invoice_id'),
    handle: async (id, c, ctx) => {
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`${id}.csv`);
      return invoiceCsv(await callerInvoice(id, c));
    },
  });
  routes.add({
    method: 'POST', path: '/v1/invoices/:invoice_id/finalize', rule: 'billing:invoices:write', summary: 'draft → finalized',
    body: EMPTY_BODY, bodyOptional: true,
    parse: (ctx) => pathId(ctx, 'invoice_id'), handle: (id, c, ctx) => finalizeInvoice(db, actor(ctx, c), id),
  });
  routes.add({
    method: 'POST', path: '/v1/invoices/:invoice_id/void', rule: 'billing:invoices:write', summary: 'draft or finalized → void',
    body: EMPTY_BODY, bodyOptional: true,
    parse: (ctx) => pathId(ctx, 'invoice_id'), handle: (id, c, ctx) => voidInvoice(db, actor(ctx, c), id),
  });
  routes.add({
    method: 'POST', path: '/v1/invoices/:invoice_id/credit-notes', rule: 'billing:invoices:write', summary: 'A credit note on a finalized invoice (idempotent by idempotency_key)', status: 201,
    body: CREDIT_NOTE,
    parse: (ctx, { body: b }) => ({ id: pathId(ctx, 'invoice_id'), amount: b.amount, reason: b.reason, idempotencyKey: b.idempotency_key }),
    handle: (input, c, ctx) => creditNote(db, actor(ctx, c), input.id, input),
  });
  routes.add({
    method: 'POST', path: '/v1/billing-runs', rule: 'billing:runs:create', summary: 'Run billing for a period (idempotent per account and period)', status: 201,
    body: BILLING_RUN,
    parse: (_ctx, { body: { start, end, accounts } }) => {
      if (end.getTime() <= start.getTime()) throw new ValidationError('end', 'must be after start');
      if (end.getTime() > deps.clock().getTime()) throw new ValidationError('end', 'must not be in the future (only closed periods are billed)');
      if (start.getTime() % 3_600_000 !== 0 || end.getTime() % 3_600_000 !== 0) throw new ValidationError('start', 'start and end must be whole UTC hours');
      return { start, end, accounts };
    },
    handle: (input, c) => runBilling(deps, c.user_id, input, input.accounts),
  });
  routes.add({
    method: 'GET', path: '/v1/audit', rule: 'billing:audit:list', summary: 'The audit trail, newest first (?target_type&target_id&limit)',
    query: AUDIT_QUERY,
    parse: (_ctx, { query: q }) => {
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (limit < 1 || limit > 1000) throw new ValidationError('limit', 'must be an integer from 1 to 1000');
      return { targetType: q.target_type, targetId: q.target_id, limit };
    },
    handle: async (f) => ({ events: await auditEvents(db, f) }),
  });
}
