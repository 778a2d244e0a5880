/**
 * Billing modes per resource and pools' free capacity (seed 001): stored, audited,
 * and read back as the pricing core's `ResourceFacts` and `CapacitySample`s, so
 * invoices and month-to-date views rate dynamic resources at the pool's factor.
 */
import { TallyError, ValidationError, type Knex } from '@tally/common';
import { audit, type Actor } from '../audit.js';
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

/** The current rows of `billing_mode_history` (valid_to NULL): one per (project, resource). */
export const MODES_TABLE = 'billing_mode_history';

interface ModeRow {
  project_id: string;
  resource_id: string;
  mode: BillingMode;
  pool: string | null;
  valid_from: Date;
  set_by: string;
  set_at: Date;
}

const view = (r: ModeRow, displayName: string | null, pending: boolean): ResourceModeView => ({
  resource_id: r.resource_id, display_name: displayName, project_id: r.project_id, mode: r.mode, pool: r.pool,
  updated_by: r.set_by, updated_at: r.set_at.toISOString(), valid_from: r.valid_from.toISOString(), pending,
});

/** The projects and resources of some usage, as rating sees them. */
export type UsageKeys = readonly { projectId: string | null; resourceId: string }[];

/**
 * What rating reads for this usage: each (project, resource)'s current mode and pool
 * (keyed by project, so one project's choice never rates another's usage), and the
 * capacity series of those pools.
 */
export async function ratingFacts(db: Knex | Knex.Transaction, usage: UsageKeys): Promise<{ projectResources: Record<string, Record<string, ResourceFacts>>; pools: Record<string, CapacitySample[]> }> {
  const projectResources: Record<string, Record<string, ResourceFacts>> = Object.create(null) as Record<string, Record<string, ResourceFacts>>;
  const pools: Record<string, CapacitySample[]> = Object.create(null) as Record<string, CapacitySample[]>;
  const projects = [...new Set(usage.flatMap((u) => (u.projectId === null ? [] : [u.projectId])))];
  if (projects.length === 0) return { projectResources, pools };
  const wanted = new Set(usage.map((u) => `${u.projectId ?? ''}\u0000${u.resourceId}`));
  const rows = (await db(MODES_TABLE).whereNull('valid_to').whereRaw('project_id = ANY(?)', [projects]).select('project_id', 'resource_id', 'mode', 'pool')) as Pick<ModeRow, 'project_id' | 'resource_id' | 'mode' | 'pool'>[];
  const used = rows.filter((r) => wanted.has(`${r.project_id}\u0000${r.resource_id}`));
  for (const r of used) {
    const own = (projectResources[r.project_id] ??= Object.create(null) as Record<string, ResourceFacts>);
    own[r.resource_id] = { billingMode: r.mode, ...(r.pool === null ? {} : { pool: r.pool }) };
  }
  const names = [...new Set(used.flatMap((r) => (r.pool === null ? [] : [r.pool])))];
  if (names.length > 0) {
    const samples = (await db('pool_capacity').whereIn('pool', names).orderBy([{ column: 'pool' }, { column: 'at' }]).select('pool', 'at', db.raw('free::text AS free'))) as { pool: string; at: Date; free: string }[];
    for (const n of names) pools[n] = [];
    for (const x of samples) pools[x.pool]!.push({ at: x.at, free: x.free });
  }
  // A Placement reading older than its pool's bound prices nothing.
  return { projectResources, pools: await applyPlacementBounds(db, pools) };
}

/** Resource ids among `ids` that have usage in the project (the others' modes are pending claims). */
async function withUsage(db: Knex | Knex.Transaction, projectId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = (await db('usage_records').whereRaw('resource_id = ANY(?)', [ids as string[]]).where({ project_id: projectId }).distinct('resource_id')) as { resource_id: string }[];
  return new Set(rows.map((r) => r.resource_id));
}

