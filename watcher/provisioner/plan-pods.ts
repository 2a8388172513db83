// Pending pods as the planner reads them: once each, in a stable order, with
// their requests, requirement alternatives, tolerations and topology
// constraints parsed up front (Karpenter's scheduler queue works on the same
// pre-read pods). A pod that cannot be read or placed on any new node is an
// error here, not a candidate.
import type { Pod, Toleration } from '../../kube/api/core.ts';
import { Requirements } from '../../kube/api/requirements.ts';
import type { ResourceAmounts } from '../../scaleway/instance-types.ts';
import { podRequests } from './pod-requests.ts';
import { podConstraints, type AntiAffinityTerm, type ZoneSpread } from './plan-constraints.ts';
import { GPU_SELECTING_KEYS } from './plan-requirements.ts';
import type { PodError, PodRef } from './plan-types.ts';

export interface PreparedPod {
  index: number;
  pod: Pod;
  ref: PodRef;
  key: string;
  namespace: string;
  labels: Record<string, string>;
  requests: ResourceAmounts;
  alternatives: Requirements[];
  tolerations: readonly Toleration[];
  antiAffinity: AntiAffinityTerm[];
  zoneSpread: ZoneSpread | undefined;
  /** Whether the pod's own requirements select GPU types (then GPU offers are fine without a GPU request). */
  selectsGpu: boolean;
}

export function podRef(pod: Pod): PodRef {
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) };
}

export const refKey = (r: PodRef): string => `${r.namespace}/${r.name}`;

/** The pods to place, by namespace/name, duplicates dropped; the ones that cannot be planned become errors. */
export function preparePods(pods: readonly Pod[]): { prepared: PreparedPod[]; errors: PodError[] } {
  const sortedPods = [...pods].sort((a, b) => refKey(podRef(a)).localeCompare(refKey(podRef(b))));
  const seen = new Set<string>();
  const prepared: PreparedPod[] = [];
  const errors: PodError[] = [];
  for (const pod of sortedPods) {
    const ref = podRef(pod);
    const key = refKey(ref);
    if (seen.has(key)) continue;
    seen.add(key);
    const read = readPod(pod, ref, key, prepared.length);
    if ('reason' in read) errors.push(read);
    else prepared.push(read);
  }
  return { prepared, errors };
}

function readPod(pod: Pod, ref: PodRef, key: string, index: number): PreparedPod | PodError {
  const constraints = podConstraints(pod);
  if (constraints.unsupported) {
    return { pod: ref, reason: `pod ${key} uses constraints the Scaleway provisioner does not support yet: ${constraints.unsupported}; no node was planned for it` };
  }
  let alternatives: Requirements[];
  let requests: ResourceAmounts;
  try {
    // As written: the scheduler matches node labels literally, so a pod's `h100` must not plan an `h100-pcie` node it would never land on.
    alternatives = Requirements.podAlternatives(pod);
    requests = podRequests(pod);
  } catch (err) {
    return { pod: ref, reason: `reading pod ${key}: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (alternatives.length === 0) {
    return { pod: ref, reason: `pod ${key} is pinned to existing nodes by matchFields node affinity; a new node cannot satisfy it` };
  }
  return {
    index,
    pod,
    ref,
    key,
    namespace: ref.namespace,
    labels: pod.metadata.labels ?? {},
    requests,
    alternatives,
    tolerations: pod.spec.tolerations,
    antiAffinity: constraints.antiAffinity,
    zoneSpread: constraints.zoneSpread,
    selectsGpu: alternatives.some((a) => GPU_SELECTING_KEYS.some((k) => a.has(k))),
  };
}
