/**
 * Tables for money: accounts (payers) and their projects, the double-entry
 * ledger (append-only, every transaction balanced and idempotent, enforced by
 * PostgreSQL itself), low-balance alerts, stored policy versions, rated lines,
 * invoices with lines and credit notes, billing runs and the audit trail.
 */
import type { Migration } from '@tally/common';

const MONEY = 'numeric(24,6)';

const accountsLedgerInvoices: Migration = {
  name: '20261122000100_accounts_ledger_invoices',
  async up(knex) {
    await knex.raw(`
CREATE TABLE accounts (
  id text PRIMARY KEY,
  name text NOT NULL,
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  scheme text NOT NULL CHECK (scheme IN ('postpaid', 'prepaid', 'continuous')),
  low_balance_threshold ${MONEY} NOT NULL DEFAULT 0,
  charged_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE account_projects (
  project_id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id)
);
CREATE INDEX account_projects_account ON account_projects(account_id);

CREATE TABLE ledger_transactions (
  id bigserial PRIMARY KEY,
  idempotency_key text NOT NULL UNIQUE,
  kind text NOT NULL,
  account_id text REFERENCES accounts(id),
  memo text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE ledger_entries (
  id bigserial PRIMARY KEY,
  txn_id bigint NOT NULL REFERENCES ledger_transactions(id),
  account_id text REFERENCES accounts(id),
  book text NOT NULL CHECK (book IN ('cash', 'revenue', 'wallet', 'receivable')),
  amount ${MONEY} NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_entries_account ON ledger_entries(account_id, book);
CREATE INDEX ledger_entries_txn ON ledger_entries(txn_id);

-- Append-only: financial records are kept for audit.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
-- Double entry: at commit, every transaction's entries sum to zero.
CREATE FUNCTION ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s numeric;
BEGIN
  SELECT coalesce(sum(amount), 0) INTO s FROM ledger_entries WHERE txn_id = NEW.txn_id;
  IF s <> 0 THEN RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.txn_id, s; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_balanced();

CREATE TABLE low_balance_alerts (
  id bigserial PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  balance ${MONEY} NOT NULL,
  threshold ${MONEY} NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  cleared_at timestamptz
);
CREATE UNIQUE INDEX low_balance_alerts_open ON low_balance_alerts(account_id) WHERE cleared_at IS NULL;

CREATE TABLE policy_versions (
  id serial PRIMARY KEY,
  name text NOT NULL,
  version int NOT NULL,
  source text NOT NULL,
  effective_from timestamptz NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  UNIQUE (name, version)
);

CREATE TABLE billing_runs (
  id bigserial PRIMARY KEY,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  started_by text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  accounts int NOT NULL DEFAULT 0,
  invoices_created int NOT NULL DEFAULT 0
);

CREATE TABLE invoices (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'finalized', 'void')),
  currency char(3) NOT NULL,
  total ${MONEY} NOT NULL,
  policy text NOT NULL,
  run_id bigint REFERENCES billing_runs(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  finalized_at timestamptz,
  voided_at timestamptz,
  UNIQUE (account_id, period_start, period_end)
);
CREATE TABLE rated_lines (
  id bigserial PRIMARY KEY,
  invoice_id text NOT NULL REFERENCES invoices(id),
  line_no int NOT NULL,
  kind text NOT NULL,
  project_id text,
  resource_id text,
  resource_type text,
  event text NOT NULL,
  line_start timestamptz NOT NULL,
  line_end timestamptz NOT NULL,
  amount ${MONEY} NOT NULL,
  policy_version text,
  explanation jsonb NOT NULL,
  UNIQUE (invoice_id, line_no)
);
CREATE TABLE invoice_lines (
  invoice_id text NOT NULL REFERENCES invoices(id),
  line_no int NOT NULL,
  rated_line_id bigint NOT NULL REFERENCES rated_lines(id),
  project_id text,
  description text NOT NULL,
  amount ${MONEY} NOT NULL,
  PRIMARY KEY (invoice_id, line_no)
);
CREATE TABLE credit_notes (
  id text PRIMARY KEY,
  invoice_id text NOT NULL REFERENCES invoices(id),
  amount ${MONEY} NOT NULL CHECK (amount > 0),
  reason text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  request_id text,
  user_id text NOT NULL,
  project_id text,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  before jsonb,
  after jsonb
);
CREATE INDEX audit_events_target ON audit_events(target_type, target_id);
`);
  },
  async down(knex) {
    await knex.raw(`
DROP TABLE audit_events, credit_notes, invoice_lines, rated_lines, invoices, billing_runs, policy_versions,
  low_balance_alerts, ledger_entries, ledger_transactions, account_projects, accounts;
DROP FUNCTION ledger_balanced(); DROP FUNCTION ledger_append_only();`);
  },
};

/**
 * A billing run says how it ended: `succeeded`, or `failed` with the accounts it could not
 * invoice (and why) or the error that stopped it. Runs recorded before have no status:
 * finished ones succeeded; unfinished ones stopped on an error (a 500 left them so).
 */
const runStatus: Migration = {
  name: '20261204010100_billing_run_status',
  async up(knex) {
    await knex.raw(`
ALTER TABLE billing_runs
  ADD COLUMN status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  ADD COLUMN failed_accounts jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN error text;
UPDATE billing_runs SET status = CASE WHEN finished_at IS NULL THEN 'failed' ELSE 'succeeded' END;
`);
  },
  async down(knex) {
    await knex.raw('ALTER TABLE billing_runs DROP COLUMN status, DROP COLUMN failed_accounts, DROP COLUMN error');
  },
};

/** The money migrations, after the skeleton's. */
export const moneyMigrations: Migration[] = [accountsLedgerInvoices, runStatus];
