// How disruption reads the pods on a node: which ones keep it busy, which ones
// are still starting, which ones hold it, and what each one asks for. Follows
// upstream Karpenter's pkg/utils/pod (IsReschedulable, IsActive, HasDoNotDisrupt).
import type { Pod } from '../../kube/api/core.ts';
import { ANNOTATION_DO_NOT_DISRUPT } from '../../kube/api/constants.ts';

/** The kubelet sets it on the API copy of a static pod. */
const ANNOTATION_MIRROR_POD = 'kubernetes.io/config.mirror';

type Owned = Pick<Pod, 'metadata'>;

function ownedBy(pod: Owned, kind: string): boolean {
  return (pod.metadata.ownerReferences ?? []).some((o) => o.kind === kind);
}

export function isDaemonSetPod(pod: Owned): boolean {
  return ownedBy(pod, 'DaemonSet');
}

/** A static pod's mirror: the kubelet owns it, nothing can reschedule it. */
export function isMirrorPod(pod: Owned): boolean {
  return pod.metadata.annotations?.[ANNOTATION_MIRROR_POD] !== undefined || ownedBy(pod, 'Node');
}

/** Succeeded or Failed: the pod holds no resources and never runs again. */
export function isTerminal(pod: Pick<Pod, 'status'>): boolean {
  return pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';
}

export function isTerminating(pod: Owned): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

/**
 * A pod that would need a new home if its node went away: not finished, not
 * already leaving (a terminating StatefulSet pod still counts: its replacement
 * cannot start before it is gone), not a DaemonSet or mirror pod.
 */
export function isReschedulable(pod: Pick<Pod, 'metadata' | 'status'>): boolean {
  const active = !isTerminal(pod) && !isTerminating(pod);
  const leavingStatefulSetPod = isTerminating(pod) && !isTerminal(pod) && ownedBy(pod, 'StatefulSet');
  return (active || leavingStatefulSetPod) && !isDaemonSetPod(pod) && !isMirrorPod(pod);
}

/** Bound to a node but not running yet (pulling images, starting containers): the node is about to be busy. */
export function isStarting(pod: Pick<Pod, 'metadata' | 'spec' | 'status'>): boolean {
  return pod.spec.nodeName !== undefined && (pod.status.phase === undefined || pod.status.phase === 'Pending') && !isTerminating(pod);
}

/** `karpenter.sh/do-not-disrupt: "true"` on a pod, node or NodeClaim. */
export function hasDoNotDisrupt(obj: { metadata: { annotations?: Readonly<Record<string, string>> | undefined } }): boolean {
  return obj.metadata.annotations?.[ANNOTATION_DO_NOT_DISRUPT] === 'true';
}

/** `namespace/name`, for messages and maps. */
export function podKey(pod: Owned): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

/** What the scheduler reserves for a pod: one rule for provisioning and disruption. */
export { podRequests } from '../provisioner/pod-requests.ts';

/** Pods grouped by the node they are bound to; unbound pods are left out. */
export function podsByNode<P extends Pick<Pod, 'spec'>>(pods: readonly P[]): Map<string, P[]> {
  const byNode = new Map<string, P[]>();
  for (const pod of pods) {
    const nodeName = pod.spec.nodeName;
    if (nodeName === undefined) continue;
    const list = byNode.get(nodeName);
    if (list) list.push(pod);
    else byNode.set(nodeName, [pod]);
  }
  return byNode;
}
