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
import { idList, jsonBody, money, oneOf, onlyFields, str, timestamp } from '../body.js';

const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SCHEMES: readonly Scheme[] = ['postpaid', 'prepaid', 'continuous'];
const KEY = { max: 128, re: /^[A-Za-z0-9_.:-]+$/, what: '1-128 letters, digits, dots, colons, dashes or underscores' };

/** Deps of these routes. */
export interface AccountRouteDeps {
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
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['id', 'name', 'currency', 'scheme', 'low_balance_threshold', 'projects']);
      return {
        id: str(b, 'id', { max: 64, re: ID, optional: true, what: '1-64 letters, digits, dots, dashes or underscores' }),
        name: str(b, 'name', { max: 200 })!,
        currency: str(b, 'currency', { re: /^[A-Z]{3}$/, what: 'an ISO 4217 code such as EUR' })!,
        scheme: oneOf(b, 'scheme', SCHEMES)!,
        lowBalanceThreshold: money(b, 'low_balance_threshold', { optional: true }) ?? '0',
        projects: idList(b, 'projects')!,
      };
    },
    handle: (input, c, ctx) => createAccount(db, actor(ctx, c), input),
  });
  routes.add({
    method: 'GET', path: '/v1/accounts/:account_id', rule: 'billing:accounts:get', summary: 'An account with its derived balances and alert',
    target: (ctx) => accountTarget(db, ctx, pathId(ctx, 'account_id')),
    parse: (ctx) => pathId(ctx, 'account_id'), handle: (id) => getAccount(db, id),
  });
  routes.add({
    method: 'PATCH', path: '/v1/accounts/:account_id', rule: 'billing:accounts:write', summary: 'Change name, scheme, threshold or projects',
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['name', 'scheme', 'low_balance_threshold', 'projects']);
      return {
        id: pathId(ctx, 'account_id'),
        patch: {
          name: str(b, 'name', { max: 200, optional: true }), scheme: oneOf(b, 'scheme', SCHEMES, true),
          lowBalanceThreshold: money(b, 'low_balance_threshold', { optional: true }), projects: idList(b, 'projects', 1000, true),
        },
      };
    },
    handle: (input, c, ctx) => updateAccount(db, actor(ctx, c), input.id, input.patch),
  });
  routes.add({
    method: 'POST', path: '/v1/accounts/:account_id/topups', rule: 'billing:accounts:topup', summary: 'Credit an account (idempotent by idempotency_key)', status: 201,
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['amount', 'idempotency_key']);
      return { id: pathId(ctx, 'account_id'), amount: money(b, 'amount', { positive: true })!, idempotencyKey: str(b, 'idempotency_key', KEY)! };
    },
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
    parse: (ctx) => pathId(ctx, 'invoice_id'), handle: (id, c, ctx) => finalizeInvoice(db, actor(ctx, c), id),
  });
  routes.add({
    method: 'POST', path: '/v1/invoices/:invoice_id/void', rule: 'billing:invoices:write', summary: 'draft or finalized → void',
    parse: (ctx) => pathId(ctx, 'invoice_id'), handle: (id, c, ctx) => voidInvoice(db, actor(ctx, c), id),
  });
  routes.add({
    method: 'POST', path: '/v1/invoices/:invoice_id/credit-notes', rule: 'billing:invoices:write', summary: 'A credit note on a finalized invoice (idempotent by idempotency_key)', status: 201,
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['amount', 'reason', 'idempotency_key']);
      return { id: pathId(ctx, 'invoice_id'), amount: money(b, 'amount', { positive: true })!, reason: str(b, 'reason', { max: 500 })!, idempotencyKey: str(b, 'idempotency_key', KEY)! };
    },
    handle: (input, c, ctx) => creditNote(db, actor(ctx, c), input.id, input),
  });
  routes.add({
    method: 'POST', path: '/v1/billing-runs', rule: 'billing:runs:create', summary: 'Run billing for a period (idempotent per account and period)', status: 201,
    parse: async (ctx) => {
      const b = await jsonBody(ctx);
      onlyFields(b, ['start', 'end', 'accounts']);
      const start = timestamp(b, 'start')!;
      const end = timestamp(b, 'end')!;
      if (end.getTime() <= start.getTime()) throw new ValidationError('end', 'must be after start');
      if (end.getTime() > deps.clock().getTime()) throw new ValidationError('end', 'must not be in the future (only closed periods are billed)');
      if (start.getTime() % 3_600_000 !== 0 || end.getTime() % 3_600_000 !== 0) throw new ValidationError('start', 'start and end must be whole UTC hours');
      return { start, end, accounts: idList(b, 'accounts', 100_000, true) };
    },
    handle: (input, c) => runBilling(deps, c.user_id, input, input.accounts),
  });
  routes.add({
    method: 'GET', path: '/v1/audit', rule: 'billing:audit:list', summary: 'The audit trail, newest first (?target_type&target_id&limit)',
    parse: (ctx) => {
      for (const k of Object.keys(ctx.query)) if (!['target_type', 'target_id', 'limit'].includes(k)) throw new ValidationError(k, 'unknown query parameter (allowed: target_type, target_id, limit)');
      const q = ctx.query as Record<string, string | undefined>;
      const limit = q['limit'] === undefined ? 100 : Number(q['limit']);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ValidationError('limit', 'must be an integer from 1 to 1000');
      return { targetType: q['target_type'], targetId: q['target_id'], limit };
    },
    handle: async (f) => ({ events: await auditEvents(db, f) }),
  });
}
