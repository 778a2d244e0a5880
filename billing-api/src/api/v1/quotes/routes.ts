/**
 * `POST /v1/quotes`: what described resources would cost over a duration under
 * the live policy (seed 002's quote service). Every item field is checked (snake
 * case, like every other body), the work one request may ask for is bounded in
 * resource-hours, and the pricing runs on a worker thread (quotes/runner.ts).
 */
import { randomUUID } from 'node:crypto';
import { ValidationError, type Knex } from '@tally/common';
import type { Credentials } from '../../../auth/rules.js';
import { BILLING_MODES } from '../../../modes/store.js';
import { policySources } from '../../../policies/store.js';
import type { QuoteItem } from '../../../pricing/index.js';
import type { QuoteRunner } from '../../../quotes/runner.js';
import type { RouteSet } from '../route.js';
import { array, decimal, id, int, object, oneOf, optional, text, type ObjectOf } from '../schema.js';

/** Longest duration one quote may cover: 366 days. */
export const MAX_QUOTE_SECONDS = 366 * 86_400;
/** Most resource-hours (count x hours, summed over the items) one quote may price: each is a rated line. */
export const MAX_QUOTE_RESOURCE_HOURS = 10_000;

const NAME = /^[A-Za-z0-9_.:-]+$/;
const fields = {
  resource_type: optional(text({ max: 64, pattern: NAME, what: 'a flavor name such as m1.small', example: 'm1.small' })),
  vcpus: optional(int({ min: 1, max: 1024, example: 2 })),
  memory_mb: optional(int({ min: 1, max: 16_777_216, example: 4096 })),
  count: optional(int({ min: 1, max: 10_000, example: 1 })),
  billing_mode: optional(oneOf(BILLING_MODES)),
  pool: optional(id('gpu')),
  region: optional(id('region-one')),
  meter: optional(text({ max: 64, pattern: NAME, what: 'a meter name such as volume.size', example: 'volume.size' })),
  unit: optional(text({ max: 16, pattern: /^[A-Za-z0-9_./-]+$/, what: 'a unit such as GB', example: 'GB' })),
  quantity: optional(decimal({ int: 12, example: '100', description: 'Quantity per hour, for meters other than instance' })),
  age_seconds: optional(decimal({ int: 10, scale: 3, example: '0', description: 'Age of the resource at the start, seconds' })),
  event: optional(text({ max: 100, example: 'ONE_OFF SERVICE 1', description: 'A one-off event instead of a resource' })),
};
type Item = ObjectOf<typeof fields>;

/** Fields that make sense together: an event has no resource facts; a quantity belongs to a meter other than instance. */
function checkItem(it: Item, path: string): void {
  const at = (k: string) => `${path}.${k}`;
  if (it.event !== undefined) {
    const extra = (Object.keys(fields) as (keyof Item)[]).find((k) => it[k] !== undefined && !['event', 'resource_type', 'count'].includes(k));
    if (extra) throw new ValidationError(at(extra), 'is not used with event (an event item takes resource_type and count only)');
    return;
  }
  const metered = it.meter !== undefined && it.meter !== 'instance';
  if (metered && it.quantity === undefined) throw new ValidationError(at('quantity'), `is required for meter ${it.meter} (the quantity per hour)`);
  if (!metered && it.quantity !== undefined) throw new ValidationError(at('quantity'), 'is only for meters other than instance (an instance is priced by its running time)');
  if (!metered && it.unit !== undefined) throw new ValidationError(at('unit'), 'is only for meters other than instance');
}

/** `POST /v1/quotes`. */
export const QUOTE = object({
  project_id: optional(id('proj-a')),
  items: array(object(fields, { check: checkItem }), { min: 1, max: 100, what: 'items' }),
  duration_seconds: decimal({ int: 8, scale: 3, positive: true, example: '3600', description: `Seconds, at most ${MAX_QUOTE_SECONDS}` }),
}, {
  check: (b) => {
    if (Number(b.duration_seconds) > MAX_QUOTE_SECONDS) throw new ValidationError('duration_seconds', `must be at most ${MAX_QUOTE_SECONDS} (366 days)`);
    const hours = Math.ceil(Number(b.duration_seconds) / 3600);
    const resourceHours = b.items.reduce((n, it) => n + (it.event === undefined ? (it.count ?? 1) * hours : 0), 0);
    if (resourceHours > MAX_QUOTE_RESOURCE_HOURS) {
      throw new ValidationError('items', `the quote is too large: ${resourceHours} resource-hours (count x hours, summed over the items); at most ${MAX_QUOTE_RESOURCE_HOURS}`);
    }
  },
});

const toCore = (it: Item): QuoteItem => {
  const o: QuoteItem = {};
  if (it.resource_type !== undefined) o.resourceType = it.resource_type;
  if (it.vcpus !== undefined) o.vcpus = it.vcpus;
  if (it.memory_mb !== undefined) o.memoryMb = it.memory_mb;
  if (it.count !== undefined) o.count = it.count;
  if (it.billing_mode !== undefined) o.billingMode = it.billing_mode;
  if (it.pool !== undefined) o.pool = it.pool;
  if (it.region !== undefined) o.region = it.region;
  if (it.meter !== undefined) o.meter = it.meter;
  if (it.unit !== undefined) o.unit = it.unit;
  if (it.quantity !== undefined) o.quantity = it.quantity;
  if (it.age_seconds !== undefined) o.ageSeconds = it.age_seconds;
  if (it.event !== undefined) o.event = it.event;
  return o;
};

/** Mount the route. */
export function quoteRoutes(routes: RouteSet, deps: { db: Knex; clock: () => Date; quotes: QuoteRunner }): void {
  routes.add({
    method: 'POST', path: '/v1/quotes', rule: 'billing:quotes:create', summary: "Price described resources over a duration with the live policy (project_id defaults to the caller's)",
    target: (ctx) => ({ project_id: (ctx.state as { creds?: Credentials }).creds?.project_id ?? undefined }),
    body: QUOTE, bodyLimit: 64 * 1024,
    parse: (_ctx, { body: b }) => ({ projectId: b.project_id, items: b.items.map(toCore), durationSeconds: b.duration_seconds }),
    handle: async (input, c, ctx) => {
      const json = await deps.quotes.run({
        id: randomUUID(), now: deps.clock().toISOString(), versions: await policySources(deps.db),
        request: { projectId: input.projectId ?? c.project_id ?? 'quote', items: input.items, durationSeconds: input.durationSeconds },
      });
      ctx.type = 'application/json';
      return json;
    },
  });
}