/**
 * Set the modes of some of a project's resources, all or none (a template applies
 * atomically), from now on. A mode binds only (project, resource): set for an id the
 * project has no usage of yet, it is a pending claim that applies once the resource
 * appears in this project, and never to another project's usage of that id. Each
 * (project, resource) is locked for the change, so concurrent writes stay one current
 * row each. An unchanged mode adds no row. Each change is audited with before and after.
 */
export async function setModes(db: Knex, actor: Actor, projectId: string, changes: readonly ModeChange[]): Promise<ResourceModeView[]> {
  return db.transaction(async (trx) => {
    // Locks in key order, so two templates over the same resources never deadlock.
    const keys = [...new Set(changes.map((c) => `mode:${projectId}/${c.resourceId}`))].sort();
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(k)) FROM (SELECT unnest(?::text[]) AS k ORDER BY 1) keys', [keys]);
    const seen = await withUsage(trx, projectId, changes.map((c) => c.resourceId));
    const out: ResourceModeView[] = [];
    for (const [i, c] of changes.entries()) {
      if (c.pool !== null && !(await trx('pools').where({ name: c.pool }).first('name'))) {
        throw new ValidationError(changes.length === 1 ? 'pool' : `resources[${i}].pool`, `unknown pool ${JSON.stringify(c.pool)} (an admin feeds its capacity first)`);
      }
      const pending = !seen.has(c.resourceId);
      const before = (await trx(MODES_TABLE).where({ project_id: projectId, resource_id: c.resourceId }).whereNull('valid_to').first()) as ModeRow | undefined;
      if (before && before.mode === c.mode && before.pool === c.pool) {
        out.push(view(before, null, pending));
        continue;
      }
      if (before) await trx(MODES_TABLE).where({ project_id: projectId, resource_id: c.resourceId }).whereNull('valid_to').update({ valid_to: trx.fn.now() });
      const [row] = (await trx(MODES_TABLE)
        .insert({ project_id: projectId, resource_id: c.resourceId, mode: c.mode, pool: c.pool, valid_from: trx.fn.now(), set_by: actor.creds.user_id })
        .returning('*')) as ModeRow[];
      const after = view(row!, null, pending);
      await audit(trx, actor, 'billing_mode.set', 'resource', c.resourceId, before ? view(before, null, pending) : null, after);
      out.push(after);
    }
    return out;
  });
}

/** A project's resources with their modes: every resource with a current mode in it or with usage in it since `since`. */
export async function listModes(db: Knex, projectId: string, since: Date): Promise<ResourceModeView[]> {
  const seen = (await db('usage_records').where({ project_id: projectId }).where('window_start', '>=', since).groupBy('resource_id')
    .select('resource_id', db.raw('(array_agg(display_name ORDER BY window_start DESC) FILTER (WHERE display_name IS NOT NULL))[1] AS display_name'))) as { resource_id: string; display_name: string | null }[];
  const names = new Map(seen.map((x) => [x.resource_id, x.display_name]));
  const rows = (await db(MODES_TABLE).where({ project_id: projectId }).whereNull('valid_to')) as ModeRow[];
  const used = await withUsage(db, projectId, rows.filter((r) => !names.has(r.resource_id)).map((r) => r.resource_id));
  const byId = new Map(rows.map((r) => [r.resource_id, view(r, names.get(r.resource_id) ?? null, !names.has(r.resource_id) && !used.has(r.resource_id))]));
  for (const x of seen) {
    if (!byId.has(x.resource_id)) {
      byId.set(x.resource_id, { resource_id: x.resource_id, display_name: x.display_name, project_id: projectId, mode: 'on-demand', pool: null, updated_by: null, updated_at: null, valid_from: null, pending: false });
    }
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
  const counts = new Map(((await db(MODES_TABLE).whereNull('valid_to').whereNotNull('pool').groupBy('pool').select('pool', db.raw('count(*)::int AS n'))) as { pool: string; n: number }[]).map((r) => [r.pool, r.n]));
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
