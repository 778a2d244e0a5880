import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { computeSignature, signatureInput, bytesRepr, compareCodePoints } from './signature.js';
import { decodeNotification } from './envelope.js';
import { parsePy, isDict, type PyDict, type PyValue } from './pyjson.js';
import { loadVector } from '../test/fixtures/vectors.js';

const sigs = loadVector('signatures.json');
const SECRETS = sigs.secrets as { s3cr3t: string; default: string };

test('every synthetic edge case: pre-image and signatures for both secrets and the empty one', () => {
  assert.equal(sigs.edge_cases.length, 16);
  for (const e of sigs.edge_cases) {
    const msg = parsePy(e.python_json) as PyDict;
    assert.equal(signatureInput(msg), e.hmac_input, e.desc);
    assert.equal(computeSignature(msg, SECRETS.s3cr3t), e.sig_s3cr3t, e.desc);
    assert.equal(computeSignature(msg, SECRETS.default), e.sig_default_secret, e.desc);
    assert.equal(computeSignature(msg, ''), e.sig_empty_secret, e.desc);
  }
});

/** Resolve refs like `polling-agent-notifications.json runs[A].deliveries[0].payload.samples[1]`. */
function resolveRef(ref: string): PyDict {
  const [file, path] = ref.split(' ') as [string, string];
  const doc = loadVector(file);
  const m = /^(?:runs\[(\w)\]\.)?deliveries\[(\d+)\]\.payload(?:\.samples)?\[(\d+)\]$/.exec(path);
  assert.ok(m, ref);
  const deliveries = m[1] ? doc.runs.find((r: { run: string }) => r.run === m[1]).deliveries : doc.deliveries;
  const msg = decodeNotification(deliveries[Number(m[2])].body);
  const payload = msg['payload'] as PyValue;
  const list = (Array.isArray(payload) ? payload : (payload as PyDict)['samples']) as PyValue[];
  const s = list[Number(m[3])]!;
  assert.ok(isDict(s));
  return s as PyDict;
}

test('every captured wire sample (40): signatures for both secrets, wire signature, pre-image hash', () => {
  assert.equal(sigs.wire_samples.length, 40);
  for (const w of sigs.wire_samples) {
    const s = resolveRef(w.ref);
    assert.equal(s['message_signature'], w.wire_message_signature, w.ref);
    assert.equal(computeSignature(s, SECRETS.s3cr3t), w.sig_s3cr3t, w.ref);
    assert.equal(computeSignature(s, SECRETS.default), w.sig_default_secret, w.ref);
    const input = signatureInput(s);
    assert.equal(createHash('sha256').update(input, 'utf8').digest('hex'), w.hmac_input_sha256, w.ref);
    if (w.hmac_input !== undefined) assert.equal(input, w.hmac_input, w.ref);
  }
});

test('bytes repr picks quotes like Python and escapes non-ASCII bytes', () => {
  assert.equal(bytesRepr("it's"), `b"it's"`);
  assert.equal(bytesRepr(`'"`), `b'\\'"'`);
  assert.equal(bytesRepr('ü\\\n'), "b'\\xc3\\xbc\\\\\\n'");
  assert.ok(compareCodePoints('\uff01', '\ud83d\ude00') < 0, 'U+FF01 sorts before U+1F600 by code point');
});
