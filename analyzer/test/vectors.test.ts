// The golden deliveries captured from real Ceilometer Zed decode as expected.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ceilometerVectorsDir } from '@tally/common';
import { decodeBody, encodeSampleLine, extract } from '../src/index.js';

const DIR = ceilometerVectorsDir();
interface Delivery { routing_key: string; body: string; label?: string }
const load = (f: string): unknown => JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8'));

describe('golden vectors: notifications.sample (polling agent)', () => {
  const runs = (load('polling-agent-notifications.json') as { runs: { run: string; deliveries: Delivery[] }[] }).runs;
  const all = runs.flatMap((r) => r.deliveries);

  it('every delivery decodes with no rejected sample', () => {
    assert.equal(all.length, 10);
    for (const d of all) {
      assert.equal(d.routing_key, 'notifications.sample');
      const m = decodeBody(Buffer.from(d.body, 'utf8'));
      assert.equal(m.format, 'envelope');
      assert.equal(m.eventType, 'telemetry.polling');
      assert.deepEqual(m.rejected, []);
      assert.ok(m.samples.length >= 1);
    }
    assert.equal(all.reduce((n, d) => n + decodeBody(d.body).samples.length, 0), 21);
  });

  it('keeps the cpu counter above 2^53 exact, through the DFS line too', () => {
    const cpu = decodeBody(runs[0]!.deliveries[3]!.body).samples;
    assert.deepEqual(cpu.map((s) => [s.sample.resource_id, s.sample.counter_volume]), [
      ['4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e', '9085000000000121'],
      ['9f5a4a3e-2b7c-4d1e-8a60-3c2b1f0e9d11', '701235801567'],
    ]);
    // Through a JS number the same literal would have been rounded.
    assert.notEqual(String(Number('9085000000000121')), '9085000000000121');
    assert.match(encodeSampleLine(cpu[0]!.wire), /"counter_volume":9085000000000121,/);
    assert.equal(decodeBody(runs[0]!.deliveries[4]!.body).samples[1]!.sample.counter_volume, '512.0');
  });

  it('extracts instance heartbeats from the cpu samples', () => {
    const s = decodeBody(runs[0]!.deliveries[3]!.body).samples[0]!.sample;
    assert.deepEqual(extract(s), {
      resourceId: '4b6c8d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e',
      timestampUs: Date.UTC(2026, 10, 21, 20, 12, 51) * 1000 + 393_428,
      projectId: '0f1e2d3c4b5a49687766554433221100',
      userId: 'a1b2c3d4e5f64718293a4b5c6d7e8f90',
      flavorName: 'm1.large',
      vcpus: 4,
      memoryMb: 8192,
      displayName: 'Сервер-Ünïcødé ☃ 東京',
    });
  });
});

describe('golden vectors: metering.sample (notifier:// publisher)', () => {
  const deliveries = (load('notifier-publisher.json') as { deliveries: Delivery[] }).deliveries;
  it('decodes bare-list payloads for metering and metering.<meter>', () => {
    const got = deliveries.map((d) => {
      const m = decodeBody(d.body);
      assert.deepEqual(m.rejected, []);
      return [d.routing_key, m.eventType, m.samples.map((s) => `${s.sample.counter_name}=${s.sample.counter_volume}`).join(',')];
    });
    assert.deepEqual(got, [
      ['metering.sample', 'metering', 'cpu=9085000000000121,cpu=701235801567,memory.usage=512.0'],
      ['metering.sample', 'metering', 'cpu=701235801567,memory.usage=512.0'],
      ['metering.sample', 'metering.cpu', 'cpu=701235801567'],
      ['metering.sample', 'metering.memory.usage', 'memory.usage=512.0'],
      ['billing.sample', 'metering', 'cpu=701235801567'],
    ]);
    const s = decodeBody(deliveries[0]!.body).samples[0]!.sample;
    assert.equal(s.monotonic_time, '754.892726608');
  });

  it('per-meter copies carry the same sample message_id (so dedup drops them)', () => {
    const agg = decodeBody(deliveries[1]!.body).samples.map((s) => s.sample.message_id);
    const perMeter = [2, 3].flatMap((i) => decodeBody(deliveries[i]!.body).samples.map((s) => s.sample.message_id));
    assert.deepEqual(perMeter, agg);
  });
});

describe('golden vectors: notification-agent cases', () => {
  const cases = (load('notification-agent-cases.json') as { cases: { case: string; sent: { delivery: Delivery } }[] }).cases;
  const byName = new Map(cases.filter((c) => c.case !== 'event_type_other').map((c) => [c.case, decodeBody(c.sent.delivery.body)]));
  it('an event_type Ceilometer would not match is refused whole', () => {
    const other = cases.find((c) => c.case === 'event_type_other')!;
    assert.throws(() => decodeBody(other.sent.delivery.body), /event_type: unsupported event_type "telemetry.poll"/);
  });
  it('v1 bodies without the envelope decode', () => {
    assert.equal(byName.get('no_envelope_v1')!.format, 'v1');
    assert.equal(byName.get('no_envelope_v1')!.samples.length, 1);
  });
  it('null or non-numeric volumes are rejected by field; numeric strings stay exact text', () => {
    assert.deepEqual(byName.get('volume_null')!.rejected.map((r) => r.field), ['counter_volume']);
    assert.deepEqual(byName.get('volume_non_numeric')!.rejected.map((r) => r.field), ['counter_volume']);
    assert.equal(byName.get('volume_numeric_string')!.samples[0]!.sample.counter_volume, '42.5');
  });
  it('a sample missing source is rejected alone, naming the field', () => {
    const m = byName.get('missing_required_key')!;
    assert.ok(m.rejected.length >= 1);
    assert.ok(m.rejected.every((r) => r.field === 'source'));
  });
});
