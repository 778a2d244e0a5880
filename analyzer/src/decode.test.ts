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

describe('stored fields are refused at ingest when they cannot be stored (issue 16)', () => {
  const rejectedField = (body: string): (string | undefined)[] => decodeBody(body).rejected.map((r) => r.field);
  it('refuses what made the window job fail: an overflowing volume, an int4 overflow, a NUL in a stored text, a negative gauge', () => {
    assert.deepEqual(rejectedField(polling(sample({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_volume: '1e999999' }))), ['counter_volume']);
    assert.deepEqual(rejectedField(polling(sample({ resource_metadata: '{"vcpus": 3000000000}' }))), ['resource_metadata.vcpus']);
    assert.deepEqual(rejectedField(polling(sample({ resource_id: '"vm\\u0000x"' }))), ['resource_id']);
    assert.deepEqual(rejectedField(polling(sample({ counter_name: '"memory.usage"', counter_type: '"gauge"', counter_volume: '-512.0' }))), ['counter_volume']);
  });
  it('names each field the jobs store', () => {
    const long = `"${'x'.repeat(256)}"`;
    const cases: [Record<string, string>, string][] = [
      [{ resource_id: long }, 'resource_id'], [{ project_id: '"p\\u0000"' }, 'project_id'], [{ user_id: '"\\ud800"' }, 'user_id'],
      [{ counter_name: long }, 'counter_name'], [{ counter_unit: '"n\\u0000s"' }, 'counter_unit'], [{ message_id: long }, 'message_id'],
      [{ counter_volume: '"-3"' }, 'counter_volume'], [{ counter_volume: '1e-30' }, 'counter_volume'], [{ counter_volume: '"inf"' }, 'counter_volume'],
      [{ timestamp: '"1969-12-31T23:59:59"' }, 'timestamp'], [{ timestamp: '"0000-01-01T00:00:00"' }, 'timestamp'],
      [{ resource_metadata: '{"vcpus": -1}' }, 'resource_metadata.vcpus'], [{ resource_metadata: '{"vcpus": 2.5}' }, 'resource_metadata.vcpus'],
      [{ resource_metadata: '{"memory_mb": 2147483648}' }, 'resource_metadata.memory_mb'], [{ resource_metadata: '{"flavor": {"vcpus": 1e10}}' }, 'resource_metadata.flavor.vcpus'],
      [{ resource_metadata: '{"flavor": {"ram": -2048}}' }, 'resource_metadata.flavor.ram'], [{ resource_metadata: `{"flavor": {"name": ${long}}}` }, 'resource_metadata.flavor.name'],
      [{ resource_metadata: '{"instance_type": "m1\\u0000"}' }, 'resource_metadata.instance_type'], [{ resource_metadata: `{"display_name": ${long}}` }, 'resource_metadata.display_name'],
      // Not stored by any job, but no NUL may reach the DFS line either.
      [{ resource_metadata: '{"properties": {"note": "a\\u0000b"}}' }, 'resource_metadata.properties.note'], [{ source: '"open\\u0000stack"' }, 'source'],
    ];
    for (const [over, field] of cases) {
      for (const body of [polling(sample(over)), envelope(polling(sample(over)))]) assert.deepEqual(rejectedField(body), [field], JSON.stringify(over));
    }
  });
  it('keeps accepting what it accepted: a non-number vCPU count is unknown, other meters\' metadata is not read', () => {
    const m = decodeBody(polling(sample({ resource_metadata: '{"vcpus": "4", "memory_mb": null}' }), sample({ message_id: '"m-2"', counter_name: '"memory.usage"', counter_type: '"gauge"', counter_volume: '0', resource_metadata: '{"vcpus": 3000000000}' })));
    assert.deepEqual(m.rejected, []);
    assert.deepEqual(m.samples[0]!.sample.attributes, { flavorName: null, vcpus: null, memoryMb: null, displayName: null });
  });
});

