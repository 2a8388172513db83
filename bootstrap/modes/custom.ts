// custom mode: the user's template with `{{ .Name }}` variables. Nothing
// else of Go templates is supported (no pipelines, no conditionals): any
// other `{{ ... }}` is an error, so is an unknown or unavailable variable.
// Substitution is one pass: a value is never re-read as a template.
import { parseCloudConfig, writeFile } from '../cloud-config.ts';
import { BootstrapError } from '../errors.ts';
import { kubeletFlags } from '../kubelet-config.ts';
import { formatLabels, formatTaint } from '../node-registration.ts';
import { shellQuote } from '../shell.ts';
import { PATHS } from '../node-hint.ts';
import type { CustomJoin } from '../types.ts';
import { assertSingleLine, kubeletRegistration, type ModeContext, type ModePart } from './mode.ts';

/** The variables a custom template may use, with what each expands to. */
export const CUSTOM_TEMPLATE_VARIABLES = {
  NodeName: 'the Node name the kubelet must register with',
  ProviderID: 'scaleway://instance/<zone>/<server-uuid>',
  Zone: 'the server\'s zone, e.g. fr-par-2',
  Region: 'the zone\'s region, e.g. fr-par',
  ServerID: 'the server\'s UUID',
  Labels: 'labels the kubelet may set, comma-joined k=v (as --node-labels takes them)',
  Taints: 'registration taints, comma-joined key=value:Effect (as --register-with-taints takes them)',
  KubeletArgs: 'kubelet flags, quoted for sh: --node-labels=... --register-with-taints=... --provider-id=... --max-pods=... --kube-reserved=... --eviction-hard=...',
  MaxPods: 'the kubelet\'s maxPods (NodeClass spec.kubelet.maxPods, default 110)',
  KubeReserved: 'kube-reserved as --kube-reserved takes it, e.g. cpu=90m,memory=1465Mi,ephemeral-storage=1Gi',
  SystemReserved: 'system-reserved as --system-reserved takes it (empty when the NodeClass sets none)',
  EvictionHard: 'hard eviction thresholds as --eviction-hard takes them, e.g. memory.available<100Mi,nodefs.available<10%',
  Token: 'the join token the NodeClass mode provides (custom.token)',
  APIServerEndpoint: 'host:port of the API server (custom.apiServerEndpoint)',
  CACertHash: 'the first CA pin, sha256:<hex> (custom.caCertHashes)',
  CACertHashes: 'all CA pins, comma-joined',
} as const;

export type CustomTemplateVariable = keyof typeof CUSTOM_TEMPLATE_VARIABLES;

const EXPRESSION = /\{\{([\s\S]*?)\}\}/g;
const VARIABLE = /^\s*\.([A-Za-z][A-Za-z0-9]*)\s*$/;

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

function isKnown(name: string): name is CustomTemplateVariable {
  return Object.hasOwn(CUSTOM_TEMPLATE_VARIABLES, name);
}

/**
 * Replaces each `{{ .Name }}` with its value. Throws a BootstrapError for any other expression, an
 * unknown name, a value that is undefined (with `why` saying how to provide it), or an unclosed `{{`.
 */
export function renderTemplate(template: string, values: Partial<Record<CustomTemplateVariable, string>>, why: Partial<Record<CustomTemplateVariable, string>> = {}): { text: string; used: Set<CustomTemplateVariable> } {
  const lastEnd = [...template.matchAll(EXPRESSION)].reduce((_, m) => m.index + m[0].length, 0);
  const unclosed = template.indexOf('{{', lastEnd);
  if (unclosed >= 0) throw new BootstrapError(`custom template line ${lineOf(template, unclosed)}: "{{" without a closing "}}"`);
  const used = new Set<CustomTemplateVariable>();
  const text = template.replace(EXPRESSION, (whole, inner: string, offset: number) => {
    const line = lineOf(template, offset);
    const m = VARIABLE.exec(inner);
    if (!m?.[1]) throw new BootstrapError(`custom template line ${line}: unsupported expression ${whole}; only variables like {{ .NodeName }} are supported`);
    const name = m[1];
    if (!isKnown(name)) {
      throw new BootstrapError(`custom template line ${line}: unknown variable .${name}; known: ${Object.keys(CUSTOM_TEMPLATE_VARIABLES).map((k) => `.${k}`).join(', ')}`);
    }
    const value = values[name];
    if (value === undefined) throw new BootstrapError(`custom template line ${line}: variable .${name} has no value${why[name] ? `: ${why[name]}` : ''}`);
    used.add(name);
    return value;
  });
  return { text, used };
}

