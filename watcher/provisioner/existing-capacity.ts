// Room that exists (Nodes) or is coming (NodeClaims still launching), and the
// first step of a plan: nominating pending pods to it before buying anything,
// as Karpenter's scheduler tries existing and in-flight nodes first
// (scheduling/existingnode.go).
import type { Pod } from '../../kube/api/core.ts';
import { untoleratedTaints } from '../../kube/api/core.ts';
import type { NodeClaim } from '../../kube/api/schemas.ts';
import { Requirements, SCHEDULING_WELL_KNOWN_LABELS } from '../../kube/api/requirements.ts';
import { LABEL_NODEPOOL } from '../../kube/api/constants.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import type { KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import { fits, instanceAllocatable, instanceLabels, meetsLabels, requestedAmounts, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { addResources, maxResources, NO_RESOURCES, podRequests, subtractResources, toAmounts } from './pod-requests.ts';
import { antiAffinityConflict, type AntiAffinityTerm } from './plan-constraints.ts';
import { canonical } from './plan-requirements.ts';
import type { PreparedPod } from './plan-pods.ts';
import type { ExistingCapacity, Nomination, PodLabels } from './plan-types.ts';
import { zoneOfEntry, type ZoneSpreadLedger } from './zone-spread-ledger.ts';

export interface ExistingState {
  entry: ExistingCapacity;
  available: ResourceAmounts;
  requirements: Requirements | undefined;
  /** A launching NodeClaim's possible offers (all must satisfy a pod), when known. */
  candidates: Readonly<Record<string, string>>[] | undefined;
  pods: PodLabels[];
  /** Anti-affinity terms of pods nominated here by this plan. */
  terms: { namespace: string; labels: Record<string, string>; terms: AntiAffinityTerm[] }[];
  zone: string | undefined;
}

function existingAccepts(state: ExistingState, pod: PreparedPod): string | undefined {
  if (untoleratedTaints(pod.tolerations, state.entry.taints).length > 0) return 'taint';
  if (!fits(pod.requests, state.available)) return 'room';
  const labelsOk = pod.alternatives.some((alt) => {
    if (!state.requirements) return alt.matchesLabels(state.entry.labels);
    if (state.requirements.incompatibilities(alt, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS }).length > 0) return false;
    // Every type the NodeClaim may still become must satisfy the pod; unknown types: its requirements must pin each key.
    if (state.candidates && state.candidates.length > 0) return state.candidates.every((labels) => meetsLabels(alt, labels));
    return alt.list().every((r) => {
      const have = state.requirements!.get(r.key);
      return have !== undefined && !have.complement && have.values.size > 0 && [...have.values].every((v) => r.has(v));
    });
  });
  if (!labelsOk) return 'labels';
  const me = { namespace: pod.namespace, labels: pod.labels, terms: pod.antiAffinity };
  if (pod.antiAffinity.length > 0 && state.pods.some((p) => antiAffinityConflict(me, { ...p, terms: [] }))) return 'anti-affinity';
  if (state.terms.some((t) => antiAffinityConflict(me, t))) return 'anti-affinity';
  return undefined;
}

/** A Node as existing capacity: allocatable minus the requests of the pods bound to it. */
export function existingFromNode(node: { metadata: { name: string; labels?: Record<string, string> | undefined }; spec: { taints: readonly { key: string; value?: string | undefined; effect: string }[]; unschedulable?: boolean | undefined }; status: { allocatable: Record<string, string> } }, boundPods: readonly Pod[]): ExistingCapacity {
  let used = NO_RESOURCES;
  for (const p of boundPods) used = addResources(used, podRequests(p));
  const labels = node.metadata.labels ?? {};
  // An unschedulable (cordoned) node takes nothing.
  const available = node.spec.unschedulable ? NO_RESOURCES : subtractResources(requestedAmounts(node.status.allocatable), used);
  return {
    kind: 'Node',
    name: node.metadata.name,
    nodePool: labels[LABEL_NODEPOOL],
    labels,
    taints: node.spec.taints.filter((t) => !EPHEMERAL_TAINTS.has(t.key) && !t.key.startsWith('readiness.k8s.io/')),
    available,
    pods: boundPods.map((p) => ({ namespace: p.metadata.namespace ?? 'default', labels: p.metadata.labels ?? {} })),
  };
}

const EPHEMERAL_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.cloudprovider.kubernetes.io/uninitialized', 'karpenter.sh/unregistered']);

/**
 * A NodeClaim still launching as existing capacity: the allocatable of the
 * smallest type it may become (or its status.allocatable once known) minus
 * its requested resources (which already hold its pods and DaemonSet overhead)
 * and the requests of pods nominated to it since.
 */
