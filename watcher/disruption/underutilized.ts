// Underutilization (consolidationPolicy WhenEmptyOrUnderutilized), delete only:
// a node can go when every pod that would need a new home fits, all together,
// on the other nodes that are already there. We never launch a replacement
// here; the provisioner would, but then a "cheaper replacement" decision
// (upstream's single-node consolidation) is a price comparison we do not make.
//
// The simulation is first-fit decreasing over each destination's free room
// (allocatable − requests of the pods bound there), honouring taints,
// nodeSelector and required node affinity (Requirements.podAlternatives against
// the destination's labels) and extended resources: a GPU pod only lands where
// nvidia.com/gpu is free. Pods with required inter-pod (anti-)affinity are
// treated as unmovable: we do not simulate topology, so we do not guess.
import type { Node, Pod } from '../../kube/api/core.ts';
import type { Taint } from '../../kube/api/schemas.ts';
import { isNodeReady, untoleratedTaints } from '../../kube/api/core.ts';
import { LABEL_INSTANCE_GPU_NAME, TAINT_DISRUPTED } from '../../kube/api/constants.ts';
import { Requirements, normalizeLabelKey, type PodSchedulingInput } from '../../kube/api/requirements.ts';
import { canonicalGpuName } from '../../scaleway/gpu-names.ts';
import { DEFAULT_MAX_PODS, fits, requestedAmounts, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { isTerminal, podKey, podRequests } from './pods.ts';

export interface Destination {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** Room left for more pods. */
  free: ResourceAmounts;
}

/** The node's allocatable; a node that does not report `pods` gets the kubelet's default. */
export function nodeAllocatable(node: Pick<Node, 'status'>): ResourceAmounts {
  const amounts = requestedAmounts(node.status.allocatable);
  return node.status.allocatable.pods === undefined ? { ...amounts, pods: DEFAULT_MAX_PODS } : amounts;
}

/** Allocatable minus what the pods bound there (anything not finished) request. */
export function freeCapacity(node: Pick<Node, 'status'>, podsOnNode: readonly Pod[]): ResourceAmounts {
  const free = { ...nodeAllocatable(node) };
  for (const pod of podsOnNode) {
    if (isTerminal(pod)) continue;
    const r = podRequests(pod);
    free.cpu -= r.cpu;
    free.memory -= r.memory;
    free.gpu -= r.gpu;
    free.pods -= r.pods;
    free.ephemeralStorage -= r.ephemeralStorage;
  }
  return free;
}

/** Whether new pods may land on the node now: Ready, schedulable, not going away. */
export function acceptsPods(node: Pick<Node, 'metadata' | 'spec' | 'status'>): boolean {
  return (
    isNodeReady(node) &&
    node.spec.unschedulable !== true &&
    node.metadata.deletionTimestamp === undefined &&
    !node.spec.taints.some((t) => t.key === TAINT_DISRUPTED.key)
  );
}

export function toDestination(node: Node, podsOnNode: readonly Pod[]): Destination {
  return { name: node.metadata.name, labels: node.metadata.labels ?? {}, taints: node.spec.taints, free: freeCapacity(node, podsOnNode) };
}

/** The pod's scheduling input with GPU names canonical (`h100` → `h100-pcie`), as nodes are labelled. */
function withCanonicalGpuNames(pod: Pod): PodSchedulingInput {
  const isGpuKey = (key: string): boolean => normalizeLabelKey(key) === LABEL_INSTANCE_GPU_NAME;
  const nodeSelector = pod.spec.nodeSelector && Object.fromEntries(Object.entries(pod.spec.nodeSelector).map(([k, v]) => [k, isGpuKey(k) ? canonicalGpuName(v) : v]));
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const nodeSelectorTerms = terms?.map((t) => ({
    ...t,
    matchExpressions: t.matchExpressions?.map((e) => (isGpuKey(e.key) && e.values ? { ...e, values: e.values.map(canonicalGpuName) } : e)),
  }));
  return {
    metadata: pod.metadata,
    spec: { nodeSelector, affinity: nodeSelectorTerms ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } } : undefined },
  };
}

