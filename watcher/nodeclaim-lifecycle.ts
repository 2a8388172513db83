// NodeClaim lifecycle: every NodeClaim of a ScalewayNodeClass gets the
// termination finalizer and one provisioning workflow; a deleted one gets one
// termination workflow. Workflow IDs come from the NodeClaim's UID, so a second
// watcher replica, a restart or a resync starts nothing twice.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { KubeRest } from '../kube/rest.ts';
import { parseNodeClaim, isScalewayNodeClassRef, type NodeClaim } from '../kube/api/schemas.ts';
import { findCondition } from '../kube/api/conditions.ts';
import { ANNOTATION_WORKFLOW_ID, CONDITION, FINALIZER_TERMINATION } from '../kube/api/constants.ts';
import { nodeClaimEventTarget, patchNodeClaimMetadata, recordEvent, setTerminationFinalizer } from '../kube/objects.ts';
import { provisioningWorkflowId, terminationWorkflowId } from '../workflows/ids.ts';
import type { provisionNodeClaim } from '../workflows/provision-nodeclaim.ts';
import type { terminateNodeClaim } from '../workflows/terminate-nodeclaim.ts';

export interface LifecycleDeps {
  kube: KubeRest;
  temporal: Client;
  taskQueue: string;
  temporalUiUrl: string;
  namespace: string;
  /**
   * IDs of provisioning workflows this watcher has just started: the reconcile
   * of a NodeClaim the provisioner made does not ask Temporal a second time.
   * Each entry is used once.
   */
  justStarted?: Set<string>;
}

export function workflowUiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A NodeClaim whose launch is settled (Launched True or False) needs no new provisioning, even once Temporal has forgotten its workflow. */
function launchSettled(nodeClaim: NodeClaim): boolean {
  const launched = findCondition(nodeClaim.status.conditions, CONDITION.Launched);
  return Boolean(nodeClaim.status.providerID) || launched?.status === 'True' || launched?.status === 'False';
}

async function startOnce(start: () => Promise<unknown>): Promise<boolean> {
  try {
    await start();
    return true;
  } catch (err) {
    // The ID's workflow already ran to its end: nothing to do again.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * Starts (or finds running) the NodeClaim's provisioning workflow. The
 * provisioner calls it the moment it has made a NodeClaim; the lifecycle
 * reconcile below calls it for every NodeClaim it sees, which covers the ones
 * made by hand and any start the provisioner did not get to.
 */
export function startProvisioning(deps: LifecycleDeps, ref: { name: string; uid: string }): Promise<boolean> {
  return startOnce(() => deps.temporal.workflow.start<typeof provisionNodeClaim>('provisionNodeClaim', {
    taskQueue: deps.taskQueue,
    workflowId: provisioningWorkflowId(ref.name, ref.uid),
    args: [{ nodeClaim: ref }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  }));
}

/** The provisioner's way in: starts the workflow of a NodeClaim it just made, and remembers it did. */
export async function startProvisioningOfNew(deps: LifecycleDeps, ref: { name: string; uid: string }): Promise<void> {
  await startProvisioning(deps, ref);
  deps.justStarted?.add(provisioningWorkflowId(ref.name, ref.uid));
}

export async function reconcileNodeClaim(deps: LifecycleDeps, raw: unknown): Promise<void> {
  const nodeClaim = parseNodeClaim(raw);
  if (!isScalewayNodeClassRef(nodeClaim.spec.nodeClassRef)) return;
  const name = nodeClaim.metadata.name;
  const uid = nodeClaim.metadata.uid ?? '';
  const ref = { name, uid };

  if (nodeClaim.metadata.deletionTimestamp) {
    if (!(nodeClaim.metadata.finalizers ?? []).includes(FINALIZER_TERMINATION)) return;
    const workflowId = terminationWorkflowId(name, uid);
    const started = await startOnce(() => deps.temporal.workflow.start<typeof terminateNodeClaim>('terminateNodeClaim', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [{ nodeClaim: ref }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }));
    if (started && nodeClaim.metadata.annotations?.[`${ANNOTATION_WORKFLOW_ID}-termination`] === undefined) {
      await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Normal', 'Terminating', `termination workflow ${workflowId}: ${workflowUiLink(deps.temporalUiUrl, deps.namespace, workflowId)}`);
      await patchNodeClaimMetadata(deps.kube, name, { annotations: { [`${ANNOTATION_WORKFLOW_ID}-termination`]: workflowId } }).catch(() => undefined);
    }
    return;
  }

  // Deletion must always go through the termination workflow: the finalizer comes first.
  await setTerminationFinalizer(deps.kube, nodeClaim, true);
  if (launchSettled(nodeClaim)) return;
  const workflowId = provisioningWorkflowId(name, uid);
  if (!deps.justStarted?.delete(workflowId)) await startProvisioning(deps, ref);
  if (nodeClaim.metadata.annotations?.[ANNOTATION_WORKFLOW_ID] !== workflowId) {
    await patchNodeClaimMetadata(deps.kube, name, { annotations: { [ANNOTATION_WORKFLOW_ID]: workflowId } });
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Normal', 'Provisioning', `provisioning workflow ${workflowId}: ${workflowUiLink(deps.temporalUiUrl, deps.namespace, workflowId)}`);
  }
}
