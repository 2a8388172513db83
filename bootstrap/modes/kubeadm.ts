// kubeadm mode: a v1beta4 JoinConfiguration with bootstrap-token discovery,
// then `kubeadm join --config`. kubeadm turns nodeRegistration.taints into
// the kubelet's --register-with-taints, and kubeletExtraArgs into its flags.
// The cluster's KubeletConfiguration (the kubelet-config ConfigMap) is shared
// by every node; this node's maxPods and reservations go in a merge patch
// that kubeadm applies to it from the JoinConfiguration's patches directory.
import { toYaml, writeFile } from '../cloud-config.ts';
import { KUBELET_CONFIG_FLAGS, kubeletConfigurationFragment } from '../kubelet-config.ts';
import { BootstrapError } from '../errors.ts';
import { formatLabels } from '../node-registration.ts';
import { PATHS } from '../node-hint.ts';
import type { KubeadmJoin, Taint } from '../types.ts';
import { assertSingleLine, kubeletRegistration, type ModeContext, type ModePart } from './mode.ts';

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CA_HASH = /^sha256:[0-9a-f]{64}$/;
const ENDPOINT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):\d{1,5}$/;
const FLAG_NAME = /^[a-z0-9][a-z0-9-]*$/;
// Flags whose values must come from the NodeClaim, not from the NodeClass.
const OWNED_KUBELET_FLAGS: ReadonlySet<string> = new Set(['node-labels', 'provider-id', 'register-with-taints', 'hostname-override']);

export interface JoinConfiguration {
  apiVersion: 'kubeadm.k8s.io/v1beta4';
  kind: 'JoinConfiguration';
  discovery: { bootstrapToken: { apiServerEndpoint: string; token: string; caCertHashes: string[] } };
  nodeRegistration: {
    name: string;
    criSocket?: string;
    taints: Taint[];
    kubeletExtraArgs: { name: string; value: string }[];
    ignorePreflightErrors?: string[];
  };
  patches: { directory: string };
}

function validate(join: KubeadmJoin): void {
  if (!ENDPOINT.test(join.apiServerEndpoint)) throw new BootstrapError(`kubeadm apiServerEndpoint "${join.apiServerEndpoint}" is not host:port`);
  if (!TOKEN.test(join.token)) throw new BootstrapError('kubeadm token is not <6 of [a-z0-9]>.<16 of [a-z0-9]>');
  if (join.caCertHashes.length === 0) throw new BootstrapError('kubeadm caCertHashes is empty: discovery must pin the cluster CA');
  for (const h of join.caCertHashes) if (!CA_HASH.test(h)) throw new BootstrapError(`kubeadm CA hash "${h}" is not sha256:<64 hex>`);
  for (const arg of join.kubeletExtraArgs ?? []) {
    if (!FLAG_NAME.test(arg.name)) throw new BootstrapError(`kubelet flag name "${arg.name}" is not valid (give it without dashes)`);
    if (KUBELET_CONFIG_FLAGS.has(arg.name)) throw new BootstrapError(`kubelet flag --${arg.name} is rendered from the NodeClass's spec.kubelet (the planner counts on it) and cannot be given in kubeletExtraArgs`);
    if (OWNED_KUBELET_FLAGS.has(arg.name)) throw new BootstrapError(`kubelet flag --${arg.name} is set by scw-karpenter from the NodeClaim and cannot be given in kubeletExtraArgs`);
    assertSingleLine(`kubelet flag --${arg.name}`, arg.value);
  }
  if (join.criSocket !== undefined) assertSingleLine('criSocket', join.criSocket);
  for (const e of join.ignorePreflightErrors ?? []) assertSingleLine('ignorePreflightErrors entry', e);
}

export function joinConfiguration(ctx: ModeContext, join: KubeadmJoin): JoinConfiguration {
  const kubeletExtraArgs: { name: string; value: string }[] = [];
  if (Object.keys(ctx.kubeletLabels).length > 0) kubeletExtraArgs.push({ name: 'node-labels', value: formatLabels(ctx.kubeletLabels) });
  kubeletExtraArgs.push({ name: 'provider-id', value: ctx.providerID }, ...(join.kubeletExtraArgs ?? []));
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: { apiServerEndpoint: join.apiServerEndpoint, token: join.token, caCertHashes: [...join.caCertHashes] },
    },
    nodeRegistration: {
      name: ctx.node.nodeName,
      ...(join.criSocket ? { criSocket: join.criSocket } : {}),
      taints: ctx.registerTaints,
      kubeletExtraArgs,
      ...(join.ignorePreflightErrors?.length ? { ignorePreflightErrors: [...join.ignorePreflightErrors] } : {}),
    },
    patches: { directory: PATHS.kubeadmPatchesDir },
  };
}

export function kubeadmPart(ctx: ModeContext, join: KubeadmJoin): ModePart {
  validate(join);
  return {
    ...kubeletRegistration(ctx),
    files: [
      writeFile(PATHS.kubeadmJoinConfig, toYaml(joinConfiguration(ctx, join)), '0600'),
      writeFile(PATHS.kubeadmKubeletPatch, toYaml(kubeletConfigurationFragment(ctx.kubelet)), '0644'),
    ],
    runcmd: [['kubeadm', 'join', '--config', PATHS.kubeadmJoinConfig]],
    warnings: [],
  };
}
