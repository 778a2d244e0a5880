import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLosslessNumber, parseJson, parseJsonFast, type JsonObject } from './json.js';

describe('parseJsonFast', () => {
  const vol = (text: string): string => {
    const v = (parseJsonFast(text) as JsonObject)['v'];
    assert.ok(isLosslessNumber(v));
    return v.value;
  };
  it('keeps values exact on both paths', () => {
    assert.equal(vol('{"v": 9085000000000121}'), '9085000000000121'); // 16 digits: lossless path
    assert.equal(vol('{"v":18446744073709551617}'), '18446744073709551617');
    assert.equal(vol('{"v": 1.0000000000000001}'), '1.0000000000000001');
    assert.equal(vol('{"v": 123456789012345}'), '123456789012345'); // 15 digits: native path, exact
    assert.equal(vol('{"v": 512.25, "id": "0f1e2d3c4b5a49687766554433221100"}'), '512.25');
    assert.equal(vol('{"v": 1e-7}'), '1e-7');
    assert.equal(vol('{"v": 512.0}'), '512.0'); // literal text kept too
    assert.equal(vol('{"v": -0}'), '-0');
    assert.equal(vol('{"v": 0, "w": [1,2]}'), '0');
  });
  it('gives the lossless shape for nested values and the same errors', () => {
    const text = '{"a": [1, {"b": 2.5}], "s": "x", "n": null, "t": true}';
    assert.deepEqual(JSON.stringify(parseJsonFast(text)), JSON.stringify(parseJson(text)));
    assert.throws(() => parseJsonFast('{"a": '), SyntaxError);
    assert.equal(vol('{"v": 1e400}'), '1e400');
  });
});
