// The NodeClaim's lifecycle conditions, as Karpenter core sets them:
// Launched (the server is created), Registered (its Node joined and was synced),
// Initialized (Ready, startup taints gone, GPUs allocatable), and the failures.
import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps.ts';
import type { FailureRecord, InitializationCheck, LaunchResult, NodeClaimRef, Offering, RegistrationCheck, RollbackInput, ServerRef } from './contract.ts';
import { lookUpNodeClass } from './nodeclass.ts';
import { rootVolumeOf } from '../kube/api/nodeclass-defaults.ts';
import { invalidInput, translated } from './failures.ts';
import { releaseNodeClaimServers } from './servers.ts';
import { deleteNodeClaimTokens } from './bootstrap.ts';
import {
  clusterPath,
  findNodeByProviderId,
  getNode,
  getNodeClaimOf,
  nodeClaimEventTarget,
  nodePath,
  recordEvent,
  setNodeClaimCondition,
  updateNodeClaimStatus,
} from '../kube/objects.ts';
import {
  ANNOTATION_SERVER_CREATE_ATTEMPTED,
  CONDITION,
  FINALIZER_TERMINATION,
  LABEL_DO_NOT_SYNC_TAINTS,
  LABEL_INITIALIZED,
  LABEL_REGISTERED,
  NODECLAIM_GVR,
  REASON,
  TAINT_UNREGISTERED,
} from '../kube/api/constants.ts';
import { findCondition, setLifecycleCondition, type Condition } from '../kube/api/conditions.ts';
import { provisioningStepDuration, rollbacks } from '../runtime/metrics.ts';
import { providerIdFor } from '../kube/api/provider-id.ts';
import { parseNodeClaim } from '../kube/api/schemas.ts';
import { instanceLabels, toResourceList } from '../scaleway/instance-types.ts';
import { nodeAllocation } from '../scaleway/kubelet-reservations.ts';
import { nodeClaimNodeBlocker, sameTaint, type TaintLike } from '../kube/api/node-initialization.ts';

/** The seconds since a condition turned True (the wait between two lifecycle steps), if it did. */
function secondsSinceCondition(conditions: readonly Condition[] | undefined, type: string, now: Date): number | undefined {
  const condition = findCondition(conditions, type);
  if (condition?.status !== 'True' || !condition.lastTransitionTime) return undefined;
  const seconds = (now.getTime() - new Date(condition.lastTransitionTime).getTime()) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export function markLaunchedActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; server: ServerRef; offering: Offering }): Promise<LaunchResult> => translated(async () => {
    const { ref, server, offering } = input;
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${ref.name} no longer exists`);
    const offer = (await deps.catalog.offers(server.zone)).find((o) => o.commercialType === server.commercialType);
    if (!offer) throw invalidInput('UnknownServerType', `${server.commercialType} is not in the ${server.zone} catalog`);
    const lookup = await lookUpNodeClass(deps, nodeClaim.spec.nodeClassRef.name);
    const rootBytes = lookup.ok ? rootVolumeOf(lookup.nodeClass).sizeBytes : 0;
    const kubelet = lookup.ok ? lookup.nodeClass.spec.kubelet : undefined;
    const resources = nodeAllocation(offer, rootBytes, kubelet);
    const providerID = providerIdFor(server.zone, server.serverId);
    // Labels first (Karpenter puts the instance's labels on the NodeClaim), then status, at the resourceVersion
    // the label patch answered with: no second read on the way from the create to Launched.
    const fresh = parseNodeClaim(await deps.kube.patch<unknown>(clusterPath(NODECLAIM_GVR, ref.name), { metadata: { labels: instanceLabels(offer) } }));
    if (fresh.metadata.uid !== ref.uid) throw invalidInput('NodeClaimNotFound', `NodeClaim ${ref.name} no longer exists`);
    await updateNodeClaimStatus(deps.kube, fresh, (status) => ({
      providerID,
      imageID: undefined,
      // The same arithmetic as the kubelet configuration configureBootstrap rendered: the Node reports these.
      capacity: toResourceList(resources.capacity),
      allocatable: toResourceList(resources.allocatable),
      conditions: setLifecycleCondition(status.conditions, {
        type: CONDITION.Launched,
        status: 'True',
        reason: REASON.Launched,
        message: `${offering.commercialType} in ${server.zone} at €${offering.hourlyPriceEur}/h`,
      }, deps.now(), fresh.metadata.generation),
    }));
    await recordEvent(deps.kube, nodeClaimEventTarget(fresh), 'Normal', 'Launched', `launched ${server.commercialType} server ${server.serverId} in ${server.zone}`, deps.now());
    return { providerID };
  });
}

export function checkNodeRegistrationActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; providerID: string }): Promise<RegistrationCheck> => translated(async () => {
    const node = await findNodeByProviderId(deps.kube, input.providerID);
    return node ? { registered: true, nodeName: node.metadata.name } : { registered: false };
  });
}

/**
 * What core does when a Node registers: sync the NodeClaim's labels and taints
 * onto it (unless it opts out), label it registered, take off the unregistered
 * taint, add the termination finalizer; then Registered=True and nodeName.
 */
export function registerNodeActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; nodeName: string }): Promise<void> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${input.ref.name} no longer exists`);
    const node = await getNode(deps.kube, input.nodeName);
    if (!node) throw invalidInput('NodeNotFound', `Node ${input.nodeName} disappeared`);
    const syncTaints = node.metadata.labels?.[LABEL_DO_NOT_SYNC_TAINTS] !== 'true';
    let taints: TaintLike[] = node.spec.taints.filter((t) => !sameTaint(t, TAINT_UNREGISTERED));
    if (syncTaints) {
      for (const t of [...nodeClaim.spec.taints, ...nodeClaim.spec.startupTaints]) if (!taints.some((x) => sameTaint(x, t))) taints = [...taints, t];
    }
    const finalizers = node.metadata.finalizers ?? [];
    await deps.kube.patch(nodePath(input.nodeName), {
      metadata: {
        resourceVersion: node.metadata.resourceVersion,
        labels: { ...(nodeClaim.metadata.labels ?? {}), [LABEL_REGISTERED]: 'true' },
        finalizers: finalizers.includes(FINALIZER_TERMINATION) ? finalizers : [...finalizers, FINALIZER_TERMINATION],
      },
      spec: { taints },
    });
    // The wait for the node to join: from Launched (the create returned: boot and join) to its Node registering.
    const joinedAfter = secondsSinceCondition(nodeClaim.status.conditions, CONDITION.Launched, deps.now());
    if (joinedAfter !== undefined && findCondition(nodeClaim.status.conditions, CONDITION.Registered)?.status !== 'True') {
      provisioningStepDuration.observe({ step: 'node_joined', outcome: 'success' }, joinedAfter);
    }
    await updateNodeClaimStatus(deps.kube, nodeClaim, (status) => ({
      nodeName: input.nodeName,
      conditions: setLifecycleCondition(status.conditions, { type: CONDITION.Registered, status: 'True', reason: REASON.Registered, message: '' }, deps.now(), nodeClaim.metadata.generation),
    }));
  });
}

