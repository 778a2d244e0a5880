/**
 * Billing modes per resource and pools' free capacity (seed 001): stored, audited,
 * and read back as the pricing core's `ResourceFacts` and `CapacitySample`s, so
 * invoices and month-to-date views rate dynamic resources at the pool's factor.
 */
import { TallyError, ValidationError, type Knex } from '@tally/common';
import { audit, type Actor } from '../audit.js';
import { NotFoundError } from '../http-errors.js';
import { infer, versionAt, type CapacitySample, type PolicyVersion, type ResourceFacts } from '../pricing/index.js';
import { dynamicFactor } from '../pricing/price.js';
import { Money } from '../rating.js';
import type { BillingMode, PoolSample, PoolView, ResourceModeView } from '../wire.js';
import { applyPlacementBounds, isPlacementPool } from '../pools/placement-store.js';
import { placementView } from '../pools/placement-view.js';

/** The two modes. */
export const BILLING_MODES: readonly BillingMode[] = ['on-demand', 'dynamic'];

/** A requested mode for one resource. */
export interface ModeChange {
  resourceId: string;
  mode: BillingMode;
  /** The pool whose free capacity sets the dynamic price; must exist. */
  pool: string | null;
}

interface ModeRow {
  resource_id: string;
  project_id: string;
  mode: BillingMode;
  pool: string | null;
  updated_by: string;
  updated_at: Date;
}

const view = (r: ModeRow, displayName: string | null = null): ResourceModeView => ({
  resource_id: r.resource_id, display_name: displayName, project_id: r.project_id, mode: r.mode, pool: r.pool, updated_by: r.updated_by, updated_at: r.updated_at.toISOString(),
});

/** What rating reads for these resources: their modes and pools, and the capacity series of those pools. */
export async function ratingFacts(db: Knex | Knex.Transaction, resourceIds: readonly string[]): Promise<{ resources: Record<string, ResourceFacts>; pools: Record<string, CapacitySample[]> }> {
  const resources: Record<string, ResourceFacts> = {};
  const pools: Record<string, CapacitySample[]> = {};
  if (resourceIds.length === 0) return { resources, pools };
  const rows = (await db('resource_billing_modes').whereRaw('resource_id = ANY(?)', [resourceIds as string[]]).select('resource_id', 'mode', 'pool')) as Pick<ModeRow, 'resource_id' | 'mode' | 'pool'>[];
  for (const r of rows) resources[r.resource_id] = { billingMode: r.mode, ...(r.pool === null ? {} : { pool: r.pool }) };
  const names = [...new Set(rows.flatMap((r) => (r.pool === null ? [] : [r.pool])))];
  if (names.length > 0) {
    const samples = (await db('pool_capacity').whereIn('pool', names).orderBy([{ column: 'pool' }, { column: 'at' }]).select('pool', 'at', db.raw('free::text AS free'))) as { pool: string; at: Date; free: string }[];
    for (const n of names) pools[n] = [];
    for (const s of samples) pools[s.pool]!.push({ at: s.at, free: s.free });
  }
  // A Placement reading older than its pool's bound prices nothing.
  return { resources, pools: await applyPlacementBounds(db, pools) };
}

/** The resource belongs to another project (by its usage or its stored mode): not found from this project. */
async function checkOwner(trx: Knex.Transaction, projectId: string, resourceId: string): Promise<void> {
  const usage = (await trx('usage_records').where({ resource_id: resourceId }).whereNot({ project_id: projectId }).first('project_id')) as { project_id: string } | undefined;
  const mode = (await trx('resource_billing_modes').where({ resource_id: resourceId }).whereNot({ project_id: projectId }).first('project_id')) as { project_id: string } | undefined;
  if (usage || mode) throw new NotFoundError(`resource ${resourceId} in project ${projectId}`);
}

/**
 * Set the modes of some of a project's resources, all or none (a template applies
 * atomically). Each change is audited with the mode before and after.
 */
export async function setModes(db: Knex, actor: Actor, projectId: string, changes: readonly ModeChange[]): Promise<ResourceModeView[]> {
  return db.transaction(async (trx) => {
    const out: ResourceModeView[] = [];
    for (const [i, c] of changes.entries()) {
      await checkOwner(trx, projectId, c.resourceId);
      if (c.pool !== null && !(await trx('pools').where({ name: c.pool }).first('name'))) {
        throw new ValidationError(changes.length === 1 ? 'pool' : `resources[${i}].pool`, `unknown pool ${JSON.stringify(c.pool)} (an admin feeds its capacity first)`);
      }
      const before = (await trx('resource_billing_modes').where({ resource_id: c.resourceId }).first()) as ModeRow | undefined;
      const [row] = (await trx('resource_billing_modes')
        .insert({ resource_id: c.resourceId, project_id: projectId, mode: c.mode, pool: c.pool, updated_by: actor.creds.user_id, updated_at: trx.fn.now() })
        .onConflict('resource_id').merge(['mode', 'pool', 'updated_by', 'updated_at'])
        .returning('*')) as ModeRow[];
      const after = view(row!);
      await audit(trx, actor, 'billing_mode.set', 'resource', c.resourceId, before ? view(before) : null, after);
      out.push(after);
    }
    return out;
  });
}

