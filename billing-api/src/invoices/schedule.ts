/**
 * Scheduled billing: every `billing-interval`, debit prepaid and continuous
 * wallets for the hours just closed, and bill the previous calendar month
 * (which creates only the invoices still missing). Every step is idempotent
 * and locked in PostgreSQL, so each API replica may run the schedule.
 */
import { defineOptions, opt, type Knex, type Logger } from '@tally/common';
import { chargeWallets } from '../accounts/charge.js';
import { monthStart } from '../period.js';
import { runBilling } from './run.js';

/** The schedule's options. */
export const billingScheduleOptions = defineOptions('billing', 'Scheduled billing runs and wallet debits', {
  billingInterval: opt.duration({
    name: 'billing-interval', default: '1h', minMs: 0,
    help: "How often wallets are debited for closed hours and last month's invoices are made (0: never; runs can still be started through the API).",
  }),
});

/** One tick: debit wallets up to now, then bill the previous month. */
export async function billingTick(deps: { db: Knex; log: Logger }, now: Date): Promise<void> {
  const charged = await chargeWallets(deps, now);
  const end = monthStart(now);
  const start = monthStart(new Date(end.getTime() - 1));
  const run = await runBilling(deps, 'schedule', { start, end });
  deps.log.info('scheduled billing', { walletsCharged: charged.accounts, debited: charged.total, walletsFailed: charged.failed.length, invoicesCreated: run.invoices_created, status: run.status, accountsFailed: run.failed_accounts.length });
}

/** Start the schedule; returns a stop function that waits for a tick in progress. */
export function startBillingSchedule(deps: { db: Knex; log: Logger; clock?: () => Date }, intervalMs: number): () => Promise<void> {
  if (intervalMs <= 0) return () => Promise.resolve();
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = billingTick(deps, (deps.clock ?? (() => new Date()))())
      .catch((err: unknown) => deps.log.error('scheduled billing failed; retried at the next tick', { err }))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
