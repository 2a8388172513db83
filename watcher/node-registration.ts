// Node events for provisioning: when a Node with a Scaleway providerID appears
// or changes before its NodeClaim is initialized, the provisioning workflow is
// told at once (it also checks on its own every few seconds, so a missed
// signal only delays it).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { parseNode } from '../kube/api/core.ts';
import { parseNodeClaim, type NodeClaim } from '../kube/api/schemas.ts';
import { isConditionTrue } from '../kube/api/conditions.ts';
import { CONDITION } from '../kube/api/constants.ts';
import { nodeRegisteredSignal, provisioningWorkflowId } from '../workflows/contract.ts';

export async function signalNodeRegistration(temporal: Client, rawNode: unknown, nodeClaims: readonly unknown[]): Promise<void> {
  const node = parseNode(rawNode);
  const providerID = node.spec.providerID;
  if (!providerID?.startsWith('scaleway://')) return;
  let owner: NodeClaim | undefined;
  for (const raw of nodeClaims) {
    const nodeClaim = parseNodeClaim(raw);
    if (nodeClaim.status.providerID === providerID) owner = nodeClaim;
  }
  if (!owner || isConditionTrue(owner.status.conditions, CONDITION.Initialized)) return;
  try {
    await temporal.workflow.getHandle(provisioningWorkflowId(owner.metadata.name, owner.metadata.uid ?? '')).signal(nodeRegisteredSignal, { nodeName: node.metadata.name });
  } catch (err) {
    // The workflow ended (rolled back, or registered by its own check): nothing to tell.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}
