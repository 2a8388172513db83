// Kosmos mode: Scaleway's k8s-agent in -kosmos mode. The controller did the
// external-node auth for this server; we write its answer where the agent
// caches it, so the agent skips registration and the user's API key never
// reaches the node. The agent then installs and runs the kubelet with the
// pool's metadata: node name, labels, taints and provider ID come from the
// pool, not from us (see RenderedBootstrap.deferredLabels / deferredTaints).
// The pool's metadata also carries its kubelet configuration; ours (maxPods,
// reservations) is written as a KubeletConfiguration drop-in, which the kubelet
// applies over its config only when it runs with --config-dir on that folder:
// unverified for the agent's kubelet (see bootstrap/README.md).
import { toYaml, writeFile } from '../cloud-config.ts';
import { kubeletConfigurationFragment } from '../kubelet-config.ts';
import { BootstrapError } from '../errors.ts';
import { PATHS } from '../node-hint.ts';
import { UNREGISTERED_TAINT } from '../node-registration.ts';
import type { KosmosJoin } from '../types.ts';
import { assertSingleLine, type ModeContext, type ModePart } from './mode.ts';

/** The agent's latest release asset on GitHub (where Scaleway publishes it since mid-2026). */
export function kosmosAgentUrl(arch: 'amd64' | 'arm64' = 'amd64'): string {
  return `https://github.com/scaleway/k8s-agent/releases/latest/download/k8s-agent_linux_${arch}`;
}

// The agent insists that SCW_SECRET_KEY is set even when its registration
// cache exists and the key goes unused; this placeholder is not a credential.
export const KOSMOS_SECRET_KEY_PLACEHOLDER = 'unused-registration-cached-by-scw-karpenter';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REGION = /^[a-z]{2}-[a-z]{3}$/;
const AGENT_ARG = /^[-A-Za-z0-9_=.:/]+$/;

function agentUnit(args: string[]): string {
  return [
    '[Unit]',
    'Description=Scaleway k8s-agent for a Kosmos external node (installed by scw-karpenter)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `EnvironmentFile=${PATHS.kosmosEnv}`,
    `ExecStart=${[PATHS.kosmosAgentBinary, ...args].join(' ')}`,
    'Restart=on-failure',
    'RestartSec=10',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function kosmosPart(ctx: ModeContext, join: KosmosJoin): ModePart {
  if (!UUID.test(join.poolId)) throw new BootstrapError(`Kosmos poolId "${join.poolId}" is not a UUID`);
  if (!REGION.test(join.poolRegion)) throw new BootstrapError(`Kosmos poolRegion "${join.poolRegion}" is not a region like fr-par`);
  if (!/^https:\/\//.test(join.metadataUrl)) throw new BootstrapError('Kosmos metadataUrl must be an https URL');
  assertSingleLine('Kosmos metadataUrl', join.metadataUrl);
  if (join.nodeSecretKey.trim() === '') throw new BootstrapError('Kosmos nodeSecretKey is empty');
  assertSingleLine('Kosmos nodeSecretKey', join.nodeSecretKey);
  const agentUrl = join.agentUrl ?? kosmosAgentUrl(join.arch);
  if (!/^https?:\/\/\S+$/.test(agentUrl)) throw new BootstrapError(`Kosmos agentUrl "${agentUrl}" must be an http(s) URL`);
  const args = join.agentArgs ?? ['-kosmos'];
  for (const a of args) if (!AGENT_ARG.test(a)) throw new BootstrapError(`Kosmos agent argument "${a}" has characters we do not pass through`);

  // Values are validated above, so plain KEY=value lines suit both systemd and sh.
  const env = `POOL_ID=${join.poolId}\nPOOL_REGION=${join.poolRegion}\nSCW_SECRET_KEY=${KOSMOS_SECRET_KEY_PLACEHOLDER}\n`;
  const registration = `${JSON.stringify({ metadata_url: join.metadataUrl, node_secret_key: join.nodeSecretKey })}\n`;
  const all = { ...ctx.kubeletLabels, ...ctx.restrictedLabels };
  const deferredLabels = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k] ?? '']));
  return {
    files: [
      writeFile(PATHS.kosmosUserData, registration, '0600'),
      writeFile(PATHS.kosmosEnv, env, '0600'),
      writeFile(PATHS.kosmosUnit, agentUnit(args), '0644'),
      // A drop-in is a whole KubeletConfiguration document, not a patch: no null to clear systemReserved.
      writeFile(PATHS.kubeletDropIn, toYaml(Object.fromEntries(Object.entries(kubeletConfigurationFragment(ctx.kubelet)).filter(([, v]) => v !== null))), '0644'),
    ],
    runcmd: [
      ['curl', '-fsSL', '--retry', '5', '-o', PATHS.kosmosAgentBinary, agentUrl],
      ['chmod', '0755', PATHS.kosmosAgentBinary],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'scw-k8s-agent.service'],
    ],
    kubeletLabels: {},
    deferredLabels,
    registerTaints: [],
    // The unregistered taint only matters at registration; the others the controller adds.
    deferredTaints: ctx.registerTaints.filter((t) => !(t.key === UNREGISTERED_TAINT.key && t.effect === UNREGISTERED_TAINT.effect)),
    providerIDAtRegistration: false,
    registeredBy: 'k8s-agent',
    warnings: [],
  };
}