/** Why the pod cannot be moved at all by our simulation, or undefined. */
export function unmovableReason(pod: Pod): string | undefined {
  const affinity = pod.spec.affinity;
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const rules = affinity?.[kind] as { requiredDuringSchedulingIgnoredDuringExecution?: unknown[] } | undefined;
    if ((rules?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0) return `pod ${podKey(pod)} has required ${kind}, which consolidation does not simulate`;
  }
  return undefined;
}

/** Why `pod` cannot go to `dest` as it is now, or undefined when it fits. */
export function misfit(pod: Pod, dest: Destination, requests: ResourceAmounts = podRequests(pod)): string | undefined {
  const taint = untoleratedTaints(pod.spec.tolerations, dest.taints)[0];
  if (taint) return `taint ${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect} not tolerated`;
  const alternatives = Requirements.podAlternatives(withCanonicalGpuNames(pod));
  if (alternatives.length === 0) return 'node affinity names nodes by field, which we do not simulate';
  if (!alternatives.some((alt) => alt.matchesLabels(dest.labels))) return alternatives[0]!.unmetBy(dest.labels) ?? 'node selector not met';
  if (!fits(requests, dest.free)) return requests.gpu > dest.free.gpu ? `needs ${requests.gpu} nvidia.com/gpu, ${Math.max(0, dest.free.gpu)} free` : 'not enough free cpu, memory, storage or pod slots';
  return undefined;
}

export interface Placement {
  readonly pod: Pod;
  readonly node: string;
}

export type RescheduleResult =
  | { readonly ok: true; readonly placements: readonly Placement[]; readonly destinations: Destination[] }
  | { readonly ok: false; readonly pod: Pod; readonly message: string };

/** Biggest first: GPUs, then CPU, then memory; ties by name for a stable plan. */
function decreasing(a: { pod: Pod; r: ResourceAmounts }, b: { pod: Pod; r: ResourceAmounts }): number {
  return b.r.gpu - a.r.gpu || b.r.cpu - a.r.cpu || b.r.memory - a.r.memory || podKey(a.pod).localeCompare(podKey(b.pod));
}

/**
 * Places every pod on `destinations` (first fit, biggest pods first). On
 * success returns the destinations with the room used up (new objects; the
 * input is not modified); otherwise the first pod that fits nowhere and why.
 */
export function planReschedule(pods: readonly Pod[], destinations: readonly Destination[]): RescheduleResult {
  const dests = destinations.map((d) => ({ ...d, free: { ...d.free } }));
  const placements: Placement[] = [];
  const sized = pods.map((pod) => ({ pod, r: podRequests(pod) })).sort(decreasing);
  for (const { pod, r } of sized) {
    const unmovable = unmovableReason(pod);
    if (unmovable) return { ok: false, pod, message: unmovable };
    const reasons: string[] = [];
    const dest = dests.find((d) => {
      const why = misfit(pod, d, r);
      if (why) reasons.push(`${d.name}: ${why}`);
      return why === undefined;
    });
    if (!dest) {
      const detail = dests.length === 0 ? 'no other node accepts pods' : reasons.slice(0, 3).join('; ') + (reasons.length > 3 ? `; and ${reasons.length - 3} more` : '');
      return { ok: false, pod, message: `pod ${podKey(pod)} fits on no other node (${detail})` };
    }
    dest.free.cpu -= r.cpu;
    dest.free.memory -= r.memory;
    dest.free.gpu -= r.gpu;
    dest.free.pods -= r.pods;
    dest.free.ephemeralStorage -= r.ephemeralStorage;
    placements.push({ pod, node: dest.name });
  }
  return { ok: true, placements, destinations: dests };
}
