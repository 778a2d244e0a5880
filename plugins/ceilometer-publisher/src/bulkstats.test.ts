import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuFromBulk } from './bulkstats.js';
import { loadVector } from '../test/fixtures/vectors.js';

const bulk = (o: Record<string, number | string>) => new Map(Object.entries(o).map(([k, v]) => [k, BigInt(v)]));

test('bulk stats of libvirt-inputs.json give run A\'s cpu volumes (sum of vcpu time + wait), exact above 2^53', () => {
  const inputs = loadVector('libvirt-inputs.json');
  const got = Object.fromEntries(Object.entries(inputs.domainListGetStats as Record<string, Record<string, number>>).map(([u, s]) => [u, cpuFromBulk(bulk(s))]));
  assert.deepEqual(got['9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11'], { cpuTimeNs: 701235801567n, vcpus: 1 });
  assert.deepEqual(got['4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e'], { cpuTimeNs: 9085000000000121n, vcpus: 4 });
});

test('bulk stats: a vCPU hole falls back to cpu.time; perf counters when present; the test driver\'s state-only stats give nothing', () => {
  assert.deepEqual(cpuFromBulk(bulk({ 'cpu.time': 500, 'vcpu.current': 2, 'vcpu.maximum': 2, 'vcpu.0.time': 10, 'vcpu.0.wait': 1 })), { cpuTimeNs: 500n, vcpus: 2 });
  assert.deepEqual(cpuFromBulk(bulk({ 'vcpu.current': 1, 'vcpu.maximum': 1, 'vcpu.0.time': 10, 'vcpu.0.wait': 1, 'perf.cmt': 4096, 'perf.mbmt': 77 })),
    { cpuTimeNs: 11n, vcpus: 1, perf: { memoryBandwidthTotal: 77n, cpuL3Cache: 4096n } });
  assert.equal(cpuFromBulk(bulk({ 'state.state': 1, 'state.reason': 1 })), undefined);
});
