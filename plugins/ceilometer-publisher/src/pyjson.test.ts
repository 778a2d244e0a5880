import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyFloat, dumps, parsePy, pyFloatRepr, pyJsonString } from './pyjson.js';
import { loadVector } from '../test/fixtures/vectors.js';

test('float repr follows Python for fixed and scientific ranges', () => {
  const cases: [number, string][] = [
    [512, '512.0'], [0.1, '0.1'], [1e-5, '1e-05'], [1e-7, '1e-07'], [0.0001, '0.0001'], [0.000123, '0.000123'],
    [1e16, '1e+16'], [1e15, '1000000000000000.0'], [1.5e300, '1.5e+300'], [3880.50390625, '3880.50390625'],
    [123456789012345.67, '123456789012345.67'], [-2.5, '-2.5'], [-0, '-0.0'], [0, '0.0'], [1.2345e-10, '1.2345e-10'],
    [Number('9007199254740993'), '9007199254740992.0'], [1.7976931348623157e308, '1.7976931348623157e+308'], [5e-324, '5e-324'],
    [754.833569492, '754.833569492'], [Number('12345678901234567890'), '1.2345678901234567e+19'],
  ];
  for (const [x, want] of cases) assert.equal(pyFloatRepr(x), want, String(x));
});

test('dumps uses Python separators, int/float distinction and ensure_ascii escapes', () => {
  const v = { a: 1, b: new PyFloat(512), c: 2.5, d: 9085000000000121n, e: [true, false, null], f: {}, g: [] };
  assert.equal(dumps(v), '{"a": 1, "b": 512.0, "c": 2.5, "d": 9085000000000121, "e": [true, false, null], "f": {}, "g": []}');
  assert.equal(pyJsonString('Ü☃😀"\\\n\t\x01\x7f'), '"\\u00dc\\u2603\\ud83d\\ude00\\"\\\\\\n\\t\\u0001\\u007f"');
  assert.equal(dumps(new Map<string, number>([['2', 1], ['1', 2]])), '{"2": 1, "1": 2}');
  assert.equal(dumps(new PyFloat(NaN)), 'NaN');
});

test('parsePy keeps ints exact, floats as PyFloat and integer-like key order', () => {
  const v = parsePy('{"x": 9085000000000121, "y": 512.0, "z": 1e-05, "s": "\\u00e9"}') as Record<string, unknown>;
  assert.equal(v['x'], 9085000000000121n);
  assert.ok(v['y'] instanceof PyFloat);
  assert.equal(dumps(v as never), '{"x": 9085000000000121, "y": 512.0, "z": 1e-05, "s": "\\u00e9"}');
  const m = parsePy('{"b": 1, "10": 2, "a": 3}');
  assert.ok(m instanceof Map);
  assert.equal(dumps(m), '{"b": 1, "10": 2, "a": 3}');
  assert.throws(() => parsePy('{"a": 1} x'), SyntaxError);
});

test('parse + dumps round-trips every captured polling body byte for byte', () => {
  const runs = loadVector('polling-agent-notifications.json').runs as { deliveries: { body: string }[] }[];
  let n = 0;
  for (const r of runs) for (const d of r.deliveries) {
    const outer = parsePy(d.body) as Record<string, string>;
    assert.equal(dumps({ 'oslo.version': outer['oslo.version']!, 'oslo.message': dumps(parsePy(outer['oslo.message']!)) }), d.body);
    n++;
  }
  assert.equal(n, 10);
});
