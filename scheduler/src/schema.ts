/**
 * The scheduler's tables: the component registry and its short load series, the
 * cluster observations the decision reads, versioned scaling policies, the members its
 * drivers manage, the decision log, and the audit trail of its actions (append-only).
 */
import { commonMigrations, type Migration } from '@tally/common';

export const COMPONENTS_TABLE = 'scheduler_components';
export const LOAD_TABLE = 'scheduler_load_samples';
export const OBSERVATIONS_TABLE = 'scheduler_observations';
export const POLICY_TABLE = 'scheduler_policy_versions';
export const MEMBERS_TABLE = 'scheduler_members';
export const DECISIONS_TABLE = 'scheduler_decisions';
export const ACTIONS_TABLE = 'scheduler_actions';

const ddl = `
CREATE TABLE ${COMPONENTS_TABLE} (
  id text PRIMARY KEY,
  role text NOT NULL,
  cluster text NOT NULL,
  node text NOT NULL,
  version text NOT NULL,
  endpoints jsonb NOT NULL DEFAULT '{}'::jsonb,
  state text NOT NULL CHECK (state IN ('running', 'draining', 'stopped', 'lost')),
  started_at timestamptz NOT NULL,
  registered_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL,
  last_heartbeat_at timestamptz NOT NULL,
  heartbeats bigint NOT NULL DEFAULT 1,
  lost_at timestamptz,
  load jsonb,
  metrics jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX scheduler_components_cluster ON ${COMPONENTS_TABLE} (cluster, role);

CREATE TABLE ${LOAD_TABLE} (
  component_id text NOT NULL,
  at timestamptz NOT NULL,
  load jsonb,
  metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (component_id, at)
);
CREATE INDEX scheduler_load_samples_at ON ${LOAD_TABLE} (at);

CREATE TABLE ${OBSERVATIONS_TABLE} (
  cluster text NOT NULL,
  at timestamptz NOT NULL,
  metrics jsonb NOT NULL,
  PRIMARY KEY (cluster, at)
);

CREATE TABLE ${POLICY_TABLE} (
  id bigserial PRIMARY KEY,
  cluster text NOT NULL,
  version int NOT NULL,
  source text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  UNIQUE (cluster, version)
);

CREATE TABLE ${MEMBERS_TABLE} (
  cluster text NOT NULL,
  name text NOT NULL,
  driver text NOT NULL,
  ref text,
  state text NOT NULL CHECK (state IN ('creating', 'running', 'draining', 'deleting', 'deleted', 'failed')),
  action_id text NOT NULL,
  created_at timestamptz NOT NULL,
  changed_at timestamptz NOT NULL,
  drain_requested_at timestamptz,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (cluster, name)
);

CREATE TABLE ${DECISIONS_TABLE} (
  id bigserial PRIMARY KEY,
  cluster text NOT NULL,
  at timestamptz NOT NULL,
  action text NOT NULL CHECK (action IN ('out', 'in', 'hold')),
  count int NOT NULL,
  from_size int NOT NULL,
  to_size int NOT NULL,
  reason text NOT NULL,
  blocked_by text,
  policy text NOT NULL,
  action_id text
);
CREATE INDEX scheduler_decisions_cluster ON ${DECISIONS_TABLE} (cluster, at DESC);

CREATE TABLE ${ACTIONS_TABLE} (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  action_id text NOT NULL,
  cluster text NOT NULL,
  kind text NOT NULL,
  member text,
  step text NOT NULL CHECK (step IN ('started', 'succeeded', 'failed')),
  actor text NOT NULL,
  reason text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX scheduler_actions_cluster ON ${ACTIONS_TABLE} (cluster, at DESC);
CREATE INDEX scheduler_actions_action ON ${ACTIONS_TABLE} (action_id);

-- The audit trail is append-only: a row, once written, is never changed or removed.
CREATE FUNCTION scheduler_actions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'scheduler_actions is append-only';
END $$;
CREATE TRIGGER scheduler_actions_no_change BEFORE UPDATE OR DELETE ON ${ACTIONS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION scheduler_actions_append_only();
`;

/** Every table the scheduler uses (the `alerts` table of @tally/common included). */
export const schedulerMigrations: Migration[] = [
  ...commonMigrations,
  {
    name: '20261204040000_scheduler',
    async up(knex) {
      await knex.raw(ddl);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE IF EXISTS ${ACTIONS_TABLE}, ${DECISIONS_TABLE}, ${MEMBERS_TABLE}, ${POLICY_TABLE}, ${OBSERVATIONS_TABLE}, ${LOAD_TABLE}, ${COMPONENTS_TABLE}`);
      await knex.raw('DROP FUNCTION IF EXISTS scheduler_actions_append_only()');
    },
  },
];
