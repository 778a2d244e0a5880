import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBody, decodeSampleLine, encodeSampleLine, UndecodableMessage } from './decode.js';

function sample(over: Record<string, string> = {}): string {
  const f: Record<string, string> = {
    source: '"openstack"', counter_name: '"cpu"', counter_type: '"cumulative"', counter_unit: '"ns"',
    counter_volume: '9085000000000121', user_id: '"u1"', project_id: '"p1"', resource_id: '"vm-1"',
    timestamp: '"2026-11-21T20:12:51.393428"', resource_metadata: '{"flavor": {"name": "m1.small", "ram": 2048}, "vcpus": 1}',
    message_id: '"m-1"', monotonic_time: '754.892726608', message_signature: '"abc"', ...over,
  };
  return '{' + Object.entries(f).filter(([, v]) => v !== '<omit>').map(([k, v]) => `"${k}": ${v}`).join(', ') + '}';
}

const envelope = (inner: string): string => JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': inner });
const polling = (...samples: string[]): string => `{"message_id": "n-1", "event_type": "telemetry.polling", "priority": "SAMPLE", "payload": {"samples": [${samples.join(', ')}]}}`;
const metering = (eventType: string, ...samples: string[]): string => `{"message_id": "n-2", "event_type": "${eventType}", "priority": "SAMPLE", "payload": [${samples.join(', ')}]}`;

describe('decodeBody', () => {
  it('double-decodes the oslo 2.0 envelope and keeps counters above 2^53 exact', () => {
    const m = decodeBody(Buffer.from(envelope(polling(sample()))));
    assert.equal(m.format, 'envelope');
    assert.equal(m.messageId, 'n-1');
    assert.equal(m.samples.length, 1);
    const s = m.samples[0]!.sample;
    assert.equal(s.counter_volume, '9085000000000121');
    assert.equal(s.monotonic_time, '754.892726608');
    assert.equal(s.timestampUs, 1_795_219_200_000_000 + 72_771_393_428);
    assert.match(encodeSampleLine(m.samples[0]!.wire), /"counter_volume":9085000000000121,/);
  });

  it('accepts a v1 body without the envelope', () => {
    const m = decodeBody(polling(sample()));
    assert.equal(m.format, 'v1');
    assert.equal(m.samples[0]!.sample.resource_id, 'vm-1');
  });

  it('accepts metering and metering.<meter> with a bare list payload', () => {
    for (const et of ['metering', 'metering.cpu']) {
      const m = decodeBody(envelope(metering(et, sample(), sample({ message_id: '"m-2"' }))));
      assert.deepEqual(m.samples.map((x) => x.sample.message_id), ['m-1', 'm-2']);
    }
  });

  it('matches telemetry.polling as Ceilometer does (re.match prefix)', () => {
    assert.equal(decodeBody(polling(sample()).replace('telemetry.polling', 'telemetry.polling.extra')).samples.length, 1);
    assert.throws(() => decodeBody(polling(sample()).replace('telemetry.polling', 'telemetry.poll')), (e: unknown) => e instanceof UndecodableMessage && e.field === 'event_type');
    assert.throws(() => decodeBody(metering('meteringx', sample())), UndecodableMessage);
  });

  it('rejects single bad samples with the field named, keeping the good ones', () => {
    const m = decodeBody(envelope(polling(
      sample({ message_id: '"ok-1"' }),
      sample({ counter_volume: 'null' }),
      sample({ counter_volume: '"n/a"' }),
      sample({ source: '<omit>' }),
      sample({ timestamp: '"2026-13-01T00:00:00"' }),
      sample({ message_id: '""' }),
      '42',
      sample({ message_id: '"ok-2"', counter_volume: '"42.5"', monotonic_time: 'null', user_id: 'null' }),
    )));
    assert.deepEqual(m.samples.map((x) => x.sample.message_id), ['ok-1', 'ok-2']);
    assert.equal(m.samples[1]!.sample.counter_volume, '42.5');
    assert.equal(m.samples[1]!.sample.monotonic_time, null);
    assert.equal(m.samples[1]!.sample.user_id, null);
    assert.deepEqual(m.rejected.map((r) => [r.index, r.field]), [[1, 'counter_volume'], [2, 'counter_volume'], [3, 'source'], [4, 'timestamp'], [5, 'message_id'], [6, 'sample']]);
    assert.match(m.rejected[2]!.reason, /^source: missing/);
  });

  it('refuses whole bodies that are not usable', () => {
    const cases: [string, string][] = [
      ['not json at all', 'body'],
      ['[1, 2]', 'body'],
      ['{"oslo.version": "2.0", "oslo.message": "{broken"}', 'oslo.message'],
      ['{"oslo.version": "2.0", "oslo.message": 7}', 'oslo.message'],
      ['{"event_type": "telemetry.polling", "payload": []}', 'payload'],
      ['{"event_type": "telemetry.polling", "payload": {"samples": 3}}', 'payload.samples'],
      ['{"event_type": "metering", "payload": {"samples": []}}', 'payload'],
      ['{"payload": []}', 'event_type'],
    ];
    for (const [body, field] of cases) {
      assert.throws(() => decodeBody(body), (e: unknown) => e instanceof UndecodableMessage && e.field === field, body);
    }
  });
});

describe('DFS lines', () => {
  it('round-trip the wire sample with number literals unchanged', () => {
    const wire = decodeBody(polling(sample({ counter_volume: '512.0' }))).samples[0]!.wire;
    const line = encodeSampleLine(wire);
    assert.match(line, /"counter_volume":512\.0,/);
    const back = decodeSampleLine(line);
    assert.equal(back.counter_volume, '512.0');
    assert.equal(back.message_id, 'm-1');
    assert.equal(encodeSampleLine(decodeBody(polling(line)).samples[0]!.wire), line);
  });
});
