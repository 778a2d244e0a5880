import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineOptions, opt, loadConfig, renderSample, parseDuration, envName, defaults } from './config.js';
import { ConfigError } from './errors.js';

const g = defineOptions('demo', 'options for the tests', {
  amqpUrl: opt.url({ name: 'amqp-url', default: '', schemes: ['amqp'], help: 'Broker URL.', secret: true }),
  port: opt.int({ name: 'port', default: 8889, min: 1, max: 65535, help: 'TCP port.' }),
  verify: opt.enum({ name: 'verify', default: 'off', choices: ['off', 'warn', 'enforce'] as const, help: 'Check signatures.' }),
  interval: opt.duration({ name: 'polling-interval', default: '300s', help: 'Poll period.' }),
  once: opt.bool({ name: 'once', default: false, help: 'One cycle.', cliOnly: true }),
});
const other = defineOptions('other', 'not used by the command', {
  host: opt.string({ name: 'host', default: '127.0.0.1', help: 'Bind address.' }),
});

const made: string[] = [];
after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tally-cfg-'));
  made.push(dir);
  const p = join(dir, 'tally.yaml');
  writeFileSync(p, text);
  return p;
}

describe('loadConfig', () => {
  it('uses defaults when nothing is given', () => {
    const c = loadConfig({ known: [g, other], used: [g], argv: [], env: {} });
    assert.deepEqual(c.get(g), { amqpUrl: '', port: 8889, verify: 'off', interval: 300_000, once: false });
  });

  it('applies flags over the environment over the file', () => {
    const cfgFile = file('port: 1000\nverify: warn\npolling-interval: 10s\n');
    const env = { TALLY_PORT: '2000', TALLY_VERIFY: 'enforce' };
    const c = loadConfig({ known: [g], used: [g], argv: ['--config', cfgFile, '--port=3000', '--once'], env });
    const v = c.get(g);
    assert.equal(v.port, 3000);
    assert.equal(v.verify, 'enforce');
    assert.equal(v.interval, 10_000);
    assert.equal(v.once, true);
    assert.equal(c.sources.get('port'), 'flag');
    assert.equal(c.sources.get('verify'), 'env TALLY_VERIFY');
    assert.equal(c.sources.get('polling-interval'), cfgFile);
  });

  it('lists every bad key at once, naming each', () => {
    const cfgFile = file('port: 70000\nbogus: 1\nonce: true\n');
    try {
      loadConfig({ known: [g, other], used: [g], argv: ['--config', cfgFile, '--verify', 'maybe', '--host', 'x', '--nope', '--amqp-url', 'http://x'], env: {} });
      assert.fail('expected a ConfigError');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      const names = e.issues.map((i) => i.option).sort();
      assert.deepEqual(names, ['amqp-url', 'bogus', 'host', 'nope', 'once', 'port', 'verify']);
      assert.match(e.message, /port .*must be <= 65535/);
      assert.match(e.message, /host \(flag\): not used by this command/);
      assert.match(e.message, /verify \(flag\): must be one of off, warn, enforce/);
    }
  });

  it('keeps positionals and understands --no-<bool>', () => {
    const c = loadConfig({ known: [g], used: [g], argv: ['sample', '--no-once', 'x'], env: {} });
    assert.deepEqual(c.positionals, ['sample', 'x']);
    assert.equal(c.get(g).once, false);
  });

  it('refuses to hand out a group the command did not load', () => {
    const c = loadConfig({ known: [g, other], used: [g], argv: [], env: {} });
    assert.throws(() => c.get(other), /not loaded/);
  });
});

describe('helpers', () => {
  it('parses durations exactly', () => {
    assert.equal(parseDuration('300'), 300_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.throws(() => parseDuration('5 minutes'), /not a duration/);
  });

  it('derives env names from option names', () => {
    assert.equal(envName('amqp-url'), 'TALLY_AMQP_URL');
  });

  it('gives typed defaults with overrides', () => {
    assert.equal(defaults(g, { port: 1 }).port, 1);
    assert.equal(defaults(g).interval, 300_000);
  });

  it('renders a sample from every declaration, without command-only flags', () => {
    const s = renderSample([g, other]);
    assert.match(s, /## demo: options for the tests/);
    assert.match(s, /# Broker URL\.\n# \(type url; schemes amqp; secret; env TALLY_AMQP_URL; flag --amqp-url\)\n#amqp-url: ""/);
    assert.match(s, /#port: 8889/);
    assert.match(s, /#verify: "off"/);
    assert.match(s, /#host: "127.0.0.1"/);
    assert.doesNotMatch(s, /#once:/);
  });
});
