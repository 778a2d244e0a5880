import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { DEFAULT_POLICY, formatTotal, Money, parsePricingDocument, rateLine, sum, unitPrice, type PricingPolicy } from './rating.js';

const policy: PricingPolicy = DEFAULT_POLICY;

// Hand-computed: amount = seconds x price per hour / 3600, half-even to 6 decimals.
const lines: { name: string; flavor: string | null; vcpus: number | null; seconds: string; price: string; basis: string; amount: string }[] = [
  { name: 'one hour of m1.small', flavor: 'm1.small', vcpus: 1, seconds: '3600', price: '0.02', basis: 'flavor', amount: '0.02' },
  { name: 'half an hour of m1.tiny', flavor: 'm1.tiny', vcpus: 1, seconds: '1800', price: '0.01', basis: 'flavor', amount: '0.005' },
  { name: '1.5 h of m1.large', flavor: 'm1.large', vcpus: 4, seconds: '5400', price: '0.08', basis: 'flavor', amount: '0.12' },
  { name: '1 s of m1.small: 0.0000055... rounds up', flavor: 'm1.small', vcpus: 1, seconds: '1', price: '0.02', basis: 'flavor', amount: '0.000006' },
  { name: 'tie 0.0000005 rounds to even (down)', flavor: 'm1.tiny', vcpus: 1, seconds: '0.18', price: '0.01', basis: 'flavor', amount: '0' },
  { name: 'tie 0.0000015 rounds to even (up)', flavor: 'm1.tiny', vcpus: 1, seconds: '0.54', price: '0.01', basis: 'flavor', amount: '0.000002' },
  { name: 'just under an hour of m1.xlarge', flavor: 'm1.xlarge', vcpus: 8, seconds: '3599.999999', price: '0.16', basis: 'flavor', amount: '0.16' },
  { name: 'unknown flavor: 4 vCPU x 0.02 for 2 h', flavor: 'custom.big', vcpus: 4, seconds: '7200', price: '0.08', basis: 'vcpu', amount: '0.16' },
  { name: 'no flavor name: 2 vCPU x 0.02 for 1 h', flavor: null, vcpus: 2, seconds: '3600', price: '0.04', basis: 'vcpu', amount: '0.04' },
  { name: 'inherited property names are not flavors', flavor: 'toString', vcpus: 1, seconds: '3600', price: '0.02', basis: 'vcpu', amount: '0.02' },
  { name: 'unknown flavor, no vCPUs: unpriced', flavor: 'mystery', vcpus: null, seconds: '3600', price: '0', basis: 'unpriced', amount: '0' },
  { name: 'beyond 2^53 seconds stays exact', flavor: 'm1.small', vcpus: 1, seconds: '9007199254740993', price: '0.02', basis: 'flavor', amount: '50039995859.672183' },
  { name: 'zero seconds', flavor: 'm1.small', vcpus: 1, seconds: '0', price: '0.02', basis: 'flavor', amount: '0' },
];

for (const c of lines) {
  test(`rateLine: ${c.name}`, () => {
    const line = rateLine(policy, { resourceId: 'r1', flavorName: c.flavor, vcpus: c.vcpus, seconds: c.seconds });
    assert.equal(line.amount.toString(), c.amount);
    assert.equal(line.unitPrice.perHour.toString(), c.price);
    assert.equal(line.unitPrice.basis, c.basis);
  });
}

test('rateLine: hours are seconds / 3600', () => {
  const line = rateLine(policy, { resourceId: 'r1', flavorName: 'm1.small', vcpus: 1, seconds: '5400' });
  assert.equal(line.hours.toString(), '1.5');
});

test('rateLine: rejects quantities that are not plain decimal strings', () => {
  for (const bad of ['-1', '1e3', '', ' 1', 'NaN', '0x10']) {
    assert.throws(() => rateLine(policy, { resourceId: 'r', flavorName: 'm1.small', vcpus: 1, seconds: bad }), ValidationError, bad);
  }
});

const totals: [string[], string][] = [
  [['0.00005'], '0.0000'], // tie, even neighbour is 0
  [['0.00015'], '0.0002'], // tie, even neighbour is 2
  [['0.00025'], '0.0002'],
  [['1.23456'], '1.2346'],
  [['0.000006', '0.000006', '0.000006'], '0.0000'], // sum 0.000018
  [['0.333333', '0.333333', '0.333334'], '1.0000'],
  [[], '0.0000'],
];
for (const [amounts, expected] of totals) {
  test(`formatTotal(sum(${amounts.join(' + ') || 'nothing'})) = ${expected}`, () => {
    assert.equal(formatTotal(sum(amounts.map((a) => new Money(a)))), expected);
  });
}

test('unitPrice prefers the listed flavor price over vCPUs', () => {
  assert.equal(unitPrice(policy.document, 'm1.medium', 2).perHour.toString(), '0.04');
});

test('parsePricingDocument accepts the default and rejects bad prices, naming the field', () => {
  assert.deepEqual(parsePricingDocument(JSON.parse(JSON.stringify(DEFAULT_POLICY.document))), DEFAULT_POLICY.document);
  assert.throws(() => parsePricingDocument({ ...DEFAULT_POLICY.document, flavors: { 'm1.tiny': 0.01 } }), (e: unknown) => e instanceof ValidationError && e.field === 'document.flavors.m1.tiny');
  assert.throws(() => parsePricingDocument({ ...DEFAULT_POLICY.document, fallbackPerVcpuHour: '-1' }), (e: unknown) => e instanceof ValidationError && e.field === 'document.fallbackPerVcpuHour');
  assert.throws(() => parsePricingDocument({ kind: 'rules' }), (e: unknown) => e instanceof ValidationError && e.field === 'document.kind');
});
