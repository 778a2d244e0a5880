import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@tally/common';
import { poolCapacity, type ProviderReading } from './placement-capacity.js';
import { parsePlacementPools } from './placement-spec.js';
import { negotiate } from './placement-reader.js';

// What Placement reports for one host of scripts/openstack/nova.sh (fake.MediumFakeDriver, Zed's ratios).
const host = (uuid: string, usages: Record<string, number>): ProviderReading => ({
  uuid, name: uuid,
  inventories: {
    VCPU: { total: 10, reserved: 0, allocation_ratio: 16.0 },
    MEMORY_MB: { total: 8192, reserved: 512, allocation_ratio: 1.5 },
    DISK_GB: { total: 1028, reserved: 0, allocation_ratio: 1.0 },
  },
  usages,
});

test('free capacity per class, hand-computed: capacity = floor((total - reserved) x ratio), the scarcest class is the pool', () => {
  const empty = poolCapacity([host('a', { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 })]);
  assert.deepEqual(empty.classes.map((c) => [c.resourceClass, c.capacity, c.used, c.free, c.freeFraction]), [
    ['VCPU', '160', '0', '160', '1'], ['MEMORY_MB', '11520', '0', '11520', '1'], ['DISK_GB', '1028', '0', '1028', '1'],
  ]);
  assert.equal(empty.free, '1');
  // One m1.tiny (1 VCPU, 512 MB, 1 GB): 159/160 = 0.99375; 11008/11520 = 0.9555...; 1027/1028 = 0.99902...
  const one = poolCapacity([host('a', { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 })]);
  assert.deepEqual(one.classes.map((c) => c.freeFraction), ['0.99375', '0.955555', '0.999027']);
  assert.equal(one.free, '0.955555');
  assert.equal(one.scarcest, 'MEMORY_MB');
  // Two hosts sum per class: (11520 - 2048 + 11520) / 23040 = 20992 / 23040 = 0.911111...
  const two = poolCapacity([host('a', { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 }), host('b', {})]);
  assert.deepEqual(two.classes.map((c) => [c.resourceClass, c.providers, c.capacity, c.used, c.freeFraction]), [
    ['VCPU', 2, '320', '1', '0.996875'], ['MEMORY_MB', 2, '23040', '2048', '0.911111'], ['DISK_GB', 2, '2056', '20', '0.990272'],
  ]);
});

test('fractional ratios round the capacity down, overcommit gives no free capacity, zero capacity is full', () => {
  const r = poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: 7, reserved: 0, allocation_ratio: 1.5 }, MEMORY_MB: { total: 512, reserved: 512, allocation_ratio: 1 } }, usages: { VCPU: 3 } }]);
  assert.deepEqual(r.classes.map((c) => [c.resourceClass, c.capacity, c.free, c.freeFraction]), [['VCPU', '10', '7', '0.7'], ['MEMORY_MB', '0', '0', '0']]);
  assert.equal(r.free, '0');
  const over = poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: 4, reserved: 0, allocation_ratio: 1 } }, usages: { VCPU: 6 } }], ['VCPU']);
  assert.deepEqual([over.classes[0]!.free, over.free], ['0', '0']);
});

test('a class no provider has is left out; none at all, or a bad number, is an error naming the field', () => {
  const r = poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: 4, reserved: 0, allocation_ratio: 1 } }, usages: {} }]);
  assert.deepEqual(r.classes.map((c) => c.resourceClass), ['VCPU']);
  assert.throws(() => poolCapacity([{ uuid: 'x', name: 'x', inventories: {}, usages: {} }]), (e: unknown) => e instanceof ValidationError && e.field === 'providers');
  assert.throws(() => poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: -1, reserved: 0, allocation_ratio: 1 } }, usages: {} }]), /providers\[x\]\.VCPU\.total/);
  assert.throws(() => poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: 4, reserved: 0, allocation_ratio: 1 } }, usages: { VCPU: 0.5 } }]), /VCPU\.used/);
  assert.throws(() => poolCapacity([{ uuid: 'x', name: 'x', inventories: { VCPU: { total: 2 ** 60, reserved: 0, allocation_ratio: 1 } }, usages: {} }]), /below 2\^53/);
});

test('placement-pools: aggregates by uuid or name, availability zones, provider lists; every mistake names the pool', () => {
  const pools = parsePlacementPools('gold=aggregate:848B75DC-d60d-479a-9d68-b29b11d7004d; agg=aggregate:tally-agg-1\n az1 = az:tally-az-1 ;lab=providers:tally-compute-1, 2b2261b9-8685-4d9d-9d81-92768597cfbe');
  assert.deepEqual(pools.map((p) => [p.name, p.source]), [
    ['gold', { kind: 'aggregate', uuid: '848b75dc-d60d-479a-9d68-b29b11d7004d' }],
    ['agg', { kind: 'aggregate', name: 'tally-agg-1' }],
    ['az1', { kind: 'az', zone: 'tally-az-1' }],
    ['lab', { kind: 'providers', uuids: ['2b2261b9-8685-4d9d-9d81-92768597cfbe'], names: ['tally-compute-1'] }],
  ]);
  assert.deepEqual(parsePlacementPools(''), []);
  for (const [text, why] of [
    ['gold', /name=kind:value/], ['gold=zone:x', /pool gold: unknown kind "zone"/], ['a=az:', /pool a: az: needs/], ['a=providers:,', /pool a: providers: needs/],
    ['a=az:x;a=az:y', /pool a is listed twice/], ['bad name=az:x', /name=kind:value/],
  ] as const) {
    assert.throws(() => parsePlacementPools(text), (e: unknown) => e instanceof ValidationError && e.field === 'placement-pools' && why.test(e.message), text);
  }
});

test('microversions: the highest both know, refused when the server is too old or too new', () => {
  assert.equal(negotiate('placement', { min: '1.0', max: '1.39' }, { min: '1.3', max: '1.39' }), '1.39');
  assert.equal(negotiate('placement', { min: '1.0', max: '1.10' }, { min: '1.3', max: '1.39' }), '1.10');
  assert.equal(negotiate('placement', { min: '1.0', max: '1.44' }, { min: '1.3', max: '1.39' }), '1.39');
  assert.throws(() => negotiate('placement', { min: '1.0', max: '1.2' }, { min: '1.3', max: '1.39' }), /1\.0-1\.2 offered, 1\.3-1\.39 needed/);
  assert.throws(() => negotiate('compute', { min: '2.95', max: '2.99' }, { min: '2.53', max: '2.93' }), /offered/);
});
