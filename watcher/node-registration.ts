// Node events for provisioning: when a Node with a Scaleway providerID appears
// or changes before its NodeClaim is initialized, the provisioning workflow is
// told at once (it also checks on its own every few seconds, so a missed
// signal only delays it).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Node } from '../kube/api/core.ts';
import type { NodeClaim } from '../kube/api/schemas.ts';
import { isConditionTrue } from '../kube/api/conditions.ts';
import { CONDITION } from '../kube/api/constants.ts';
import { nodeRegisteredSignal, provisioningWorkflowId } from '../workflows/contract.ts';

/** `owner`: the NodeClaim the cluster state ties to the Node (by providerID), if any. */
export async function signalNodeRegistration(temporal: Client, node: Node, owner: NodeClaim | undefined): Promise<void> {
  if (!node.spec.providerID?.startsWith('scaleway://')) return;
  if (!owner || isConditionTrue(owner.status.conditions, CONDITION.Initialized)) return;
  try {
    await temporal.workflow.getHandle(provisioningWorkflowId(owner.metadata.name, owner.metadata.uid ?? '')).signal(nodeRegisteredSignal, { nodeName: node.metadata.name });
  } catch (err) {
    // The workflow ended (rolled back, or registered by its own check): nothing to tell.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
