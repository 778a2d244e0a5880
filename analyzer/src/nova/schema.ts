/** The analyzer's Nova tables: events as received, and per instance what spans and RESOURCE_AGE need. */
import type { Migration } from '@tally/common';

export const NOVA_EVENTS_TABLE = 'analyzer_nova_events';
export const NOVA_INSTANCES_TABLE = 'analyzer_nova_instances';

/** The analyzer's Nova tables. */
export const novaMigrations: Migration[] = [
  {
    name: '20261204030100_analyzer_nova_events',
    async up(knex) {
      await knex.raw(`
CREATE TABLE ${NOVA_EVENTS_TABLE} (
  message_id text PRIMARY KEY,
  resource_id text NOT NULL,
  project_id text NOT NULL,
  user_id text,
  action text NOT NULL,
  format text NOT NULL CHECK (format IN ('versioned', 'legacy')),
  event_type text NOT NULL,
  at_us bigint NOT NULL,
  created_us bigint,
  flavor jsonb,
  display_name text,
  host text,
  body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${NOVA_EVENTS_TABLE}_resource ON ${NOVA_EVENTS_TABLE} (resource_id, at_us);
CREATE TABLE ${NOVA_INSTANCES_TABLE} (
  resource_id text PRIMARY KEY,
  project_id text NOT NULL,
  created_us bigint,
  started_us bigint,
  first_event_us bigint NOT NULL,
  deleted_us bigint,
  marked_through_us bigint NOT NULL
);
CREATE INDEX ${NOVA_INSTANCES_TABLE}_open ON ${NOVA_INSTANCES_TABLE} (marked_through_us) WHERE deleted_us IS NULL;`);
    },
    async down(knex) {
      await knex.raw(`DROP TABLE ${NOVA_EVENTS_TABLE}, ${NOVA_INSTANCES_TABLE}`);
    },
  },
];