/** A project's resources with their modes: every resource with a stored mode or with usage since `since`. */
export async function listModes(db: Knex, projectId: string, since: Date): Promise<ResourceModeView[]> {
  const seen = (await db('usage_records').where({ project_id: projectId }).where('window_start', '>=', since).groupBy('resource_id')
    .select('resource_id', db.raw('(array_agg(display_name ORDER BY window_start DESC) FILTER (WHERE display_name IS NOT NULL))[1] AS display_name'))) as { resource_id: string; display_name: string | null }[];
  const names = new Map(seen.map((s) => [s.resource_id, s.display_name]));
  const rows = (await db('resource_billing_modes').where({ project_id: projectId })) as ModeRow[];
  const byId = new Map(rows.map((r) => [r.resource_id, view(r, names.get(r.resource_id) ?? null)]));
  for (const s of seen) {
    if (!byId.has(s.resource_id)) byId.set(s.resource_id, { resource_id: s.resource_id, display_name: s.display_name, project_id: projectId, mode: 'on-demand', pool: null, updated_by: null, updated_at: null });
  }
  return [...byId.values()].sort((a, b) => a.resource_id.localeCompare(b.resource_id));
}

/** Add free-capacity samples to a pool (creating it); a sample at an existing time replaces it. Audited. */
export async function feedCapacity(db: Knex, actor: Actor, pool: string, samples: readonly CapacitySample[]): Promise<{ pool: string; samples: number }> {
  return db.transaction(async (trx) => {
    if (await isPlacementPool(trx, pool)) throw new TallyError('conflict', `pool ${pool} is read from Placement (placement-pools); its capacity cannot be fed by hand`, { field: 'name' });
    await trx('pools').insert({ name: pool }).onConflict('name').ignore();
    await trx('pool_capacity').insert(samples.map((s) => ({ pool, at: s.at, free: s.free }))).onConflict(['pool', 'at']).merge(['free']);
    await audit(trx, actor, 'pool.capacity.add', 'pool', pool, null, { samples: samples.map((s) => ({ at: s.at.toISOString(), free: s.free })) });
    return { pool, samples: samples.length };
  });
}

/** The factor a dynamic resource in `pool` pays at `at` with `free` capacity, by the policy version in force then. */
export function factorAt(versions: readonly PolicyVersion[], pool: string, at: Date, free: string): string {
  const { policy } = versionAt(versions, at);
  const facts = { EVENT: 'VM Assignment', METER: 'instance', BILLING_MODE: 'dynamic', POOL: pool, POOL_FREE: new Money(free) };
  const fv = infer(policy, Object.assign(Object.create(null) as Record<string, never>, facts)).outcomes.get('DYNAMIC_FACTOR');
  return (fv ? dynamicFactor(fv.value, new Money(free)).factor : new Money(1)).toFixed();
}

/** Every pool with its capacity series in `[start, end)` (and the sample in force at start), each with its dynamic factor. */
export async function listPools(db: Knex, versions: readonly PolicyVersion[], period: { start: Date; end: Date }, now: Date = new Date()): Promise<PoolView[]> {
  const pools = (await db('pools').orderBy('name').select('name')) as { name: string }[];
  const counts = new Map(((await db('resource_billing_modes').whereNotNull('pool').groupBy('pool').select('pool', db.raw('count(*)::int AS n'))) as { pool: string; n: number }[]).map((r) => [r.pool, r.n]));
  const out: PoolView[] = [];
  for (const p of pools) {
    const rows = (await db('pool_capacity').where({ pool: p.name })
      .where((q) => void q.where('at', '>=', period.start).orWhere('at', db('pool_capacity').where({ pool: p.name }).where('at', '<', period.start).max('at')))
      .where('at', '<', period.end).orderBy('at').select('at', db.raw('free::text AS free'))) as { at: Date; free: string }[];
    const series: PoolSample[] = rows.map((r) => ({ at: r.at.toISOString(), free: new Money(r.free).toFixed(), dynamic_factor: factorAt(versions, p.name, r.at, r.free) }));
    const placement = await placementView(db, p.name, now);
    out.push({ name: p.name, resources: counts.get(p.name) ?? 0, latest: series[series.length - 1] ?? null, series, ...(placement ? { placement } : {}) });
  }
  return out;
}
