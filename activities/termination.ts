// Taking a NodeClaim apart: stop its provisioning, drain and delete its Node,
// release its server and volume, then drop the finalizer so Kubernetes can
// forget it. Each activity can run again after a crash with the same result.
import { Context, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ActivityDeps } from './deps.ts';
import type { DrainResult, NodeClaimRef } from './contract.ts';
import { translated } from './failures.ts';
import { releaseNodeClaimServers } from './servers.ts';
import { deleteNodeClaimTokens } from './bootstrap.ts';
import { clusterPath, findNodeByProviderId, getNode, getNodeClaimOf, nodePath } from '../kube/objects.ts';
import { FINALIZER_TERMINATION, LABEL_CAPACITY_TYPE, LABEL_NODEPOOL, LABEL_ZONE, NODECLAIM_GVR, TAINT_DISRUPTED } from '../kube/api/constants.ts';
import { nodeClaimsTerminated } from '../runtime/metrics.ts';
import { parseDuration } from '../kube/api/duration.ts';
import { parseProviderId } from '../kube/api/provider-id.ts';
import { KubeError } from '../kube/rest.ts';
import type { Node } from '../kube/api/core.ts';
import { provisioningWorkflowId } from '../workflows/contract.ts';

interface PodItem {
  metadata: { name: string; namespace: string; ownerReferences?: { kind: string }[]; annotations?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string };
}

/** Without a terminationGracePeriod on the NodeClaim, how long a drain may wait on PDBs before pods are deleted. */
export const DEFAULT_DRAIN_LIMIT_MS = 10 * 60_000;

export function stopProvisioningActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<void> => translated(async () => {
    const handle = deps.temporal.workflow.getHandle(provisioningWorkflowId(ref.name, ref.uid));
    try {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return;
      await handle.cancel();
      log.info('cancelled the provisioning workflow; waiting for it to close', { workflowId: handle.workflowId });
      const done = handle.result().then(() => undefined, () => undefined);
      const ctx = Context.current();
      for (;;) {
        const finished = await Promise.race([done.then(() => true), ctx.sleep(deps.pollIntervalMs).then(() => false)]);
        if (finished) return;
        ctx.heartbeat('waiting for provisioning to stop');
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
  });
}

async function nodeOf(deps: ActivityDeps, ref: NodeClaimRef): Promise<Node | undefined> {
  const nodeClaim = await getNodeClaimOf(deps.kube, ref);
  if (!nodeClaim) return undefined;
  if (nodeClaim.status.nodeName) {
    const node = await getNode(deps.kube, nodeClaim.status.nodeName);
    if (node) return node;
  }
  if (nodeClaim.status.providerID) return findNodeByProviderId(deps.kube, nodeClaim.status.providerID);
  return unlaunchedNodeOf(deps, ref);
}

/**
 * A NodeClaim deleted before it was marked launched has no providerID, yet its server may have booted and
 * joined (the kubelet got its providerID from the user data). Its Node bears the NodeClaim's name (see
 * activities/bootstrap.ts); it is ours unless another NodeClaim owns that Node's providerID.
 */
async function unlaunchedNodeOf(deps: ActivityDeps, ref: NodeClaimRef): Promise<Node | undefined> {
  const node = await getNode(deps.kube, ref.name);
  const providerID = node?.spec.providerID;
  if (!node || !providerID || !parseProviderId(providerID)) return undefined;
  const claims = await deps.kube.get<{ items: { metadata: { uid?: string }; status?: { providerID?: string } }[] }>(clusterPath(NODECLAIM_GVR));
  return claims.items.some((c) => c.metadata.uid !== ref.uid && c.status?.providerID === providerID) ? undefined : node;
}

const isDaemonSetPod = (pod: PodItem): boolean => (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet');
const isMirrorPod = (pod: PodItem): boolean => pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
const isFinished = (pod: PodItem): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * Cordons the Node, taints it disrupted, and evicts its pods through the
 * Eviction API so PodDisruptionBudgets hold; DaemonSet and mirror pods stay.
 * When the NodeClaim's terminationGracePeriod runs out, what is left is deleted.
 */
export function drainNodeActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<DrainResult> => translated(async () => {
    const ctx = Context.current();
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    const node = await nodeOf(deps, ref);
    if (!node) return { evicted: 0, forced: 0 };
    const name = node.metadata.name;
    const taints = node.spec.taints.some((t) => t.key === TAINT_DISRUPTED.key) ? node.spec.taints : [...node.spec.taints, TAINT_DISRUPTED];
    await deps.kube.patch(nodePath(name), { spec: { unschedulable: true, taints } });

    const limitMs = nodeClaim?.spec.terminationGracePeriod ? parseDuration(nodeClaim.spec.terminationGracePeriod) : DEFAULT_DRAIN_LIMIT_MS;
    const started = (nodeClaim?.metadata.deletionTimestamp ? Date.parse(nodeClaim.metadata.deletionTimestamp) : deps.now().getTime());
    const evicted = new Set<string>();
    let forced = 0;
    for (;;) {
      const pods = (await deps.kube.get<{ items: PodItem[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`)).items
        .filter((p) => !isDaemonSetPod(p) && !isMirrorPod(p) && !isFinished(p));
      if (pods.length === 0) return { evicted: evicted.size, forced };
      const overdue = deps.now().getTime() - started > limitMs;
      for (const pod of pods) {
        const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
        if (overdue) {
          await deps.kube.delete(path, { gracePeriodSeconds: 0 });
          forced++;
          continue;
        }
        if (pod.metadata.deletionTimestamp) continue;
        try {
          await deps.kube.post(`${path}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } });
          evicted.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
        } catch (err) {
          // 429: a PodDisruptionBudget says not now. Try again next round.
          if (!(err instanceof KubeError && (err.status === 429 || err.status === 404))) throw err;
        }
      }
      ctx.heartbeat({ remaining: pods.length });
      await ctx.sleep(deps.pollIntervalMs);
    }
  });
}

export function releaseServersActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<{ servers: number; volumes: number }> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    return releaseNodeClaimServers(deps, ref, { providerID: nodeClaim?.status.providerID, zone: nodeClaim?.metadata.labels?.[LABEL_ZONE] });
  });
}

export function deleteNodeActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<void> => translated(async () => {
    const node = await nodeOf(deps, ref);
    if (!node) return;
    const finalizers = (node.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_TERMINATION);
    await deps.kube.patch(nodePath(node.metadata.name), { metadata: { finalizers } });
    await deps.kube.delete(nodePath(node.metadata.name));
  });
}

export function releaseBootstrapCredentialsActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<void> => translated(async () => {
    await deleteNodeClaimTokens(deps.kube, ref.uid);
  });
}

export function removeFinalizerActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<void> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    if (!nodeClaim) return;
    const finalizers = nodeClaim.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_TERMINATION)) return;
    try {
      await deps.kube.patch(clusterPath(NODECLAIM_GVR, ref.name), {
        metadata: { resourceVersion: nodeClaim.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== FINALIZER_TERMINATION) },
      });
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) return;
      throw err;
    }
    // The finalizer was ours to remove: the NodeClaim is terminated (once; a retry finds it gone above).
    const labels = nodeClaim.metadata.labels ?? {};
    nodeClaimsTerminated.inc({ nodepool: labels[LABEL_NODEPOOL] ?? '', capacity_type: labels[LABEL_CAPACITY_TYPE] ?? '', zone: labels[LABEL_ZONE] ?? '' });
  });
}
