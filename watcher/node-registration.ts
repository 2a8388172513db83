// Node events for provisioning: the provisioning workflow of a NodeClaim is
// woken when the Node launched for it joins, and again when that Node becomes
// initialized (Ready, startup taints gone, GPUs allocatable), not on every
// change of the Node in between: each signal is a workflow task, and a GPU node
// changes eight times or so on its way to Ready. The workflow also checks on
// its own every few seconds, so a missed signal only delays it.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Node } from '../kube/api/core.ts';
import type { NodeClaim } from '../kube/api/schemas.ts';
import { isConditionTrue } from '../kube/api/conditions.ts';
import { CONDITION } from '../kube/api/constants.ts';
import { nodeClaimNodeBlocker } from '../kube/api/node-initialization.ts';
import { nodeRegisteredSignal, provisioningWorkflowId } from '../workflows/contract.ts';

/** What a provisioning workflow waits to hear about its Node. */
type NodeStage = 'joined' | 'initialized';

export class NodeRegistrationSignals {
  /** Node name → the stage its workflow was last told, until the NodeClaim is initialized or the Node goes. */
  private readonly told = new Map<string, NodeStage>();

  constructor(private readonly temporal: Client) {}

  /** `owner`: the NodeClaim the cluster state ties to the Node (by providerID), if any. */
  async onNode(node: Node, owner: NodeClaim | undefined): Promise<void> {
    const name = node.metadata.name;
    if (!node.spec.providerID?.startsWith('scaleway://')) return;
    if (!owner || isConditionTrue(owner.status.conditions, CONDITION.Initialized)) {
      this.told.delete(name);
      return;
    }
    const stage: NodeStage = nodeClaimNodeBlocker(node, owner) ? 'joined' : 'initialized';
    if (this.told.get(name) === stage) return;
    try {
      await this.temporal.workflow.getHandle(provisioningWorkflowId(owner.metadata.name, owner.metadata.uid ?? '')).signal(nodeRegisteredSignal, { nodeName: name });
    } catch (err) {
      // The workflow ended (rolled back, or registered by its own check): nothing to tell.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    this.told.set(name, stage);
  }

  forget(nodeName: string): void {
    this.told.delete(nodeName);
  }

  /** Nodes whose workflow has been told something and is not initialized yet. */
  get size(): number {
    return this.told.size;
  }
}
