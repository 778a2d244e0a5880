/**
 * Tables of billing modes (seed 001): the mode each resource is billed in, and
 * pools with their free-capacity series (an admin feed now; Nova/Placement later).
 */
import type { Migration } from '@tally/common';

const modesAndPools: Migration = {
  name: '20261122000200_billing_modes_pools',
  async up(knex) {
    await knex.raw(`
CREATE TABLE pools (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pool_capacity (
  pool text NOT NULL REFERENCES pools(name),
  at timestamptz NOT NULL,
  free numeric(7,6) NOT NULL CHECK (free >= 0 AND free <= 1),
  PRIMARY KEY (pool, at)
);
CREATE TABLE resource_billing_modes (
  resource_id text PRIMARY KEY,
  project_id text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('on-demand', 'dynamic')),
  pool text REFERENCES pools(name),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resource_billing_modes_project ON resource_billing_modes(project_id);
`);
  },
  async down(knex) {
    await knex.raw('DROP TABLE resource_billing_modes, pool_capacity, pools');
  },
};

/**
 * Modes keyed by (project, resource), as a history: a project's choice binds only that
 * project's usage of the resource, so one project can never change or bind another's
 * (a mode set before the resource has usage is a claim inside the setting project).
 * Each change closes the current row (`valid_to`) and opens a new one; the current
 * row has `valid_to` NULL, one per (project, resource). Rating reads the current rows;
 * a later change rates each window by the row in force then. Rows of the old table
 * become the first rows, valid from the epoch (they applied to all usage before).
 */
const modesByProject: Migration = {
  name: '20261204010000_billing_modes_by_project',
  async up(knex) {
    await knex.raw(`
CREATE TABLE billing_mode_history (
  id bigserial PRIMARY KEY,
  project_id text NOT NULL,
  resource_id text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('on-demand', 'dynamic')),
  pool text REFERENCES pools(name),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  set_by text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX billing_mode_current ON billing_mode_history(project_id, resource_id) WHERE valid_to IS NULL;
CREATE INDEX billing_mode_history_resource ON billing_mode_history(project_id, resource_id, valid_from);
INSERT INTO billing_mode_history (project_id, resource_id, mode, pool, valid_from, set_by, set_at)
  SELECT project_id, resource_id, mode, pool, 'epoch', updated_by, updated_at FROM resource_billing_modes;
DROP TABLE resource_billing_modes;
`);
  },
  async down(knex) {
    // The old table holds one row per resource id: of the current rows, the latest wins.
    await knex.raw(`
CREATE TABLE resource_billing_modes (
  resource_id text PRIMARY KEY,
  project_id text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('on-demand', 'dynamic')),
  pool text REFERENCES pools(name),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resource_billing_modes_project ON resource_billing_modes(project_id);
INSERT INTO resource_billing_modes (resource_id, project_id, mode, pool, updated_by, updated_at)
  SELECT DISTINCT ON (resource_id) resource_id, project_id, mode, pool, set_by, set_at
  FROM billing_mode_history WHERE valid_to IS NULL ORDER BY resource_id, set_at DESC;
DROP TABLE billing_mode_history;
`);
  },
};

/** The migrations of billing modes and pools, in order. */
export const modesMigrations: Migration[] = [modesAndPools, modesByProject];
