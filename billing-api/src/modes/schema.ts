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

/** The migrations of billing modes and pools, in order. */
export const modesMigrations: Migration[] = [modesAndPools];
