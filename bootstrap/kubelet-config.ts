// The kubelet's reservations and maxPods in the two forms the modes need: a
// KubeletConfiguration fragment (kubeadm's patch, a --config-dir drop-in) and
// kubelet flags (k3s's --kubelet-arg, a custom template's kubelet command
// line); and the readers that get them back from rendered text, for the
// simulated kubelet and the tests.
import { BootstrapError } from './errors.ts';
import type { KubeletConfig } from './types.ts';

const KEY = /^[a-z][a-zA-Z0-9.-]*$/;
// Quantities (90m, 1465Mi, 1Gi, 0.5) and percentages (10%): nothing that could break a flag or a YAML line.
const VALUE = /^(\d+(\.\d*)?|\.\d+)(%|[a-zA-Z]{1,2})?$/;

/** Rejects a configuration that could not be written as kubelet flags or would not parse back. */
export function validateKubeletConfig(config: KubeletConfig): void {
  if (!Number.isInteger(config.maxPods) || config.maxPods < 1) throw new BootstrapError(`kubelet maxPods ${config.maxPods} is not a positive integer`);
  for (const [field, list] of [['kubeReserved', config.kubeReserved], ['systemReserved', config.systemReserved], ['evictionHard', config.evictionHard]] as const) {
    for (const [key, value] of Object.entries(list)) {
      if (!KEY.test(key)) throw new BootstrapError(`kubelet ${field} key "${key}" is not a resource or signal name`);
      if (!VALUE.test(value)) throw new BootstrapError(`kubelet ${field}.${key} "${value}" is not a quantity or percentage`);
    }
  }
}

export const KUBELET_CONFIG_API_VERSION = 'kubelet.config.k8s.io/v1beta1';

/**
 * The KubeletConfiguration fields we set. As a JSON merge patch (kubeadm) `systemReserved: null`
 * removes a cluster-wide systemReserved the planner would not know about.
 */
export function kubeletConfigurationFragment(config: KubeletConfig): Record<string, unknown> {
  return {
    apiVersion: KUBELET_CONFIG_API_VERSION,
    kind: 'KubeletConfiguration',
    maxPods: config.maxPods,
    kubeReserved: { ...config.kubeReserved },
    systemReserved: Object.keys(config.systemReserved).length > 0 ? { ...config.systemReserved } : null,
    evictionHard: { ...config.evictionHard },
  };
}

const pairs = (list: Record<string, string>, sep: string): string => Object.entries(list).map(([k, v]) => `${k}${sep}${v}`).join(',');

/** The same settings as kubelet flags, `name=value` without the dashes. */
export function kubeletFlags(config: KubeletConfig): { name: string; value: string }[] {
  const flags = [
    { name: 'max-pods', value: String(config.maxPods) },
    { name: 'kube-reserved', value: pairs(config.kubeReserved, '=') },
  ];
  if (Object.keys(config.systemReserved).length > 0) flags.push({ name: 'system-reserved', value: pairs(config.systemReserved, '=') });
  flags.push({ name: 'eviction-hard', value: pairs(config.evictionHard, '<') });
  return flags;
}

/** The kubelet flags these settings own: a NodeClass sets them through `spec.kubelet`, never as extra flags. */
export const KUBELET_CONFIG_FLAGS: ReadonlySet<string> = new Set(['max-pods', 'kube-reserved', 'system-reserved', 'eviction-hard']);

function parsePairs(value: string, sep: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const at = pair.indexOf(sep);
    if (at > 0) out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

const stringMap = (v: unknown): Record<string, string> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : undefined;

/** The fields of a KubeletConfiguration document (or merge patch) that decide allocatable. */
export function readKubeletConfiguration(doc: unknown): Partial<KubeletConfig> {
  if (doc === null || typeof doc !== 'object') return {};
  const d = doc as Record<string, unknown>;
  const out: Partial<KubeletConfig> = {};
  if (typeof d.maxPods === 'number') out.maxPods = d.maxPods;
  const kube = stringMap(d.kubeReserved);
  if (kube) out.kubeReserved = kube;
  // null in a merge patch: none.
  if (d.systemReserved === null) out.systemReserved = {};
  const system = stringMap(d.systemReserved);
  if (system) out.systemReserved = system;
  const eviction = stringMap(d.evictionHard);
  if (eviction) out.evictionHard = eviction;
  return out;
}

/**
 * Kubelet flags found in text (a script, a k3s command line): `--max-pods=…`, and the same behind
 * k3s's `--kubelet-arg=`; values may be single- or double-quoted. The last occurrence wins, as on a
 * command line.
 */
export function readKubeletFlags(text: string): Partial<KubeletConfig> {
  const out: Partial<KubeletConfig> = {};
  const flag = /--(?:kubelet-arg=)?(max-pods|kube-reserved|system-reserved|eviction-hard)=([^\s'"\\]+)/g;
  for (const m of text.matchAll(flag)) {
    const [, name, value = ''] = m;
    if (name === 'max-pods') out.maxPods = Number(value);
    else if (name === 'kube-reserved') out.kubeReserved = parsePairs(value, '=');
    else if (name === 'system-reserved') out.systemReserved = parsePairs(value, '=');
    else out.evictionHard = parsePairs(value, '<');
  }
  return out;
}
