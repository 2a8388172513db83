// Karpenter's liveness rule, as a backstop to the provisioning workflow: a
// NodeClaim that has not launched within its launch timeout, or not registered
// within its registration timeout of launching, is deleted so its pods are
// planned again (its termination workflow releases whatever carries its tag).
// The workflow enforces both timeouts itself; this catches the NodeClaims it no
// longer looks after: a run that failed, was terminated or timed out, or
// completed and kept the NodeClaim with its reason. The watcher never starts a
// closed provisioning workflow again (one run per NodeClaim UID).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { KubeRest } from '../kube/rest.ts';
import { KubeError } from '../kube/rest.ts';
import { parseScalewayNodeClass, type NodeClaim } from '../kube/api/schemas.ts';
import { findCondition } from '../kube/api/conditions.ts';
import { CONDITION, NODECLAIM_GVR, NODECLASS_DEFAULTS, REASON } from '../kube/api/constants.ts';
import { parseDuration } from '../kube/api/duration.ts';
import { clusterPath, getNodeClassRaw, nodeClaimEventTarget, recordEvent } from '../kube/objects.ts';
import { provisioningWorkflowId } from '../workflows/contract.ts';

export interface LivenessTimeouts {
  launchMs: number;
  registrationMs: number;
}

export interface LivenessDeadline {
  reason: typeof REASON.LaunchTimeout | typeof REASON.RegistrationTimeout;
  /** Epoch milliseconds after which the NodeClaim is overdue. */
  at: number;
  message: string;
}

/**
 * When the NodeClaim is overdue, or undefined once it is registered (liveness
 * is over then) or being deleted. The launch clock starts at its creation; the
 * registration clock when Launched turned True.
 */
export function livenessDeadline(nodeClaim: NodeClaim, timeouts: LivenessTimeouts): LivenessDeadline | undefined {
  if (nodeClaim.metadata.deletionTimestamp) return undefined;
  if (findCondition(nodeClaim.status.conditions, CONDITION.Registered)?.status === 'True') return undefined;
  const launched = findCondition(nodeClaim.status.conditions, CONDITION.Launched);
  if (launched?.status === 'True') {
    const since = Date.parse(launched.lastTransitionTime);
    if (Number.isNaN(since)) return undefined;
    return { reason: REASON.RegistrationTimeout, at: since + timeouts.registrationMs, message: `its node did not register within ${seconds(timeouts.registrationMs)} of launch` };
  }
  const created = Date.parse(nodeClaim.metadata.creationTimestamp ?? '');
  if (Number.isNaN(created)) return undefined;
  const why = launched?.status === 'False' && launched.reason ? ` (Launched=False, ${launched.reason})` : '';
  return { reason: REASON.LaunchTimeout, at: created + timeouts.launchMs, message: `it did not launch within ${seconds(timeouts.launchMs)} of its creation${why}` };
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** The NodeClass's launch and registration timeouts; upstream's defaults when it is missing or invalid. */
export function livenessTimeouts(rawNodeClass: unknown): LivenessTimeouts {
  const defaults = { launchMs: parseDuration(NODECLASS_DEFAULTS.launchTimeout), registrationMs: parseDuration(NODECLASS_DEFAULTS.registrationTimeout) };
  if (rawNodeClass === undefined) return defaults;
  try {
    const { timeouts } = parseScalewayNodeClass(rawNodeClass).spec;
    return { launchMs: parseDuration(timeouts.launch), registrationMs: parseDuration(timeouts.registration) };
  } catch {
    return defaults;
  }
}

export interface LivenessDeps {
  kube: KubeRest;
  temporal: Client;
  /** The watched NodeClass, when the caller has a cache; read from the apiserver otherwise. */
  nodeClass?: (name: string) => unknown;
  now?: () => Date;
}

/**
 * Deletes the NodeClaim, with a Warning Event, when it is overdue and its
 * provisioning workflow is no longer running. Returns whether it did.
 */
export async function enforceLiveness(deps: LivenessDeps, nodeClaim: NodeClaim): Promise<boolean> {
  const nodeClassName = nodeClaim.spec.nodeClassRef.name;
  const rawNodeClass = deps.nodeClass ? deps.nodeClass(nodeClassName) : await getNodeClassRaw(deps.kube, nodeClassName);
  const deadline = livenessDeadline(nodeClaim, livenessTimeouts(rawNodeClass));
  const now = deps.now?.() ?? new Date();
  if (!deadline || now.getTime() < deadline.at) return false;

  // Overdue. A running workflow is still on it (its own timeouts roll it back); only a closed one is left behind.
  const workflowId = provisioningWorkflowId(nodeClaim.metadata.name, nodeClaim.metadata.uid ?? '');
  let state: string;
  try {
    state = (await deps.temporal.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    state = 'NOT_FOUND';
  }
  if (state === 'RUNNING') return false;

  const message = `deleted: ${deadline.message}, and its provisioning workflow ${workflowId} is ${state.toLowerCase().replace('_', ' ')}; its pods will be planned again`;
  await recordEvent(deps.kube, nodeClaimEventTarget(nodeClaim), 'Warning', deadline.reason, message, now);
  try {
    await deps.kube.delete(clusterPath(NODECLAIM_GVR, nodeClaim.metadata.name), { preconditions: { uid: nodeClaim.metadata.uid } });
  } catch (err) {
    // A new NodeClaim took the name (the UID precondition failed): nothing of this one to delete.
    if (err instanceof KubeError && err.status === 409) return false;
    throw err;
  }
  return true;
}
