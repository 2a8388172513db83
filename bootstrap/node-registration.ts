// What the kubelet registers with, whatever the join mode: the provider ID,
// the labels it may set itself, and the taints. Values are validated here
// because they end up in shell command lines and YAML files on the node.
import { BootstrapError } from './errors.ts';
import type { NodeRegistration, Taint } from './types.ts';

/** Karpenter's registration taint: core removes it once it has synced labels and taints onto the Node. */
export const UNREGISTERED_TAINT: Taint = Object.freeze({ key: 'karpenter.sh/unregistered', effect: 'NoExecute' });

// Labels the kubelet may set on its own Node in the kubernetes.io / k8s.io
// namespaces; NodeRestriction rejects (and the kubelet refuses to start with)
// any other key there, e.g. node-role.kubernetes.io/*.
const KUBELET_ALLOWED_LABELS: ReadonlySet<string> = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
]);
// Whole label namespaces (and their subdomains) reserved for the kubelet.
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const ZONE = /^[a-z]{2}-[a-z]{3}-\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** The provider ID Scaleway's cloud controller manager gives instances, and that ties a Node to its NodeClaim. */
export function providerIdFor(zone: string, serverId: string): string {
  if (!ZONE.test(zone)) throw new BootstrapError(`zone "${zone}" is not a Scaleway zone like fr-par-2`);
  if (!UUID.test(serverId)) throw new BootstrapError(`server ID "${serverId}" is not a UUID`);
  return `scaleway://instance/${zone}/${serverId}`;
}

export function isDnsLabel(name: string): boolean {
  return DNS_LABEL.test(name);
}

function isQualifiedKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return QUALIFIED_NAME.test(key);
  const prefix = key.slice(0, slash);
  return DNS_SUBDOMAIN.test(prefix) && QUALIFIED_NAME.test(key.slice(slash + 1));
}

/** Whether the kubelet may set this label on its own Node (`--node-labels`), per the NodeRestriction rules. */
export function kubeletMaySetLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return true;
  const namespace = key.slice(0, slash);
  const restricted = ['kubernetes.io', 'k8s.io'].some((d) => namespace === d || namespace.endsWith(`.${d}`));
  if (!restricted) return true;
  if (KUBELET_ALLOWED_LABELS.has(key)) return true;
  return KUBELET_LABEL_NAMESPACES.some((ns) => namespace === ns || namespace.endsWith(`.${ns}`));
}

/** Splits labels into those the kubelet registers with and those the controller must set after registration. */
export function splitNodeLabels(labels: Readonly<Record<string, string>>): { kubelet: Record<string, string>; deferred: Record<string, string> } {
  const kubelet: Record<string, string> = {};
  const deferred: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) {
    const value = labels[key] ?? '';
    if (kubeletMaySetLabel(key)) kubelet[key] = value;
    else deferred[key] = value;
  }
  return { kubelet, deferred };
}

/** Our taints, then startup taints, then the unregistered taint; one per key and effect. */
export function registrationTaints(node: Pick<NodeRegistration, 'taints' | 'startupTaints'>): Taint[] {
  const seen = new Set<string>();
  const out: Taint[] = [];
  for (const t of [...node.taints, ...node.startupTaints, UNREGISTERED_TAINT]) {
    const id = `${t.key}:${t.effect}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(t.value === undefined || t.value === '' ? { key: t.key, effect: t.effect } : { key: t.key, value: t.value, effect: t.effect });
  }
  return out;
}

/** `key=value:Effect` (or `key:Effect`), as `--register-with-taints` and k3s `--node-taint` take it. */
export function formatTaint(t: Taint): string {
  return t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`;
}

/** `k=v,k2=v2`, as `--node-labels` takes it. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Throws a BootstrapError naming the first field that would be rejected by Kubernetes or break the rendered files. */
export function validateNodeRegistration(node: NodeRegistration): void {
  if (!DNS_SUBDOMAIN.test(node.nodeName)) throw new BootstrapError(`node name "${node.nodeName}" is not a DNS subdomain`);
  providerIdFor(node.zone, node.serverId);
  for (const [key, value] of Object.entries(node.labels)) {
    if (!isQualifiedKey(key)) throw new BootstrapError(`label key "${key}" is not a qualified name`);
    if (!LABEL_VALUE.test(value)) throw new BootstrapError(`label ${key}: value "${value}" is not a valid label value`);
  }
  for (const t of [...node.taints, ...node.startupTaints]) {
    if (!isQualifiedKey(t.key)) throw new BootstrapError(`taint key "${t.key}" is not a qualified name`);
    if (t.value !== undefined && !LABEL_VALUE.test(t.value)) throw new BootstrapError(`taint ${t.key}: value "${t.value}" is not valid`);
    if (!EFFECTS.has(t.effect)) throw new BootstrapError(`taint ${t.key}: effect "${String(t.effect)}" is not NoSchedule, PreferNoSchedule or NoExecute`);
  }
}