export function templateValues(ctx: ModeContext, join: CustomJoin): Partial<Record<CustomTemplateVariable, string>> {
  const labels = formatLabels(ctx.kubeletLabels);
  const taints = ctx.registerTaints.map(formatTaint).join(',');
  const flags = kubeletFlags(ctx.kubelet);
  const config = Object.fromEntries(flags.map((f) => [f.name, f.value]));
  // The reservations are what the planner counted on: without them the node reports more than it planned.
  const kubeletArgs = [
    ...(labels ? [`--node-labels=${labels}`] : []),
    `--register-with-taints=${taints}`,
    `--provider-id=${ctx.providerID}`,
    ...flags.map((f) => shellQuote(`--${f.name}=${f.value}`)),
  ];
  return {
    NodeName: ctx.node.nodeName,
    ProviderID: ctx.providerID,
    Zone: ctx.node.zone,
    Region: ctx.node.zone.replace(/-\d+$/, ''),
    ServerID: ctx.node.serverId,
    Labels: labels,
    Taints: taints,
    KubeletArgs: kubeletArgs.join(' '),
    MaxPods: String(ctx.kubelet.maxPods),
    KubeReserved: config['kube-reserved'] ?? '',
    SystemReserved: config['system-reserved'] ?? '',
    EvictionHard: config['eviction-hard'] ?? '',
    ...(join.token !== undefined ? { Token: join.token } : {}),
    ...(join.apiServerEndpoint !== undefined ? { APIServerEndpoint: join.apiServerEndpoint } : {}),
    ...(join.caCertHashes?.[0] !== undefined ? { CACertHash: join.caCertHashes[0], CACertHashes: join.caCertHashes.join(',') } : {}),
  };
}

export function customPart(ctx: ModeContext, join: CustomJoin): ModePart {
  if (join.token !== undefined) assertSingleLine('custom token', join.token);
  if (join.apiServerEndpoint !== undefined) assertSingleLine('custom apiServerEndpoint', join.apiServerEndpoint);
  for (const h of join.caCertHashes ?? []) assertSingleLine('custom CA hash', h);
  const { text, used } = renderTemplate(join.template, templateValues(ctx, join), {
    Token: 'set custom.token on the bootstrap input',
    APIServerEndpoint: 'set custom.apiServerEndpoint on the bootstrap input',
    CACertHash: 'set custom.caCertHashes on the bootstrap input',
    CACertHashes: 'set custom.caCertHashes on the bootstrap input',
  });
  const warnings: string[] = [];
  if (!used.has('ProviderID') && !used.has('KubeletArgs')) {
    warnings.push('custom template uses neither {{ .ProviderID }} nor {{ .KubeletArgs }}: the Node will lack the provider ID that ties it to its NodeClaim');
  }
  const systemReserved = Object.keys(ctx.kubelet.systemReserved).length > 0;
  const eachSetting = used.has('MaxPods') && used.has('KubeReserved') && used.has('EvictionHard') && (!systemReserved || used.has('SystemReserved'));
  if (!used.has('KubeletArgs') && !eachSetting) {
    warnings.push(`custom template uses neither {{ .KubeletArgs }} nor {{ .MaxPods }}, {{ .KubeReserved }}${systemReserved ? ', {{ .SystemReserved }}' : ''} and {{ .EvictionHard }}: the kubelet will not reserve what the planner subtracted, and the Node will report more allocatable than its NodeClaim`);
  }
  const base = { ...kubeletRegistration(ctx), warnings };
  if (text.trimStart().startsWith('#!')) {
    return { ...base, files: [writeFile(PATHS.customScript, text, '0700')], runcmd: [[PATHS.customScript]] };
  }
  return { ...base, files: [], runcmd: [], base: parseCloudConfig(text, 'custom template (after substitution)') };
}
