// k3s mode: the k3s install script, run as `sh install.sh agent <flags>`
// with K3S_URL and K3S_TOKEN from a root-only env file (the script copies
// them into the k3s-agent service's own env file).
import { writeFile } from '../cloud-config.ts';
import { BootstrapError } from '../errors.ts';
import { kubeletFlags } from '../kubelet-config.ts';
import { formatLabels, formatTaint } from '../node-registration.ts';
import { PATHS } from '../node-hint.ts';
import { renderEnvFile, shellQuote } from '../shell.ts';
import type { K3sJoin } from '../types.ts';
import { assertSingleLine, kubeletRegistration, type ModeContext, type ModePart } from './mode.ts';

/** The upstream install script; override `installScriptUrl` for a mirror. */
export const K3S_DEFAULT_INSTALL_SCRIPT_URL = 'https://get.k3s.io';

const VERSION = /^v[0-9A-Za-z.+-]+$/;
const INSTALLER_COPY = '/etc/scw-karpenter/k3s-install.sh';

function httpUrl(what: string, raw: string, httpsOnly: boolean): void {
  assertSingleLine(what, raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BootstrapError(`${what} "${raw}" is not a URL`);
  }
  const ok = httpsOnly ? url.protocol === 'https:' : url.protocol === 'https:' || url.protocol === 'http:';
  if (!ok) throw new BootstrapError(`${what} "${raw}" must be an ${httpsOnly ? 'https' : 'http(s)'} URL`);
}

/** The agent's flags: node name, one --node-label per label, one --node-taint per taint, the provider ID, maxPods and reservations. */
export function k3sAgentArgs(ctx: ModeContext): string[] {
  return [
    `--node-name=${ctx.node.nodeName}`,
    ...Object.entries(ctx.kubeletLabels).map(([k, v]) => `--node-label=${formatLabels({ [k]: v })}`),
    ...ctx.registerTaints.map((t) => `--node-taint=${formatTaint(t)}`),
    `--kubelet-arg=provider-id=${ctx.providerID}`,
    // One --kubelet-arg per kubelet flag: k3s passes each through whole, commas included.
    ...kubeletFlags(ctx.kubelet).map((f) => `--kubelet-arg=${f.name}=${f.value}`),
  ];
}

export function k3sPart(ctx: ModeContext, join: K3sJoin): ModePart {
  httpUrl('k3s url', join.url, true);
  if (join.token.trim() === '') throw new BootstrapError('k3s token is empty');
  assertSingleLine('k3s token', join.token);
  const installer = join.installScriptUrl ?? K3S_DEFAULT_INSTALL_SCRIPT_URL;
  httpUrl('k3s installScriptUrl', installer, false);
  if (join.version !== undefined && !VERSION.test(join.version)) throw new BootstrapError(`k3s version "${join.version}" is not like v1.33.4+k3s1`);

  const env: Record<string, string> = { K3S_URL: join.url, K3S_TOKEN: join.token };
  if (join.version) env.INSTALL_K3S_VERSION = join.version;
  const script = [
    '#!/bin/sh',
    '# Installs k3s and joins this server to the cluster as an agent (rendered by scw-karpenter).',
    'set -eu',
    'set -a',
    `. ${PATHS.k3sEnv}`,
    'set +a',
    `curl -sfL --retry 5 -o ${INSTALLER_COPY} ${shellQuote(installer)}`,
    `exec sh ${INSTALLER_COPY} agent \\`,
    k3sAgentArgs(ctx).map((a) => `  ${shellQuote(a)}`).join(' \\\n'),
    '',
  ].join('\n');
  return {
    ...kubeletRegistration(ctx),
    files: [writeFile(PATHS.k3sEnv, renderEnvFile(env), '0600'), writeFile(PATHS.k3sJoinScript, script, '0700')],
    runcmd: [[PATHS.k3sJoinScript]],
    warnings: [],
  };
}
