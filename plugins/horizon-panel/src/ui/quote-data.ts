/**
 * Quotes (`POST /v1/quotes`): the request the calculator sends and the answer it
 * reads. The answer mirrors billing-api's Quote (Decimals serialized as strings);
 * it belongs in `@tally/billing-api/wire` once the API exports it there.
 */
import Decimal from 'decimal.js';
import { isDecimalString } from './format.js';
import { ApiError } from './shape.js';

/** One priced line of a quote, with the rules that priced it. */
export interface QuoteLineView {
  resourceType: string | null;
  event: string;
  amount: string;
  explanation: { rules: { line: number; rule: string }[]; rates: { key: string; rate: string; quantity: string; unit: string; amount: string }[] };
}

/** A quote as the calculator shows it. */
export interface QuoteView {
  id: string;
  expiresAt: string;
  currency: string;
  lines: QuoteLineView[];
  totalText: string;
}

/** What the form holds: a flavor, how many, for how many hours (priced for the page's project). */
export interface QuoteForm {
  flavor: string;
  count: string;
  hours: string;
}

/** The request body, or an error naming the form field. Hours become exact seconds (at most 3 decimals). */
export function quoteRequest(f: QuoteForm, projectId: string): { body: { project_id: string; items: { resource_type: string; count: number }[]; duration_seconds: string } } | { field: string; message: string } {
  const flavor = f.flavor.trim();
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(flavor)) return { field: 'flavor', message: 'flavor: a flavor name such as m1.small' };
  if (!/^[1-9]\d{0,3}$/.test(f.count.trim())) return { field: 'count', message: 'count: a whole number from 1 to 9999' };
  const m = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(f.hours.trim());
  if (!m || /^0*(\.0*)?$/.test(f.hours.trim())) return { field: 'hours', message: 'hours: a positive number such as 730 or 1.5' };
  // hours × 3600 in integer arithmetic on the digits: no float rounding.
  const frac = (m[2] ?? '').padEnd(6, '0');
  const micro = BigInt(m[1] ?? '0') * 1_000_000n + BigInt(frac);
  const milliSeconds = micro * 3600n / 1000n; // seconds × 1000
  if ((micro * 3600n) % 1000n !== 0n) return { field: 'hours', message: 'hours: too many decimals (seconds may have at most 3)' };
  const s = milliSeconds.toString().padStart(4, '0');
  const seconds = `${s.slice(0, -3)}.${s.slice(-3)}`.replace(/\.?0+$/, '');
  return { body: { project_id: projectId, items: [{ resource_type: flavor, count: Number(f.count.trim()) }], duration_seconds: seconds } };
}

/** Check the answer; throws ApiError(bad_response) rather than show a wrong price. */
export function parseQuote(body: unknown): QuoteView {
  const b = body as Partial<QuoteView> | null;
  if (typeof b !== 'object' || b === null || typeof b.id !== 'string' || typeof b.currency !== 'string' || !isDecimalString(b.totalText) || !Array.isArray(b.lines)) {
    throw new ApiError(200, 'bad_response', 'the billing API sent an unexpected response (quote)');
  }
  for (const l of b.lines) {
    if (!isDecimalString(l.amount) || typeof l.explanation !== 'object' || !Array.isArray(l.explanation?.rules)) {
      throw new ApiError(200, 'bad_response', 'the billing API sent an unexpected response (quote line)');
    }
  }
  return b as QuoteView;
}

/** Quote lines with the same resource and the same rules, summed: one row each. */
export interface QuoteGroup {
  what: string;
  lines: number;
  amount: string;
  /** How one line was priced (`1 h × 0.02 (COST_PER_HOUR)`), when all lines of the group agree. */
  each: string;
  rules: string;
}

/** Group a quote's lines (the engine prices each hour of each resource as a line). */
export function groupQuoteLines(lines: readonly QuoteLineView[]): QuoteGroup[] {
  const out = new Map<string, { what: string; lines: number; amount: Decimal; each: Set<string>; rules: string }>();
  for (const l of lines) {
    const what = l.resourceType ?? l.event;
    const rules = l.explanation.rules.map((r) => `line ${r.line}: ${r.rule}`).join('; ') || 'none';
    const each = l.explanation.rates.map((r) => `${r.quantity} ${r.unit} × ${r.rate} (${r.key})`).join(' + ') || 'no price';
    const key = `${what}\u0000${rules}`;
    const g = out.get(key) ?? { what, lines: 0, amount: new Decimal(0), each: new Set<string>(), rules };
    g.lines += 1;
    g.amount = g.amount.plus(l.amount);
    g.each.add(each);
    out.set(key, g);
  }
  return [...out.values()].map((g) => ({ what: g.what, lines: g.lines, amount: g.amount.toFixed(), each: g.each.size === 1 ? [...g.each][0] ?? '' : 'varies by line', rules: g.rules }));
}
