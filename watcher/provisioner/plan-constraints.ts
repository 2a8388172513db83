// The scheduling constraints of a pod beyond node selection, read from the
// raw pod spec: hostname anti-affinity and zone topology spread (supported),
// and everything the planner does not model yet (reported, never ignored).
// Fields are read defensively: a parsed Pod may not carry all of them.
import { matchesLabelSelector, type LabelSelectorLike } from '../../kube/api/label-selector.ts';
import type { Pod } from '../../kube/api/core.ts';
import { LABEL_HOSTNAME, LABEL_ZONE } from '../../kube/api/constants.ts';

export type { LabelSelectorLike };

export interface AntiAffinityTerm {
  namespace: string;
  selector: LabelSelectorLike;
}

export interface ZoneSpread {
  namespace: string;
  selector: LabelSelectorLike;
  maxSkew: number;
  /** Identifies the group of pods counted together. */
  key: string;
}

export interface PodConstraints {
  antiAffinity: AntiAffinityTerm[];
  zoneSpread: ZoneSpread | undefined;
  /** Why the planner cannot place the pod correctly, or undefined. */
  unsupported: string | undefined;
}

interface RawTerm {
  topologyKey?: string;
  labelSelector?: LabelSelectorLike;
  namespaces?: string[];
  namespaceSelector?: unknown;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

interface RawSpread {
  topologyKey?: string;
  maxSkew?: number;
  whenUnsatisfiable?: string;
  labelSelector?: LabelSelectorLike;
  minDomains?: number;
  matchLabelKeys?: string[];
  nodeAffinityPolicy?: string;
  nodeTaintsPolicy?: string;
}

interface RawSpec {
  affinity?: { podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: RawTerm[] }; podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: RawTerm[] } };
  topologySpreadConstraints?: RawSpread[];
  volumes?: { name?: string; persistentVolumeClaim?: { claimName?: string }; ephemeral?: unknown }[];
  containers?: { ports?: { hostPort?: number }[] }[];
  initContainers?: { ports?: { hostPort?: number }[] }[];
}

export function matchesSelector(selector: LabelSelectorLike, labels: Readonly<Record<string, string>> | undefined): boolean {
  return matchesLabelSelector(selector, labels);
}

function withLabelKeys(selector: LabelSelectorLike | undefined, keys: readonly string[] | undefined, labels: Readonly<Record<string, string>>): LabelSelectorLike {
  const matchLabels = { ...(selector?.matchLabels ?? {}) };
  for (const k of keys ?? []) if (labels[k] !== undefined) matchLabels[k] = labels[k];
  return { matchLabels, matchExpressions: selector?.matchExpressions ?? [] };
}

export function podConstraints(pod: Pod): PodConstraints {
  const spec = pod.spec as unknown as RawSpec;
  const namespace = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels ?? {};
  const problems: string[] = [];

  if ((spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0) problems.push('required pod affinity');

  const antiAffinity: AntiAffinityTerm[] = [];
  for (const term of spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (term.topologyKey !== LABEL_HOSTNAME) problems.push(`required pod anti-affinity on topology key ${term.topologyKey ?? '<none>'} (only ${LABEL_HOSTNAME} is supported)`);
    else if (term.namespaceSelector !== undefined || (term.namespaces ?? []).some((n) => n !== namespace)) problems.push('pod anti-affinity across namespaces');
    else if (!term.labelSelector) continue; // A null selector matches no pods.
    else antiAffinity.push({ namespace, selector: withLabelKeys(term.labelSelector, term.matchLabelKeys, labels) });
  }

  let zoneSpread: ZoneSpread | undefined;
  for (const c of spec.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable === 'ScheduleAnyway') continue; // a preference: ignored
    if (c.topologyKey !== LABEL_ZONE) problems.push(`topology spread on ${c.topologyKey ?? '<none>'} (only ${LABEL_ZONE} is supported)`);
    else if (c.minDomains !== undefined) problems.push('topology spread with minDomains');
    else if (zoneSpread) problems.push('more than one zone topology spread constraint');
    else {
      const selector = withLabelKeys(c.labelSelector, c.matchLabelKeys, labels);
      const maxSkew = Math.max(1, c.maxSkew ?? 1);
      zoneSpread = { namespace, selector, maxSkew, key: `${namespace}|${JSON.stringify(selector)}|${maxSkew}` };
    }
  }

  for (const v of spec.volumes ?? []) {
    if (v.persistentVolumeClaim) problems.push(`volume topology (PersistentVolumeClaim ${v.persistentVolumeClaim.claimName ?? v.name ?? ''})`);
    else if (v.ephemeral !== undefined) problems.push(`volume topology (ephemeral volume ${v.name ?? ''})`);
  }
  const hostPorts = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].flatMap((c) => (c.ports ?? []).flatMap((p) => (p.hostPort ? [p.hostPort] : [])));
  if (hostPorts.length > 0) problems.push(`host ports ${hostPorts.join(', ')}`);

  return { antiAffinity, zoneSpread, unsupported: problems.length > 0 ? problems.join('; ') : undefined };
}

/** Whether two pods may not share a node because of either one's hostname anti-affinity. */
export function antiAffinityConflict(a: { namespace: string; labels: Readonly<Record<string, string>>; terms: readonly AntiAffinityTerm[] }, b: { namespace: string; labels: Readonly<Record<string, string>>; terms: readonly AntiAffinityTerm[] }): boolean {
  return a.terms.some((t) => t.namespace === b.namespace && matchesSelector(t.selector, b.labels))
    || b.terms.some((t) => t.namespace === a.namespace && matchesSelector(t.selector, a.labels));
}
