// NodePool status, as Karpenter keeps it: the resources its NodeClaims hold
// (what limits are checked against), how many nodes it has, and whether its
// NodeClass is Ready.
import type { KubeRest } from '../kube/rest.ts';
import { parseNodeClaim, parseNodePool, isScalewayNodeClassRef, type NodeClaim } from '../kube/api/schemas.ts';
import { findCondition, setCondition, withReadyCondition, type Condition } from '../kube/api/conditions.ts';
import { CONDITION, LABEL_NODEPOOL, NODEPOOL_GVR, NODEPOOL_READY_DEPENDENTS } from '../kube/api/constants.ts';
import { clusterPath, getNodeClassRaw } from '../kube/objects.ts';
import { parseQuantity } from '../kube/quantity.ts';

/** Sum of the NodeClaims' capacity, per resource, in Kubernetes quantity strings. */
export function poolResources(nodeClaims: readonly NodeClaim[]): Record<string, string> {
  const sums = new Map<string, number>();
  for (const nc of nodeClaims) {
    for (const [resource, value] of Object.entries(nc.status.capacity ?? {})) sums.set(resource, (sums.get(resource) ?? 0) + parseQuantity(value));
  }
  const out: Record<string, string> = {};
  for (const [resource, total] of sums) {
    out[resource] = resource === 'cpu'
      ? (Number.isInteger(total) ? String(total) : `${Math.round(total * 1000)}m`)
      : resource === 'memory' || resource === 'ephemeral-storage' ? `${Math.floor(total / 1024)}Ki` : String(Math.round(total));
  }
  return out;
}

export async function reconcileNodePoolStatus(kube: KubeRest, rawPool: unknown, rawNodeClaims: readonly unknown[], now = new Date()): Promise<void> {
  const pool = parseNodePool(rawPool);
  if (!isScalewayNodeClassRef(pool.spec.template.spec.nodeClassRef)) return;
  const name = pool.metadata.name;
  const claims = rawNodeClaims.map(parseNodeClaim).filter((nc) => nc.metadata.labels?.[LABEL_NODEPOOL] === name);
  const nodeClassName = pool.spec.template.spec.nodeClassRef.name;
  const nodeClass = (await getNodeClassRaw(kube, nodeClassName)) as { status?: { conditions?: Condition[] } } | undefined;
  const classReady = findCondition(nodeClass?.status?.conditions, CONDITION.Ready);
  let conditions = setCondition(pool.status.conditions, { type: CONDITION.ValidationSucceeded, status: 'True', reason: 'ValidationSucceeded', message: '' }, now, pool.metadata.generation);
  conditions = setCondition(conditions, nodeClass === undefined
    ? { type: CONDITION.NodeClassReady, status: 'False', reason: 'NodeClassNotFound', message: `ScalewayNodeClass ${nodeClassName} does not exist` }
    : classReady?.status === 'True'
      ? { type: CONDITION.NodeClassReady, status: 'True', reason: 'NodeClassReady', message: '' }
      : { type: CONDITION.NodeClassReady, status: classReady?.status === 'False' ? 'False' : 'Unknown', reason: 'NodeClassNotReady', message: classReady?.message ?? `ScalewayNodeClass ${nodeClassName} is not ready` }, now, pool.metadata.generation);
  conditions = withReadyCondition(conditions, now, pool.metadata.generation, NODEPOOL_READY_DEPENDENTS);
  const status = { resources: poolResources(claims), nodes: claims.filter((c) => c.status.nodeName).length, conditions };
  const before = JSON.stringify({ resources: pool.status.resources ?? {}, nodes: pool.status.nodes ?? 0, conditions: pool.status.conditions });
  if (before === JSON.stringify(status)) return;
  await kube.patch(`${clusterPath(NODEPOOL_GVR, name)}/status`, { status });
}
