/**
 * The cloud-init user-data of an analyzer server (pure): it writes the analyzer's
 * configuration (the same bus, database and DFS as the scheduler's, its analyzer id = the
 * member name, its cluster), a systemd unit, installs Node and Tally when the image lacks
 * them, and starts `tally analyzer`. A drained analyzer exits 0 and systemd leaves it
 * stopped (`Restart=on-failure`), so the scheduler can delete the server.
 *
 * An operator can replace the whole document with a template file (`nova-user-data-file`)
 * in which `{{name}}`, `{{cluster}}`, `{{queue}}` and `{{config_yaml}}` (the configuration,
 * indented by the template) are replaced.
 */

/** The analyzer's configuration written on the server (`tally.yaml`). */
export interface AnalyzerServerConfig {
  databaseUrl: string;
  amqpUrl: string;
  dfsUrl: string;
  controlExchange: string;
  exchangeDurable: boolean;
  heartbeatInterval: string;
}

export interface UserDataInput {
  name: string;
  cluster: string;
  queue: string;
  config: AnalyzerServerConfig;
  /** Node 20 tarball (linux-x64 .tar.xz) fetched when /opt/tally/node is missing. */
  nodeUrl: string;
  /** Git URL of Tally, cloned (and `npm ci`) when /opt/tally/app is missing; empty: the image must have it. */
  tallyGitUrl: string;
  /** A template replacing the built-in document, or empty. */
  template?: string;
}

/** The analyzer's tally.yaml lines. */
export function analyzerConfigYaml(i: UserDataInput): string {
  const q = JSON.stringify;
  return [
    `database-url: ${q(i.config.databaseUrl)}`,
    `amqp-url: ${q(i.config.amqpUrl)}`,
    `dfs-url: ${q(i.config.dfsUrl)}`,
    `analyzer-queue: ${q(i.queue)}`,
    `analyzer-id: ${q(i.name)}`,
    `component-cluster: ${q(i.cluster)}`,
    `control-exchange: ${q(i.config.controlExchange)}`,
    `exchange-durable: ${i.config.exchangeDurable}`,
    `heartbeat-interval: ${q(i.config.heartbeatInterval)}`,
  ].join('\n') + '\n';
}

const indent = (text: string, n: number): string => text.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');
const sh = (s: string): string => `'${s.replace(/'/g, `'"'"'`)}'`;

/** The user-data document (text; the driver base64-encodes it). */
export function renderUserData(i: UserDataInput): string {
  const config = analyzerConfigYaml(i);
  if (i.template) {
    return i.template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => ({ name: i.name, cluster: i.cluster, queue: i.queue, config_yaml: config.trimEnd() } as Record<string, string>)[k] ?? m);
  }
  const installNode = `test -x /opt/tally/node/bin/node || { mkdir -p /opt/tally/node && curl -fsSL ${sh(i.nodeUrl)} | tar -xJ -C /opt/tally/node --strip-components=1; }`;
  const installTally = i.tallyGitUrl
    ? `test -f /opt/tally/app/bin/tally.js || { git clone --depth 1 ${sh(i.tallyGitUrl)} /opt/tally/app && cd /opt/tally/app && PATH=/opt/tally/node/bin:$PATH npm ci; }`
    : `test -f /opt/tally/app/bin/tally.js || { echo 'tally: /opt/tally/app is missing from the image and nova-tally-git-url is empty' >&2; exit 1; }`;
  const unit = `[Unit]
Description=Tally analyzer ${i.name} (cluster ${i.cluster})
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/opt/tally/node/bin/node /opt/tally/app/bin/tally.js analyzer --config /etc/tally/tally.yaml
# A drained analyzer exits 0 and stays stopped; a crash is restarted.
Restart=on-failure
RestartSec=5
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
`;
  return `#cloud-config
# Tally analyzer ${i.name} of cluster ${i.cluster}, created by the Tally scheduler.
write_files:
  - path: /etc/tally/tally.yaml
    permissions: '0600'
    content: |
${indent(config, 6)}
  - path: /etc/systemd/system/tally-analyzer.service
    permissions: '0644'
    content: |
${indent(unit, 6)}
runcmd:
  - [sh, -c, ${JSON.stringify(installNode)}]
  - [sh, -c, ${JSON.stringify(installTally)}]
  - [systemctl, daemon-reload]
  - [systemctl, enable, --now, tally-analyzer.service]
`;
}
