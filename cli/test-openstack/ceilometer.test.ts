/**
 * OpenStack tier: a real `ceilometer-agent-notification` (Ceilometer Zed from
 * Debian, started by scripts/openstack/ceilometer.sh on a private RabbitMQ
 * vhost) consumes what `tally agent` publishes. It must accept every sample
 * and re-publish it through its `notifier://` pipeline; its re-signature must
 * equal ours over the same sample, and `tally analyzer` (bound to both routing
 * keys) must count each sample once although it receives it twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AmqpBus, createDatabase, dropDatabase, createLogger, openDatabase, type Delivery } from '@tally/common';
import { writeTestNodeFile, SIM_FLAVORS, decodeNotification, computeSignature, type DomainSpec, type PyDict } from '@tally/ceilometer-publisher';
import { decodeBody, type RawSample } from '@tally/analyzer';
import { ADMIN_DB_URL, tally, eventually, fixed, type Proc } from '../test/helpers.js';

const AMQP_URL = process.env['TALLY_OS_AMQP_URL'];
const CEILOMETER_SECRET = process.env['TALLY_OS_CEILOMETER_SECRET'];
if (!AMQP_URL || !CEILOMETER_SECRET) throw new Error('run through `npm run test:openstack`, which starts the real Ceilometer');

const AGENT_SECRET = 'tally-agent-secret';
const PROJECT = 'cafe0000cafe4000800000000000000c';
const small = SIM_FLAVORS.find((f) => f.name === 'm1.small')!;
const DOMAINS: DomainSpec[] = [
  { uuid: 'c0c0c0c0-0000-4000-8000-000000000001', name: 'instance-00000301', displayName: 'Ünïcødé ☃ web', flavor: small, userId: 'u'.repeat(32), projectId: PROJECT,
    state: 'running', imageId: 'c0ffee00-1111-4222-8333-944455556666', disks: [{ dev: 'vda' }, { dev: 'vdb' }],
    nics: [{ tap: 'tap0c0c0c0c-01', mac: 'fa:16:3e:0c:0c:01', filter: 'nova-instance-instance-00000301-fa163e0c0c01', filterParams: { IP: '10.0.0.5' } }] },
  { uuid: 'c0c0c0c0-0000-4000-8000-000000000002', name: 'instance-00000302', displayName: 'db', flavor: small, userId: 'u'.repeat(32), projectId: PROJECT,
    state: 'running', imageId: null, disks: [{ dev: 'vda' }], nics: [{ tap: 'tap0c0c0c0c-02', mac: 'fa:16:3e:0c:0c:02', interfaceId: '0c0c0c0c-0000-4000-8000-0000000000ff' }] },
];

test('a real ceilometer-agent-notification accepts, re-signs and re-publishes every sample tally agent sends', { timeout: 180_000 }, async (t) => {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'tally-os-'));
  const dbName = `tally_os_${id}`;
  const dbUrl = await createDatabase(ADMIN_DB_URL, dbName);
  const bus = await AmqpBus.connect(AMQP_URL, createLogger('ostest', { level: 'error' }));
  const procs: Proc[] = [];
  const queues = [`tally.os.${id}.raw`, `tally.os.${id}.metering`, `tally.os.${id}.analyzer`, `tally.os.${id}.analyzer.dead`];
  t.after(async () => {
    for (const p of procs) await p.stop();
    for (const q of queues) await bus.deleteQueue(q).catch(() => undefined);
    await bus.close();
    await dropDatabase(ADMIN_DB_URL, dbName);
    rmSync(dir, { recursive: true, force: true });
  });

  // Our own queues (never the agent's): what tally publishes, and what Ceilometer re-publishes.
  const ex = { name: 'ceilometer', type: 'topic' as const, durable: false, autoDelete: false };
  const raw: Delivery[] = [];
  const metering: Delivery[] = [];
  for (const [q, key, sink] of [[queues[0], 'notifications.sample', raw], [queues[1], 'metering.sample', metering]] as const) {
    await bus.consume({ name: q as string, durable: false, bindings: [{ exchange: ex, routingKey: key }] }, { prefetch: 200 }, (d) => {
      sink.push(d);
      return Promise.resolve('ack');
    });
  }

  const analyzer = tally(['analyzer', '--amqp-url', AMQP_URL, '--analyzer-queue', queues[2] as string, '--dfs-url', `file://${dir}/dfs`,
    '--gap-threshold', '120s', '--ingest-flush-interval', '200ms', '--window-interval', '200ms'], { TALLY_DATABASE_URL: dbUrl });
  procs.push(analyzer);
  await analyzer.waitFor(/analyzer started/, 30_000);

  const uri = writeTestNodeFile(join(dir, 'node.xml'), DOMAINS);
  for (let i = 0; i < 2; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 3000));
    const agent = tally(['agent', '--once', '--amqp-url', AMQP_URL, '--libvirt-uri', uri, '--agent-host', 'compute-os', '--telemetry-secret', AGENT_SECRET, '--journal-dir', join(dir, 'journal')]);
    assert.equal(await agent.exited, 0, agent.output());
  }

  const sent = new Map<string, RawSample>();
  for (const d of raw) for (const { sample } of decodeBody(d.body).samples) sent.set(sample.message_id, sample);
  assert.ok(sent.size >= 2 * 2 * 10, `tally published ${sent.size} samples`);

  // Every sample comes back from the real notification agent: none dropped.
  const back = await eventually('Ceilometer re-published every sample', 60_000, () => {
    const got = new Map<string, { sample: RawSample; dict: PyDict; envelope: PyDict }>();
    for (const d of metering) {
      const envelope = decodeNotification(d.body);
      const dicts = envelope['payload'] as PyDict[];
      const decoded = decodeBody(d.body).samples;
      decoded.forEach(({ sample }, i) => got.set(sample.message_id, { sample, dict: dicts[i] as PyDict, envelope }));
    }
    return [...sent.keys()].every((k) => got.has(k)) ? got : undefined;
  });
  const meters = new Set<string>();
  for (const [messageId, mine] of sent) {
    const theirs = back.get(messageId)!;
    assert.equal(theirs.envelope['publisher_id'], 'telemetry.publisher.tally-test-notification');
    assert.equal(theirs.envelope['event_type'], 'metering');
    const s = theirs.sample;
    meters.add(s.counter_name);
    for (const k of ['counter_name', 'counter_type', 'counter_unit', 'counter_volume', 'resource_id', 'project_id', 'user_id', 'timestamp', 'source'] as const) {
      assert.equal(s[k], mine[k], `${k} of ${mine.counter_name} ${messageId}`);
    }
    assert.deepEqual(s.resource_metadata, mine.resource_metadata, `metadata of ${mine.counter_name}`);
    assert.equal(s.monotonic_time, null, 'the notification agent drops monotonic_time');
    // Ceilometer re-signed with its own secret; our implementation computes the same HMAC.
    assert.equal(theirs.dict['message_signature'], computeSignature(theirs.dict, CEILOMETER_SECRET), `signature of ${mine.counter_name}`);
    assert.notEqual(s.message_signature, mine.message_signature);
  }
  for (const m of ['cpu', 'memory.usage', 'disk.device.read.bytes', 'network.incoming.bytes']) assert.ok(meters.has(m), `meter ${m} went through`);
  const bigCpu = [...sent.values()].find((s) => s.counter_name === 'cpu' && BigInt(s.counter_volume) > 2n ** 53n);
  assert.ok(bigCpu, 'a cpu counter above 2^53 went through exactly');

  // The analyzer got each sample twice (raw and re-published) and counted it once.
  const db = openDatabase(dbUrl, 2);
  t.after(() => db.destroy());
  const cpu = [...sent.values()].filter((s) => s.counter_name === 'cpu');
  for (const uuid of DOMAINS.map((d) => d.uuid)) {
    const ts = cpu.filter((s) => s.resource_id === uuid).map((s) => s.timestampUs).sort((a, b) => a - b);
    assert.equal(ts.length, 2);
    const want = fixed(BigInt(ts[1]! - ts[0]!), 6);
    await eventually(`usage of ${uuid}`, 30_000, async () => {
      const rows = (await db.raw(`SELECT coalesce(sum(quantity), 0)::numeric(24,6)::text AS s FROM usage_records WHERE resource_id = ? AND meter = 'instance'`, [uuid])) as { rows: { s: string }[] };
      return rows.rows[0]?.s === want ? true : undefined;
    });
  }
  assert.equal(await analyzer.stop('SIGTERM'), 0);
  const dup = /duplicates=(\d+)/.exec(analyzer.output());
  assert.ok(dup && Number(dup[1]) >= sent.size, `duplicates counted: ${dup?.[1]}`);
});
