// DaemonSet overhead of a new node, as Karpenter's scheduler counts it per
// NodeClaim template (pkg/controllers/provisioning/scheduling, getDaemonOverhead):
// the requests of every DaemonSet whose pod would run on a node of the pool —
// its pod template tolerates the pool's taints (startup taints do not count:
// they go away) and its nodeSelector / required node affinity is compatible
// with the pool's requirements, labels no instance type leaves undefined
// counting as "any value". Each such pod also takes one pod slot.
// An existing node keeps room for the DaemonSet pods that should run there and
// have not arrived yet (a node just registered), as Karpenter's ExistingNode does.
import { z } from 'zod';
import { parsePod, untoleratedTaints, type Pod, type Toleration } from '../../kube/api/core.ts';
import type { NodePool } from '../../kube/api/schemas.ts';
import { Requirements, SCHEDULING_WELL_KNOWN_LABELS } from '../../kube/api/requirements.ts';
import type { ResourceAmounts } from '../../scaleway/instance-types.ts';
import { addResources, NO_RESOURCES, podRequests } from './pod-requests.ts';
import { poolRequirements } from './planner.ts';

/** The part of an apps/v1 DaemonSet read here: the pod template is checked by the Pod schema. */
const DaemonSetSchema = z.object({
  metadata: z.object({ name: z.string().min(1), namespace: z.string().optional(), deletionTimestamp: z.string().optional() }),
  spec: z.object({ template: z.object({ metadata: z.looseObject({ labels: z.record(z.string(), z.string()).optional() }).optional(), spec: z.unknown() }) }),
});

/**
 * Tolerations the DaemonSet controller adds to every pod it makes
 * (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations), so a pool
 * tainted with one of these still runs its DaemonSets.
 */
const DAEMON_POD_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** A DaemonSet's pod as it would be made for a new node, or undefined when it is going away or cannot be read. */
export function daemonSetPod(raw: unknown): Pod | undefined {
  const ds = DaemonSetSchema.safeParse(raw);
  if (!ds.success || ds.data.metadata.deletionTimestamp) return undefined;
  const { metadata, spec } = ds.data;
  try {
    const pod = parsePod({ metadata: { name: metadata.name, namespace: metadata.namespace, labels: spec.template.metadata?.labels }, spec: spec.template.spec });
    return { ...pod, spec: { ...pod.spec, tolerations: [...pod.spec.tolerations, ...DAEMON_POD_TOLERATIONS] } };
  } catch {
    return undefined;
  }
}

/** The pod's node selector and required node-affinity terms, one Requirements each; none when they cannot be read (the pod runs nowhere we plan). */
function nodeAffinityTerms(pod: Pod): Requirements[] {
  try {
    return Requirements.podAlternatives(pod);
  } catch {
    return [];
  }
}

/** Whether the DaemonSet pod would run on a new node of the pool: taints tolerated, some node-affinity term compatible. */
export function runsOnPool(pool: NodePool, daemonPod: Pod, requirements: Requirements = poolRequirements(pool)): boolean {
  if (untoleratedTaints(daemonPod.spec.tolerations, pool.spec.template.spec.taints).length > 0) return false;
  return nodeAffinityTerms(daemonPod).some((alt) => requirements.isCompatible(alt, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS }));
}

/** What the DaemonSets that run on a new node of `pool` request there, pod slots included. */
export function daemonSetOverhead(pool: NodePool, daemonPods: readonly Pod[]): ResourceAmounts {
  const requirements = poolRequirements(pool);
  let total = NO_RESOURCES;
  for (const pod of daemonPods) if (runsOnPool(pool, pod, requirements)) total = addResources(total, podRequests(pod));
  return total;
}

/**
 * What the DaemonSets that should run on an existing node (its taints, ephemeral
 * ones left out, tolerated; its labels matched) and have no pod bound there yet
 * will request: room the planner must not hand to pending pods.
 */
export function daemonSetsStillToCome(
  node: { readonly labels: Readonly<Record<string, string>>; readonly taints: readonly { key: string; value?: string | undefined; effect: string }[] },
  daemonPods: readonly Pod[],
  boundPods: readonly Pod[],
): ResourceAmounts {
  const present = new Set(boundPods.flatMap((p) => (p.metadata.ownerReferences ?? []).filter((o) => o.kind === 'DaemonSet').map((o) => `${p.metadata.namespace ?? 'default'}/${o.name}`)));
  let total = NO_RESOURCES;
  for (const pod of daemonPods) {
    if (present.has(`${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`)) continue;
    if (untoleratedTaints(pod.spec.tolerations, node.taints).length > 0) continue;
    if (nodeAffinityTerms(pod).some((alt) => alt.matchesLabels(node.labels))) total = addResources(total, podRequests(pod));
  }
  return total;
}
