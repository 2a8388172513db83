// How a NodeClaim and its Node find each other: by providerID, the one field
// both carry (Karpenter core ties them the same way). The cluster state keeps
// this as an index; a pure pass given plain lists builds it here.
import type { Node } from '../../kube/api/core.ts';
import type { NodeClaim } from '../../kube/api/schemas.ts';

/** The key a Node is found by: its providerID, none before the cloud provider set it. */
export const nodeMatchKey = (node: Pick<Node, 'spec'>): string | undefined => node.spec.providerID || undefined;

/** The key a NodeClaim finds its Node by: its providerID, none before its server exists. */
export const nodeClaimMatchKey = (nodeClaim: Pick<NodeClaim, 'status'>): string | undefined => nodeClaim.status.providerID || undefined;

/** A NodeClaim → Node lookup over a list of nodes. */
export function nodesByProviderID(nodes: readonly Node[]): (nodeClaim: Pick<NodeClaim, 'status'>) => Node | undefined {
  const byKey = new Map<string, Node>();
  for (const n of nodes) {
    const key = nodeMatchKey(n);
    if (key !== undefined) byKey.set(key, n);
  }
  return (nodeClaim) => {
    const key = nodeClaimMatchKey(nodeClaim);
    return key === undefined ? undefined : byKey.get(key);
  };
}
