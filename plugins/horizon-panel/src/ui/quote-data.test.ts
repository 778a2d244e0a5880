import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupQuoteLines, parseQuote, quoteRequest, type QuoteLineView } from './quote-data.js';
import { ApiError } from './shape.js';

test('quoteRequest turns hours into exact seconds', () => {
  assert.deepEqual(quoteRequest({ flavor: 'm1.small', count: '2', hours: '730' }, 'p1'), { body: { project_id: 'p1', items: [{ resource_type: 'm1.small', count: 2 }], duration_seconds: '2628000' } });
  assert.deepEqual(quoteRequest({ flavor: 'm1.tiny', count: '1', hours: '1.5' }, 'p1'), { body: { project_id: 'p1', items: [{ resource_type: 'm1.tiny', count: 1 }], duration_seconds: '5400' } });
  assert.equal((quoteRequest({ flavor: 'x', count: '1', hours: '0.0001' }, 'p1') as { body: { duration_seconds: string } }).body.duration_seconds, '0.36');
});

test('quoteRequest names the bad field', () => {
  for (const [form, field] of [
    [{ flavor: '', count: '1', hours: '1' }, 'flavor'],
    [{ flavor: 'm1.small', count: '0', hours: '1' }, 'count'],
    [{ flavor: 'm1.small', count: '1', hours: '0' }, 'hours'],
    [{ flavor: 'm1.small', count: '1', hours: '1e3' }, 'hours'],
    [{ flavor: 'm1.small', count: '1', hours: '0.0000001' }, 'hours'],
  ] as const) assert.equal((quoteRequest(form, 'p1') as { field: string }).field, field, JSON.stringify(form));
});

test('parseQuote checks amounts are decimal strings', () => {
  const q = { id: 'q', expiresAt: 'e', currency: 'EUR', totalText: '0.0200', lines: [{ resourceType: 'm1.small', event: 'VM Assignment', amount: '0.020000', explanation: { rules: [], rates: [] } }] };
  assert.equal(parseQuote(q).totalText, '0.0200');
  assert.throws(() => parseQuote({ ...q, totalText: 0.02 }), ApiError);
  assert.throws(() => parseQuote({ ...q, lines: [{ ...q.lines[0], amount: 0.02 }] }), ApiError);
});

test('groupQuoteLines sums hourly lines exactly, per resource and rules', () => {
  const line = (type: string, amount: string, rate = '0.02', ruleLine = 5): QuoteLineView => ({
    resourceType: type, event: 'VM Assignment', amount,
    explanation: { rules: [{ line: ruleLine, rule: `R${ruleLine}` }], rates: [{ key: 'COST_PER_HOUR', rate, quantity: '1', unit: 'h', amount }] },
  });
  const groups = groupQuoteLines([line('m1.small', '0.020000'), line('m1.small', '0.020000'), line('m1.tiny', '0.010000', '0.01', 4), line('m1.small', '0.010000', '0.01')]);
  assert.deepEqual(groups, [
    { what: 'm1.small', lines: 3, amount: '0.05', each: 'varies by line', rules: 'line 5: R5' },
    { what: 'm1.tiny', lines: 1, amount: '0.01', each: '1 h × 0.01 (COST_PER_HOUR)', rules: 'line 4: R4' },
  ]);
});
