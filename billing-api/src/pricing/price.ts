/**
 * Pricing arithmetic, pure and exact: bases for each price element, graduated and
 * volume tiers, dynamic factors from pool capacity, monthly proration.
 */
import type { Decimal } from 'decimal.js';
import { Money } from '../rating.js';
import type { CompiledTier, CompiledValue } from './compile.js';
import type { Bases } from './facts.js';

/** Which basis each per-quantity key prices, and its display unit. */
export const BASIS: Readonly<Record<string, { basis: keyof Bases; unit: string }>> = {
  COST_PER_SECOND: { basis: 'seconds', unit: 's' }, TOKENS_PER_SECOND: { basis: 'seconds', unit: 's' },
  COST_PER_HOUR: { basis: 'hours', unit: 'h' }, TOKENS_PER_HOUR: { basis: 'hours', unit: 'h' },
  COST_PER_CPU_HOUR: { basis: 'cpuHours', unit: 'CPU-h' }, TOKENS_PER_CPU_HOUR: { basis: 'cpuHours', unit: 'CPU-h' },
  COST_PER_GB_HOUR: { basis: 'gbHours', unit: 'GB-h' }, TOKENS_PER_GB_HOUR: { basis: 'gbHours', unit: 'GB-h' },
  COST_PER_UNIT: { basis: 'units', unit: 'unit' }, TOKENS_PER_UNIT: { basis: 'units', unit: 'unit' },
};

/** Why a basis is missing, for explanations. */
export const MISSING_BASIS: Readonly<Record<string, string>> = {
  cpuHours: 'the vCPU count is unknown', gbHours: 'neither memory nor a GB size is known',
};

/** Price `q` more units of a tiered element, given `before` units already counted in the period (graduated) or the period total (volume). */
export function tierAmount(mode: 'graduated' | 'volume', steps: readonly CompiledTier[], q: Decimal, before: Decimal, periodTotal: Decimal): { amount: Decimal; detail: string } {
  if (mode === 'volume') {
    let step = steps[0]!;
    for (const s of steps) if (periodTotal.gt(s.from)) step = s;
    return { amount: q.times(step.price), detail: `volume tier over ${step.from.toFixed()} (period total ${periodTotal.toFixed()}): ${q.toFixed()} x ${step.price.toFixed()}` };
  }
  let amount = new Money(0);
  const parts: string[] = [];
  const lo = before;
  const hi = before.plus(q);
  steps.forEach((s, i) => {
    const next = steps[i + 1]?.from;
    const a = Money.max(lo, s.from);
    const b = next === undefined ? hi : Money.min(hi, next);
    if (b.gt(a)) {
      amount = amount.plus(b.minus(a).times(s.price));
      parts.push(`${b.minus(a).toFixed()} x ${s.price.toFixed()} (tier over ${s.from.toFixed()})`);
    }
  });
  return { amount, detail: `graduated from ${lo.toFixed()} to ${hi.toFixed()}: ${parts.join(' + ') || '0'}` };
}

/**
 * The factor of a DYNAMIC_FACTOR value at a pool's free capacity (linear between curve points, flat outside).
 * With the capacity unknown a curve gives factor 1 (the on-demand price); `unknownWhy` says why in the detail.
 */
export function dynamicFactor(value: CompiledValue, free: Decimal | undefined, unknownWhy?: string): { factor: Decimal; detail: string } {
  if (value.kind === 'number') return { factor: Money.min(value.value, 1), detail: `dynamic factor ${value.value.toFixed()}` };
  if (value.kind !== 'curve') return { factor: new Money(1), detail: 'no usable dynamic factor: on-demand price' };
  if (free === undefined) return { factor: new Money(1), detail: `${unknownWhy ?? 'pool free capacity unknown'}: factor 1 (on-demand price)` };
  const pts = value.points;
  let f = pts[0]!.value;
  if (free.gte(pts[pts.length - 1]!.at)) f = pts[pts.length - 1]!.value;
  else {
    for (let i = 0; i + 1 < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[i + 1]!;
      if (free.gte(a.at) && free.lte(b.at)) {
        f = a.value.plus(b.value.minus(a.value).times(free.minus(a.at)).div(b.at.minus(a.at)));
        break;
      }
    }
  }
  return { factor: Money.min(f, 1), detail: `dynamic factor ${f.toFixed()} from the curve at pool free capacity ${free.toFixed()}` };
}

/** The fraction of calendar months (UTC) in [start, end): e.g. 15 days of a 30-day month is 0.5. */
export function monthsIn(start: Date, end: Date): { months: Decimal; detail: string[] } {
  let months = new Money(0);
  const detail: string[] = [];
  let cur = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1));
  while (cur.getTime() < end.getTime()) {
    const next = new Date(Date.UTC(cur.getUTCFullYear(), cur.getUTCMonth() + 1, 1));
    const a = Math.max(cur.getTime(), start.getTime());
    const b = Math.min(next.getTime(), end.getTime());
    if (b > a) {
      const frac = new Money(b - a).div(next.getTime() - cur.getTime());
      months = months.plus(frac);
      detail.push(`${cur.toISOString().slice(0, 7)}: ${(b - a) / 1000} s of ${(next.getTime() - cur.getTime()) / 1000} s`);
    }
    cur = next;
  }
  return { months, detail };
}
