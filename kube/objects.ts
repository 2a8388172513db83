// Reading and writing the objects the activities and the watcher touch:
// NodeClaims (and their status subresource), ScalewayNodeClasses, Nodes,
// bootstrap-token Secrets and Events. Objects are validated where they enter.
import {
  FINALIZER_TERMINATION,
  NODECLAIM_GVR,
  NODEPOOL_GVR,
  SCALEWAY_NODECLASS_GVR,
  type GroupVersionResource,
} from './api/constants.ts';
import { parseNodeClaim, parseNodePool, parseScalewayNodeClass, type NodeClaim, type NodePool, type ScalewayNodeClass } from './api/schemas.ts';
import { parseNode, type Node } from './api/core.ts';
import { setLifecycleCondition, type ConditionUpdate } from './api/conditions.ts';
import type { KubeRest } from './rest.ts';
import { errorMessage, log } from '../runtime/log.ts';

export const clusterPath = (gvr: GroupVersionResource, name?: string): string =>
  `/apis/${gvr.group}/${gvr.version}/${gvr.plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export const nodePath = (name?: string): string => `/api/v1/nodes${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

export async function getNodeClaim(kube: KubeRest, name: string): Promise<NodeClaim | undefined> {
  const raw = await kube.getOrUndefined<unknown>(clusterPath(NODECLAIM_GVR, name));
  return raw === undefined ? undefined : parseNodeClaim(raw);
}

/** The NodeClaim if it is still the object of this UID (a re-created one of the same name is another NodeClaim). */
export async function getNodeClaimOf(kube: KubeRest, ref: { name: string; uid: string }): Promise<NodeClaim | undefined> {
  const nodeClaim = await getNodeClaim(kube, ref.name);
  return nodeClaim?.metadata.uid === ref.uid ? nodeClaim : undefined;
}

export async function getNodePool(kube: KubeRest, name: string): Promise<NodePool | undefined> {
  const raw = await kube.getOrUndefined<unknown>(clusterPath(NODEPOOL_GVR, name));
  return raw === undefined ? undefined : parseNodePool(raw);
}

export async function getNodeClassRaw(kube: KubeRest, name: string): Promise<unknown> {
  return kube.getOrUndefined<unknown>(clusterPath(SCALEWAY_NODECLASS_GVR, name));
}

export async function getNodeClass(kube: KubeRest, name: string): Promise<ScalewayNodeClass | undefined> {
  const raw = await getNodeClassRaw(kube, name);
  return raw === undefined ? undefined : parseScalewayNodeClass(raw);
}

/**
 * Applies `change` to the NodeClaim's status and writes it with the
 * resourceVersion it was read at: a concurrent writer makes this fail with a
 * conflict, which the activity retries on a fresh read.
 */
export async function updateNodeClaimStatus(
  kube: KubeRest,
  nodeClaim: NodeClaim,
  change: (status: NodeClaim['status']) => Partial<NodeClaim['status']>,
): Promise<void> {
  const patch = change(nodeClaim.status);
  await kube.patch(`${clusterPath(NODECLAIM_GVR, nodeClaim.metadata.name)}/status`, {
    metadata: { resourceVersion: nodeClaim.metadata.resourceVersion },
    status: patch,
  });
}

/** Sets a lifecycle condition (and recomputes Ready) on the NodeClaim. */
export async function setNodeClaimCondition(kube: KubeRest, nodeClaim: NodeClaim, update: ConditionUpdate, now: Date): Promise<void> {
  await updateNodeClaimStatus(kube, nodeClaim, (status) => ({
    conditions: setLifecycleCondition(status.conditions, update, now, nodeClaim.metadata.generation),
  }));
}

/**
 * Merges `status` into the NodeClaim's status without a resourceVersion: for
 * fields no one else writes (status.lastPodEventTime), where last write wins.
 */
export async function patchNodeClaimStatus(kube: KubeRest, name: string, status: Partial<NodeClaim['status']>): Promise<void> {
  await kube.patch(`${clusterPath(NODECLAIM_GVR, name)}/status`, { status });
}

/** Sets annotations (null removes one) on a cluster-scoped custom object: a NodePool, a ScalewayNodeClass. */
export async function patchClusterObjectAnnotations(kube: KubeRest, gvr: GroupVersionResource, name: string, annotations: Record<string, string | null>): Promise<void> {
  await kube.patch(clusterPath(gvr, name), { metadata: { annotations } });
}

/** A merge patch of the NodeClaim's labels and annotations; with `resourceVersion`, only if it has not changed since (409 otherwise). */
export async function patchNodeClaimMetadata(kube: KubeRest, name: string, metadata: { labels?: Record<string, string>; annotations?: Record<string, string | null>; resourceVersion?: string }): Promise<void> {
  await kube.patch(clusterPath(NODECLAIM_GVR, name), { metadata });
}

/** Adds or removes the termination finalizer, guarded by resourceVersion. */
export async function setTerminationFinalizer(kube: KubeRest, nodeClaim: NodeClaim, present: boolean): Promise<void> {
  const finalizers = nodeClaim.metadata.finalizers ?? [];
  const has = finalizers.includes(FINALIZER_TERMINATION);
  if (has === present) return;
  const next = present ? [...finalizers, FINALIZER_TERMINATION] : finalizers.filter((f) => f !== FINALIZER_TERMINATION);
  await kube.patch(clusterPath(NODECLAIM_GVR, nodeClaim.metadata.name), {
    metadata: { resourceVersion: nodeClaim.metadata.resourceVersion, finalizers: next },
  });
}

export async function listNodes(kube: KubeRest): Promise<Node[]> {
  const list = await kube.get<{ items: unknown[] }>(nodePath());
  return list.items.map(parseNode);
}

export async function getNode(kube: KubeRest, name: string): Promise<Node | undefined> {
  const raw = await kube.getOrUndefined<unknown>(nodePath(name));
  return raw === undefined ? undefined : parseNode(raw);
}

export async function findNodeByProviderId(kube: KubeRest, providerID: string): Promise<Node | undefined> {
  return (await listNodes(kube)).find((n) => n.spec.providerID === providerID);
}

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string | undefined;
  namespace?: string | undefined;
}

/**
 * Records a core/v1 Event where `kubectl describe` shows it. Events of
 * cluster-scoped objects live in `default`, as the kubelet and Karpenter do.
 * Failing to record one never fails the caller's work.
 */
export async function recordEvent(kube: KubeRest, target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string, now = new Date()): Promise<void> {
  const namespace = target.namespace ?? 'default';
  const stamp = now.toISOString();
  try {
    await kube.post(`/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${target.name}.`, namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.name, uid: target.uid, namespace: target.namespace },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: 'scw-karpenter' },
      reportingComponent: 'scw-karpenter',
      reportingInstance: process.env.HOSTNAME ?? 'scw-karpenter',
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    });
  } catch (err) {
    log.child({ logger: 'kube.events' }).warn(`recording event ${reason} on ${target.kind} ${target.name}`, { ...(target.kind === 'NodeClaim' ? { nodeClaim: target.name } : target.kind === 'NodePool' ? { nodePool: target.name } : { [target.kind.charAt(0).toLowerCase() + target.kind.slice(1)]: target.name }), error: errorMessage(err) });
  }
}

export const nodeClaimEventTarget = (nodeClaim: { metadata: { name: string; uid?: string | undefined } }): EventTarget => ({
  apiVersion: NODECLAIM_GVR.apiVersion,
  kind: NODECLAIM_GVR.kind,
  name: nodeClaim.metadata.name,
  uid: nodeClaim.metadata.uid,
});