export function checkNodeInitializationActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; nodeName: string }): Promise<InitializationCheck> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${input.ref.name} no longer exists`);
    const node = await getNode(deps.kube, input.nodeName);
    if (!node) throw invalidInput('NodeNotFound', `Node ${input.nodeName} disappeared`);
    const blocker = nodeClaimNodeBlocker(node, nodeClaim);
    if (!blocker) return { initialized: true };
    await setNodeClaimCondition(deps.kube, nodeClaim, { type: CONDITION.Initialized, status: 'Unknown', reason: blocker.reason, message: blocker.message }, deps.now());
    return { initialized: false, waitingFor: blocker.message };
  });
}

export function markInitializedActivity(deps: ActivityDeps) {
  return (input: { ref: NodeClaimRef; nodeName: string }): Promise<void> => translated(async () => {
    await deps.kube.patch(nodePath(input.nodeName), { metadata: { labels: { [LABEL_INITIALIZED]: 'true' } } });
    const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
    if (!nodeClaim) throw invalidInput('NodeClaimNotFound', `NodeClaim ${input.ref.name} no longer exists`);
    // The wait for the node to be usable: from its join to Ready with its GPUs allocatable.
    const initializedAfter = secondsSinceCondition(nodeClaim.status.conditions, CONDITION.Registered, deps.now());
    if (initializedAfter !== undefined && findCondition(nodeClaim.status.conditions, CONDITION.Initialized)?.status !== 'True') {
      provisioningStepDuration.observe({ step: 'node_initialized', outcome: 'success' }, initializedAfter);
    }
    await setNodeClaimCondition(deps.kube, nodeClaim, { type: CONDITION.Initialized, status: 'True', reason: REASON.Initialized, message: '' }, deps.now());
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Normal', 'Ready', `node ${input.nodeName} is initialized and ready`, deps.now());
  });
}

/** The failure, where the user looks: a False condition with the reason, and a Warning Event. */
async function recordFailureOn(deps: ActivityDeps, record: FailureRecord): Promise<boolean> {
  const nodeClaim = await getNodeClaimOf(deps.kube, record.ref);
  if (!nodeClaim) return false;
  await setNodeClaimCondition(deps.kube, nodeClaim, { type: record.conditionType, status: record.status ?? 'False', reason: record.reason, message: record.message }, deps.now());
  await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Warning', record.reason, record.message, deps.now());
  return true;
}

export function recordFailureActivity(deps: ActivityDeps) {
  return (record: FailureRecord): Promise<void> => translated(async () => {
    await recordFailureOn(deps, record);
  });
}

/**
 * Undoes a launch: the server and its root volume back to Scaleway, the join
 * token deleted, the reason on the NodeClaim; then the NodeClaim is deleted so
 * the provisioner can plan again (its termination workflow finds nothing left).
 */
export function rollbackActivity(deps: ActivityDeps) {
  return (input: RollbackInput): Promise<{ servers: number; volumes: number }> => translated(async () => {
    Context.current().heartbeat('rolling back');
    const nodeClaim = await getNodeClaimOf(deps.kube, input.ref);
    // The annotation is set before the first create call: without it no server can exist, and a NodeClass
    // that was never usable costs no listing in every zone. A NodeClaim already gone proves nothing: look.
    const mayHaveServer = input.server !== undefined || !nodeClaim || nodeClaim.metadata.annotations?.[ANNOTATION_SERVER_CREATE_ATTEMPTED] !== undefined;
    const released = mayHaveServer
      ? await releaseNodeClaimServers(deps, input.ref, { server: input.server, providerID: nodeClaim?.status.providerID })
      : { servers: 0, volumes: 0 };
    await deleteNodeClaimTokens(deps.kube, input.ref.uid);
    const message = mayHaveServer ? `${input.message}; rolled back (${released.servers} server(s), ${released.volumes} volume(s) released)` : input.message;
    const present = await recordFailureOn(deps, { ...input, status: 'False', message });
    if (present && input.deleteNodeClaim) await deps.kube.delete(clusterPath(NODECLAIM_GVR, input.ref.name), { preconditions: { uid: input.ref.uid } });
    // Counted once it is done: an attempt that must wait (CleanupPending) is retried and counted then.
    rollbacks.inc({ reason: input.reason });
    return released;
  });
}
