import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ceilometerVectorsDir } from '@tally/common';
import { decodeBody } from './decode.js';
import { signatureProblem } from './verify.js';

const DIR = ceilometerVectorsDir();
const load = (f: string): unknown => JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8'));
const runs = (load('polling-agent-notifications.json') as { runs: { run: string; telemetry_secret: string; deliveries: { body: string }[] }[] }).runs;

describe('signature verification against real Ceilometer signatures', () => {
  for (const run of runs.filter((r) => r.telemetry_secret !== '')) {
    it(`run ${run.run}: every sample verifies with its secret and fails with another`, () => {
      const samples = run.deliveries.flatMap((d) => decodeBody(d.body).samples);
      assert.ok(samples.length > 0);
      for (const s of samples) {
        assert.equal(signatureProblem(s.wire, run.telemetry_secret), null, s.sample.counter_name);
        assert.equal(signatureProblem(s.wire, `${run.telemetry_secret}x`), 'message_signature does not match');
      }
    });
  }
  it('the notification agent re-signs what it re-publishes (metering.sample), and those verify too', () => {
    const v = load('notification-agent-republished.json') as { telemetry_secret?: string; deliveries?: { body: string }[] } & Record<string, unknown>;
    const deliveries = (v.deliveries ?? []) as { body: string }[];
    const secret = 's3cr3t'; // the notification agent's telemetry_secret (the file's "what")
    const samples = deliveries.flatMap((d) => decodeBody(d.body).samples);
    assert.ok(samples.length > 0);
    assert.ok(samples.every((s) => signatureProblem(s.wire, secret) === null));
  });
  it('a tampered volume, a missing or empty signature are caught', () => {
    const run = runs.find((r) => r.run === 'A')!;
    const s = decodeBody(run.deliveries[3]!.body).samples[0]!;
    const tampered = decodeBody(run.deliveries[3]!.body.replace('9085000000000121', '9085000000000122')).samples[0]!;
    assert.equal(signatureProblem(s.wire, run.telemetry_secret), null);
    assert.equal(signatureProblem(tampered.wire, run.telemetry_secret), 'message_signature does not match');
    assert.equal(signatureProblem({ ...s.wire, message_signature: '' }, run.telemetry_secret), 'message_signature missing or empty');
    const { message_signature: _drop, ...unsigned } = s.wire;
    assert.equal(signatureProblem(unsigned, run.telemetry_secret), 'message_signature missing or empty');
  });
});
