// The shapes of a disruption pass: what the caller lists (objects, clock,
// prices) and what the pass decides (NodeClaims to delete, held back, kept,
// condition changes).
import type { Node, Pod } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool, ScalewayNodeClass } from '../../kube/api/schemas.ts';
import type { Condition } from '../../kube/api/conditions.ts';
import type { BlockerKind, PodDisruptionBudgetLike } from './blockers.ts';

export type DisruptionReason = 'Empty' | 'Underutilized' | 'Expired' | 'Drifted';

export interface DisruptionInput {
  readonly nodePools: readonly NodePool[];
  /** The NodeClaims we manage (their pools point at a ScalewayNodeClass). */
  readonly nodeClaims: readonly NodeClaim[];
  /** Every node in the cluster: any of them can take pods from a consolidated one. */
  readonly nodes: readonly Node[];
  /** A NodeClaim's Node (the watcher's cluster state ties them); by providerID among `nodes` when not given. */
  readonly nodeOf?: (nodeClaim: NodeClaim) => Node | undefined;
  /** Every pod bound to a node (unbound ones are ignored). */
  readonly pods: readonly Pod[];
  readonly now: Date;
  /**
   * Node name → the last time the caller saw a pod bind to or leave that node
   * (for an empty node: when it became empty). Used with the NodeClaim's
   * status.lastPodEventTime, whichever is later; without either, the time the
   * NodeClaim was initialized.
   */
  readonly lastPodEventAt?: ReadonlyMap<string, Date | string>;
  /** ScalewayNodeClasses, for NodeClass drift; a NodeClaim whose NodeClass is not here does not drift by it. */
  readonly nodeClasses?: readonly ScalewayNodeClass[];
  /** PodDisruptionBudgets; when given, consolidation and drift never evict more than they allow. */
  readonly pdbs?: readonly PodDisruptionBudgetLike[];
  /** €/hour of a NodeClaim's server (see priceFromOffers); unknown counts as 0 and goes last. */
  readonly priceOf?: (nodeClaim: NodeClaim, node: Node | undefined) => number | undefined;
}

export interface Decision {
  readonly nodeClaim: NodeClaim;
  /** Undefined for an expired NodeClaim whose node never registered. */
  readonly node: Node | undefined;
  readonly reason: DisruptionReason;
  readonly message: string;
  readonly pricePerHour: number;
}

export interface Blocked {
  readonly nodeClaim: NodeClaim;
  readonly node: Node;
  /** What it would have been removed for. */
  readonly reason: Exclude<DisruptionReason, 'Expired'>;
  readonly blocker: BlockerKind | 'Budget';
  readonly message: string;
}

/** A consolidatable non-empty node that has to stay: its pods fit nowhere else. */
export interface Unconsolidatable {
  readonly nodeClaim: NodeClaim;
  readonly node: Node;
  readonly message: string;
}

/** A NodeClaim whose Drifted or Consolidatable condition changed in this pass: `conditions` is its new list. */
export interface ConditionChange {
  readonly nodeClaim: NodeClaim;
  readonly conditions: Condition[];
}

export interface DisruptionPlan {
  /** In the order to act on them. */
  readonly decisions: Decision[];
  readonly conditions: ConditionChange[];
  readonly blocked: Blocked[];
  readonly unconsolidatable: Unconsolidatable[];
  /** Budgets we could not read (they allowed 0). */
  readonly errors: string[];
}
