import { bench, benchHeader } from '@tally/common';
import { DEFAULT_POLICY, rateLine } from '@tally/billing-api';

benchHeader('@tally/billing-api', 'npm run bench -w @tally/billing-api');
const flavors = ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'custom.gpu'];
const usage = Array.from({ length: 100_000 }, (_, i) => ({
  resourceId: `vm-${i}`, flavorName: flavors[i % flavors.length] ?? null, vcpus: (i % 8) + 1, seconds: `${3000 + (i % 600)}.${String(i % 1_000_000).padStart(6, '0')}`,
}));
await bench('rate usage lines exactly (decimal.js, half-even), 100k', usage.length, () => {
  usage.reduce((acc, u) => acc.plus(rateLine(DEFAULT_POLICY, u).amount), rateLine(DEFAULT_POLICY, { ...usage[0]!, seconds: '0' }).amount);
}, 3);