export function existingFromNodeClaim(nodeClaim: NodeClaim, options: {
  offers: readonly ServerTypeOffer[];
  rootVolumeBytes: number;
  kubelet?: KubeletSettings | undefined;
  nominatedPods?: readonly Pod[] | undefined;
  /**
   * Pods the NodeClaim was made for that the scheduler bound to another node
   * meanwhile: the room they were counted in is free again. (In a burst, the
   * first node up takes whichever pods come first, not its own.)
   */
  departedPods?: readonly Pod[] | undefined;
}): ExistingCapacity {
  const requirements = canonical(Requirements.from(nodeClaim.spec.requirements));
  const candidates = offersMeeting(requirements, options.offers);
  let allocatable: ResourceAmounts;
  if (nodeClaim.status.allocatable) allocatable = requestedAmounts(nodeClaim.status.allocatable);
  else if (candidates.length === 0) allocatable = NO_RESOURCES;
  else {
    const all = candidates.map((o) => instanceAllocatable(o, options.rootVolumeBytes, options.kubelet));
    allocatable = all.reduce((m, a) => ({ cpu: Math.min(m.cpu, a.cpu), memory: Math.min(m.memory, a.memory), gpu: Math.min(m.gpu, a.gpu), pods: Math.min(m.pods, a.pods), ephemeralStorage: Math.min(m.ephemeralStorage, a.ephemeralStorage) }));
  }
  let used = requestedAmounts(nodeClaim.spec.resources.requests);
  for (const p of options.nominatedPods ?? []) used = addResources(used, podRequests(p));
  for (const p of options.departedPods ?? []) used = maxResources(NO_RESOURCES, subtractResources(used, podRequests(p)));
  const labels = { ...requirements.singleValuedLabels(), ...(nodeClaim.metadata.labels ?? {}) };
  return {
    kind: 'NodeClaim',
    name: nodeClaim.metadata.name,
    nodePool: nodeClaim.metadata.labels?.[LABEL_NODEPOOL],
    labels,
    requirements: nodeClaim.spec.requirements,
    taints: nodeClaim.spec.taints,
    available: subtractResources(allocatable, used),
    pods: (options.nominatedPods ?? []).map((p) => ({ namespace: p.metadata.namespace ?? 'default', labels: p.metadata.labels ?? {} })),
  };
}

/**
 * The offers a NodeClaim's requirements allow, per offers list: the NodeClaims of
 * a burst share a handful of requirement sets, and each pass asks for every one
 * of them twice (its capacity, then what its pods may be). The provisioner reads
 * a new list each pass, so an answer lives one pass and is dropped with its list.
 */
const MEETING_BY_OFFERS = new WeakMap<readonly ServerTypeOffer[], Map<string, readonly ServerTypeOffer[]>>();

function offersMeeting(requirements: Requirements, offers: readonly ServerTypeOffer[]): readonly ServerTypeOffer[] {
  let byRequirements = MEETING_BY_OFFERS.get(offers);
  if (!byRequirements) MEETING_BY_OFFERS.set(offers, (byRequirements = new Map<string, readonly ServerTypeOffer[]>()));
  const key = requirements.toString();
  let meeting = byRequirements.get(key);
  if (!meeting) byRequirements.set(key, (meeting = offers.filter((o) => meetsLabels(requirements, instanceLabels(o)))));
  return meeting;
}

/** Existing capacity in the order pods try it: Nodes first, then launching NodeClaims, by name. */
export function existingStates(existing: readonly ExistingCapacity[], offers: readonly ServerTypeOffer[]): ExistingState[] {
  return [...existing]
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'Node' ? -1 : 1))
    .map((entry) => {
      const requirements = entry.kind === 'NodeClaim' && entry.requirements ? canonical(Requirements.from(entry.requirements)) : undefined;
      const candidates = requirements ? offersMeeting(requirements, offers).map((o) => instanceLabels(o)) : undefined;
      return { entry, available: toAmounts(entry.available), requirements, candidates, pods: [...(entry.pods ?? [])], terms: [], zone: zoneOfEntry(entry) };
    });
}

/**
 * Nominates pods, biggest first, to the first existing capacity that takes
 * them; returns the nominations and the pods left for new NodeClaims, in input order.
 */
export function placeOnExisting(existing: ExistingState[], prepared: readonly PreparedPod[], spread: ZoneSpreadLedger): { nominations: Nomination[]; pending: PreparedPod[] } {
  const nominations: Nomination[] = [];
  const bigFirst = [...prepared].sort((a, b) => b.requests.gpu - a.requests.gpu || b.requests.cpu - a.requests.cpu || b.requests.memory - a.requests.memory || a.index - b.index);
  const pending: PreparedPod[] = [];
  for (const pod of bigFirst) {
    const target = existing.find((s) => existingAccepts(s, pod) === undefined && (!pod.zoneSpread || (s.zone !== undefined && spread.allows(pod.zoneSpread, s.zone, spread.allZones))));
    if (!target) {
      pending.push(pod);
      continue;
    }
    target.available = subtractResources(target.available, pod.requests);
    target.pods.push({ namespace: pod.namespace, labels: pod.labels });
    target.terms.push({ namespace: pod.namespace, labels: pod.labels, terms: pod.antiAffinity });
    if (target.zone) spread.count(pod.zoneSpread, target.zone);
    nominations.push({ pod: pod.ref, kind: target.entry.kind, name: target.entry.name, planned: false });
  }
  pending.sort((a, b) => a.index - b.index);
  return { nominations, pending };
}
