import { readFileSync } from 'node:fs';
import { bench, benchHeader, ceilometerVectorsDir } from '@tally/common';
import { decodeBody, decodeSampleLine, encodeSampleLine, extract, parseJson, usageForWindow, validateSample, HOUR_US, type InstanceRecord } from '@tally/analyzer';

benchHeader('@tally/analyzer', 'npm run bench -w @tally/analyzer');

// Decode: the real Ceilometer polling-agent bodies (lossless JSON, envelope, validation).
const vectors = ceilometerVectorsDir();
const runs = JSON.parse(readFileSync(`${vectors}/polling-agent-notifications.json`, 'utf8')) as { runs: { deliveries: { body: string }[] }[] };
const bodies = runs.runs.flatMap((r) => r.deliveries.map((d) => Buffer.from(d.body)));
const perRound = bodies.reduce((n, b) => n + decodeBody(b).samples.length, 0);
const rounds = 500;
const decode = await bench('decode + validate real Ceilometer messages (samples)', perRound * rounds, () => {
  for (let i = 0; i < rounds; i++) for (const b of bodies) decodeBody(b);
});
// Validation alone on parsed samples: the envelope, the 11 keys and every stored-field check (storable.ts).
const wires = bodies.flatMap((b) => decodeBody(b).samples.map((s) => s.wire));
await bench('validateSample alone (stored-field checks included)', wires.length * 5000, () => {
  for (let i = 0; i < 5000; i++) for (const w of wires) validateSample(w);
});

// Map/reduce: 1000 VMs polled every 300 s for 24 h, with downtime gaps; one hourly window each.
const VMS = 1000;
const start = Date.UTC(2026, 10, 1) * 1000;
const records: InstanceRecord[] = [];
for (let v = 0; v < VMS; v++) {
  for (let t = 0; t < 24 * 12; t++) {
    if ((v + t) % 37 === 0) continue; // a missed poll now and then: a gap above the threshold
    const s = { counter_name: 'cpu', resource_id: `vm-${v}`, project_id: `p${v % 20}`, user_id: 'u', timestampUs: start + t * 300_000_000 + (v % 1000) * 1000,
      resource_metadata: { display_name: `vm-${v}`, flavor: { name: 'm1.small', vcpus: 1, ram: 2048 } } };
    const r = extract(s as never);
    if (r) records.push(r);
  }
}
await bench(`gap-threshold map/reduce, ${VMS} VMs x 24 h (heartbeats)`, records.length, () => {
  for (let h = 0; h < 24; h++) usageForWindow(records, { startUs: start + h * HOUR_US, endUs: start + (h + 1) * HOUR_US }, 630_000_000);
}, 3);

// Reading raw DFS lines: the lossless parser vs the native-parser fast path (exact either
// way; lines with a 16+ digit literal, like the real cpu counter above 2^53, take the lossless path).
const dfsLines = bodies.flatMap((b) => decodeBody(b).samples.map((s) => encodeSampleLine(s.wire)));
const small = dfsLines.map((l) => l.replace(/9085000000000121/g, '908500000000012'));
const reps = 2000;
await bench(`DFS line -> RawSample, lossless parser (${dfsLines.length} real lines, cpu counter cut to 15 digits)`, dfsLines.length * reps, () => {
  for (let i = 0; i < reps; i++) for (const l of small) validateSample(parseJson(l) as never);
});
await bench('DFS line -> RawSample, decodeSampleLine (native fast path)', dfsLines.length * reps, () => {
  for (let i = 0; i < reps; i++) for (const l of small) decodeSampleLine(l);
});
process.stdout.write(`BENCH analyzer-decode ${decode.perSecond} samples/s\n`);
