/**
 * Settlement of one resource (seed 001): when the tenant releases a resource, its
 * charge is the sum of its lines — cheap periods and scarce periods alike — and, in
 * the dynamic mode, never more than the same usage on demand.
 */
import type { Decimal } from 'decimal.js';
import { Money } from '../rating.js';
import type { RatingResult } from './rate.js';

/** What one resource costs over a rating result. */
export interface Settlement {
  resourceId: string;
  /** Sum of the resource's lines (what is owed). */
  amount: Decimal;
  /** What the same usage costs on demand. */
  onDemandAmount: Decimal;
  /** onDemandAmount - amount (zero on demand, positive when the dynamic mode saved). */
  saving: Decimal;
  lines: number;
}

/** Settle one resource: the exact sum of its lines. */
export function settleResource(result: RatingResult, resourceId: string): Settlement {
  let amount = new Money(0);
  let onDemandAmount = new Money(0);
  let lines = 0;
  for (const l of result.lines) {
    if (l.resourceId !== resourceId) continue;
    amount = amount.plus(l.amount);
    onDemandAmount = onDemandAmount.plus(l.onDemandAmount);
    lines++;
  }
  return { resourceId, amount, onDemandAmount, saving: onDemandAmount.minus(amount), lines };
}
