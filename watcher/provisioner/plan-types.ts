// The planner's public shapes: what it is given (pods, NodePools with their
// NodeClass settings, offers, existing capacity) and what it returns (NodeClaims
// to create, nominations, pod errors, limit and pool events).
import type { Pod } from '../../kube/api/core.ts';
import type { NodePool } from '../../kube/api/schemas.ts';
import type { NodeSelectorRequirement, NodeSelectorRequirementLike } from '../../kube/api/requirements.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import type { KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import type { ResourceAmounts } from '../../scaleway/instance-types.ts';
import type { PackProblem, PackResult } from './packing.ts';

export type ResourceInput = Readonly<Record<string, string | number>> | ResourceAmounts;

export interface PlanNodePool {
  /** A NodePool whose nodeClassRef is a ScalewayNodeClass (others are skipped). */
  nodePool: NodePool;
  /** Zones its NodeClass allows; every zone of the offers when undefined. */
  zones?: readonly string[] | undefined;
  /** Requests of the DaemonSet pods that would land on a new node of this pool. */
  daemonSetOverhead?: ResourceInput | undefined;
  /** Root volume size of its NodeClass (ephemeral-storage capacity). */
  rootVolumeBytes: number;
  /** Its NodeClass's `kubelet` settings (maxPods, reservations, eviction thresholds). */
  kubelet?: KubeletSettings | undefined;
  /** Capacity the pool already has, counted against `limits`; defaults to `status.resources`. */
  usage?: ResourceInput | undefined;
  /** Its NodeClass's name, for messages; the nodeClassRef's by default. */
  nodeClass?: string | undefined;
  /** Why an offering may not be bought now (registration backoff), or undefined. */
  blocked?: ((offer: ServerTypeOffer) => string | undefined) | undefined;
  /** Why the pool buys nothing at all now (stopped after registration failures), or undefined. */
  stopped?: string | undefined;
}

/** Labels and namespace of a pod already on (or nominated to) existing capacity. */
export interface PodLabels {
  namespace: string;
  labels: Record<string, string>;
}

/** Room that already exists (a Node) or is coming (a NodeClaim still launching). */
export interface ExistingCapacity {
  kind: 'Node' | 'NodeClaim';
  name: string;
  nodePool?: string | undefined;
  /** A Node's labels; for a NodeClaim, the labels its requirements fix. */
  labels: Record<string, string>;
  /** A NodeClaim's spec requirements (a Node is matched on its labels). */
  requirements?: readonly NodeSelectorRequirementLike[] | undefined;
  /** Taints that keep pods off (for a NodeClaim, spec.taints; startup and ephemeral taints excluded). */
  taints: readonly { key: string; value?: string | undefined; effect: string }[];
  /** Allocatable minus what pods bound or nominated there request. */
  available: ResourceInput;
  /** Pods already there, for anti-affinity and zone spread. */
  pods?: readonly PodLabels[] | undefined;
}

export interface PlanInput {
  /** Pending pods the scheduler marked unschedulable. */
  pods: readonly Pod[];
  nodePools: readonly PlanNodePool[];
  /** Offers per zone; end-of-service and `shortage` offers are skipped here. */
  offers: readonly ServerTypeOffer[];
  existing?: readonly ExistingCapacity[] | undefined;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
}

export interface PlannedOffering {
  commercialType: string;
  zone: string;
  hourlyPriceEur: number;
}

export interface PlannedNodeClaim {
  /** Deterministic: the pool and a hash of the pods, so replanning the same pods names the same NodeClaim (nodeClaimName). */
  name: string;
  nodePool: string;
  requirements: NodeSelectorRequirement[];
  labels: Record<string, string>;
  taints: NodePool['spec']['template']['spec']['taints'];
  startupTaints: NodePool['spec']['template']['spec']['startupTaints'];
  resources: { requests: Record<string, string> };
  pods: PodRef[];
  /** The cheapest offering that holds the pods (what limits were counted with). */
  offering: PlannedOffering;
  hourlyPriceEur: number;
  /** Every offering that holds the pods, cheapest first (the workflow's fallbacks). */
  offerings: PlannedOffering[];
}

export interface PodError {
  pod: PodRef;
  reason: string;
}

export interface Nomination {
  pod: PodRef;
  kind: 'Node' | 'NodeClaim';
  /** The existing Node or NodeClaim, or a NodeClaim of this plan. */
  name: string;
  planned: boolean;
}

export interface LimitEvent {
  nodePool: string;
  message: string;
}

/** A NodePool that had pods to place but nothing it could launch, and why. */
export interface PoolProblem {
  nodePool: string;
  reason: string;
  message: string;
}

export interface Plan {
  nodeClaims: PlannedNodeClaim[];
  podErrors: PodError[];
  nominations: Nomination[];
  limitEvents: LimitEvent[];
  poolProblems: PoolProblem[];
  /** Sum of the planned NodeClaims' cheapest offerings. */
  hourlyPriceEur: number;
}

export interface PlanOptions {
  /** The packing solver; the exact one (optimum.ts) for benchmarks. */
  solver?: (problem: PackProblem) => PackResult;
}

