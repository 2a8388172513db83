// NodeClaim lifecycle: every NodeClaim of a ScalewayNodeClass gets the
// termination finalizer and one provisioning workflow; a deleted one gets one
// termination workflow. Workflow IDs come from the NodeClaim's UID, so a second
// watcher replica, a restart or a resync starts nothing twice. A closed
// provisioning run is never started again: the liveness backstop deletes its
// NodeClaim once overdue. A failed termination run is started again, with an Event.
import { log } from '../runtime/log.ts';

const logger = log.child({ logger: 'watcher.nodeclaim-lifecycle' });
const LABEL_NODEPOOL_NAME = 'karpenter.sh/nodepool';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { KubeRest } from '../kube/rest.ts';
import { parseNodeClaim, isScalewayNodeClassRef, type NodeClaim } from '../kube/api/schemas.ts';
import { findCondition } from '../kube/api/conditions.ts';
import { ANNOTATION_TERMINATION_WORKFLOW_ID, ANNOTATION_WORKFLOW_ID, CONDITION, FINALIZER_TERMINATION } from '../kube/api/constants.ts';
import { nodeClaimEventTarget, patchNodeClaimMetadata, recordEvent, setTerminationFinalizer } from '../kube/objects.ts';
import { provisioningWorkflowId, terminationWorkflowId, WORKFLOW, type ProvisionNodeClaimWorkflow, type TerminateNodeClaimWorkflow } from '../workflows/contract.ts';
import { enforceLiveness } from './nodeclaim-liveness.ts';

export interface LifecycleDeps {
  kube: KubeRest;
  temporal: Client;
  taskQueue: string;
  temporalUiUrl: string;
  namespace: string;
  /**
   * Starts of provisioning workflows this watcher has just issued, by workflow
   * ID, from the moment they are sent: the reconcile of a NodeClaim the
   * provisioner made waits for that start instead of asking Temporal a second
   * time (in a burst the NodeClaim's watch event comes long before its start
   * returns). Each entry is used once.
   */
  justStarted?: Map<string, Promise<boolean>>;
  /** The watched ScalewayNodeClass by name, for the liveness timeouts; read from the apiserver when absent. */
  nodeClass?: (name: string) => unknown;
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
  return startOnce(() => deps.temporal.workflow.start<ProvisionNodeClaimWorkflow>(WORKFLOW.provisionNodeClaim, {
    taskQueue: deps.taskQueue,
    workflowId: provisioningWorkflowId(ref.name, ref.uid),
    args: [{ nodeClaim: ref }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  }));
}

/** The provisioner's way in: starts the workflow of a NodeClaim it just made, and lets its reconcile wait for that start. */
export async function startProvisioningOfNew(deps: LifecycleDeps, ref: { name: string; uid: string }): Promise<void> {
  const start = startProvisioning(deps, ref);
  deps.justStarted?.set(provisioningWorkflowId(ref.name, ref.uid), start);
  await start;
}

/** The provisioner's start of this workflow if it issued one (a failed one is tried again here), else a start of our own. */
async function startOrJoin(deps: LifecycleDeps, ref: { name: string; uid: string }, workflowId: string): Promise<boolean> {
  const issued = deps.justStarted?.get(workflowId);
  if (!issued) return startProvisioning(deps, ref);
  deps.justStarted?.delete(workflowId);
  return issued.catch(() => startProvisioning(deps, ref));
}

export async function reconcileNodeClaim(deps: LifecycleDeps, raw: unknown): Promise<void> {
  const nodeClaim = parseNodeClaim(raw);
  if (!isScalewayNodeClassRef(nodeClaim.spec.nodeClassRef)) return;
  const name = nodeClaim.metadata.name;
  const uid = nodeClaim.metadata.uid ?? '';
  const ref = { name, uid };

  if (nodeClaim.metadata.deletionTimestamp) {
    if (!(nodeClaim.metadata.finalizers ?? []).includes(FINALIZER_TERMINATION)) return;
    await ensureTermination(deps, nodeClaim);
    return;
  }

  // Deletion must always go through the termination workflow: the finalizer comes first.
  await setTerminationFinalizer(deps.kube, nodeClaim, true);
  if (!launchSettled(nodeClaim)) {
    const workflowId = provisioningWorkflowId(name, uid);
    // Started (or found running): its own timeouts look after the NodeClaim.
    const running = await startOrJoin(deps, ref, workflowId);
    if (nodeClaim.metadata.annotations?.[ANNOTATION_WORKFLOW_ID] !== workflowId) {
      await patchNodeClaimMetadata(deps.kube, name, { annotations: { [ANNOTATION_WORKFLOW_ID]: workflowId } });
      await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Normal', 'Provisioning', `provisioning workflow ${workflowId}: ${workflowUiLink(deps.temporalUiUrl, deps.namespace, workflowId)}`);
      logger.info('provisioning workflow started', { nodeClaim: name, nodePool: nodeClaim.metadata.labels?.[LABEL_NODEPOOL_NAME], workflowId });
    }
    if (running) return;
  }
  await enforceLiveness(deps, nodeClaim);
}

/**
 * Starts the termination workflow of a NodeClaim being deleted, or finds it
 * running. A run that completed is never started again (it removed the
 * finalizer; a stale cache may still show it). A run that failed, was
 * terminated or timed out is started again, and a Warning Event says why, so a
 * resync neither restarts a cleanup every minute nor leaves one dead.
 */
async function ensureTermination(deps: LifecycleDeps, nodeClaim: NodeClaim): Promise<void> {
  const ref = { name: nodeClaim.metadata.name, uid: nodeClaim.metadata.uid ?? '' };
  const workflowId = terminationWorkflowId(ref.name, ref.uid);
  const startedBefore = nodeClaim.metadata.annotations?.[ANNOTATION_TERMINATION_WORKFLOW_ID] !== undefined;
  let previous: string | undefined;
  if (startedBefore) {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    try {
      const state = (await handle.describe()).status.name;
      if (state === 'RUNNING' || state === 'COMPLETED') return;
      previous = `${state.toLowerCase().replace('_', ' ')}${await closedBecause(handle.result())}`;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      previous = 'not found in Temporal';
    }
  }
  const started = await startOnce(() => deps.temporal.workflow.start<TerminateNodeClaimWorkflow>(WORKFLOW.terminateNodeClaim, {
    taskQueue: deps.taskQueue,
    workflowId,
    args: [{ nodeClaim: ref }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  }));
  if (!started) return;
  const link = workflowUiLink(deps.temporalUiUrl, deps.namespace, workflowId);
  if (previous !== undefined) {
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Warning', 'TerminationRestarted', `termination workflow ${workflowId} ${previous}; started it again: ${link}`);
    return;
  }
  logger.info(startedBefore ? 'termination workflow restarted' : 'termination workflow started', { nodeClaim: ref.name, nodePool: nodeClaim.metadata.labels?.[LABEL_NODEPOOL_NAME], workflowId, ...(previous !== undefined ? { previous } : {}) });
  if (!startedBefore) {
    await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Normal', 'Terminating', `termination workflow ${workflowId}: ${link}`);
    await patchNodeClaimMetadata(deps.kube, ref.name, { annotations: { [ANNOTATION_TERMINATION_WORKFLOW_ID]: workflowId } }).catch(() => undefined);
  }
}

/** `: <why>` for a run that closed with a failure, from its result. */
async function closedBecause(result: Promise<unknown>): Promise<string> {
  try {
    await result;
    return '';
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause : err;
    return cause instanceof Error && cause.message ? `: ${cause.message}` : '';
  }
}
