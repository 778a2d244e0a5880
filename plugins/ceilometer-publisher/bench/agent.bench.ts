import { bench, benchHeader, createLogger } from '@tally/common';
import { AcceleratedClock, RecordingBus, SimulatedFleet, controlExchange, pollOnce, encodePollingNotification, computeSignature } from '@tally/ceilometer-publisher';

benchHeader('@tally/ceilometer-publisher', 'npm run bench -w @tally/ceilometer-publisher');
const VMS = 1000;
const clock = new AcceleratedClock(600, 24 * 3600_000);
const fleet = new SimulatedFleet({ vms: VMS, projects: 20, seed: 'bench', clock });
const bus = new RecordingBus();
const log = createLogger('bench', { level: 'error' });
const settings = { telemetrySecret: 's3cr3t', pollingInterval: 300_000, batchSize: 50, host: 'compute-bench', sampleSource: 'openstack' };
const first = await pollOnce({ hypervisor: fleet, bus, log, clock, exchange: controlExchange('ceilometer') }, settings);
const samples = first.samples;
await bench(`poll cycle, ${VMS} simulated VMs (discover, build, sign, encode)`, samples, () =>
  pollOnce({ hypervisor: fleet, bus: new RecordingBus(), log, clock, exchange: controlExchange('ceilometer') }, settings));

const sample = bus.samples()[0];
if (!sample) throw new Error('no sample recorded');
const dicts = Array.from({ length: 10_000 }, () => sample);
await bench('HMAC-SHA256 signature (Python str() pre-image)', dicts.length, () => {
  for (const d of dicts) computeSignature(d, 's3cr3t');
});
await bench('oslo 2.0 envelope, 50 samples a message (Python json.dumps bytes)', 10_000, () => {
  for (let i = 0; i < 200; i++) encodePollingNotification(dicts.slice(0, 50));
});
