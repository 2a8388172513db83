// The watcher's one typed picture of the cluster, as Karpenter's
// pkg/controllers/state/cluster.go keeps it: every object its informers watch,
// parsed once when its event arrives, with the links the passes follow kept as
// indexes — a Node and a NodeClaim tied by providerID, the pods bound to each
// node, each DaemonSet's pod as a new node would run it. The provisioner, the
// disruption loop and the NodeClaim-facing controllers read it instead of
// parsing raw objects on every pass.
import { parseNode, parsePod, type Node, type Pod } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, parseScalewayNodeClass, type NodeClaim, type NodePool, type ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { LABEL_NODEPOOL } from '../../kube/api/constants.ts';
import { daemonSetPod } from '../provisioner/daemonset-overhead.ts';
import { parsePodDisruptionBudget } from '../disruption/pdbs.ts';
import type { PodDisruptionBudgetLike } from '../disruption/blockers.ts';
import { nodeClaimMatchKey, nodeMatchKey } from './node-matching.ts';
import { TypedStore, storeKey, type Change, type WatchEvent } from './typed-store.ts';

export type { Change, WatchEvent } from './typed-store.ts';

/** `namespace/name` of a pod, as NodeClaims list their nominated pods. */
export const podKeyOf = (pod: Pick<Pod, 'metadata'>): string => storeKey(pod, true);

/** A one-to-one index kept up to date from a store's changes: `keyOf` gives each object's key, if any. */
class Index<T> {
  private readonly byKey = new Map<string, T>();
  constructor(private readonly keyOf: (obj: T) => string | undefined) {}

  update({ before, after }: Change<T>): void {
    const old = before === undefined ? undefined : this.keyOf(before);
    // Only the entry this object holds: another object with the same key (a replacement) keeps its own.
    if (old !== undefined && this.byKey.get(old) === before) this.byKey.delete(old);
    const key = after === undefined ? undefined : this.keyOf(after);
    if (key !== undefined && after !== undefined) this.byKey.set(key, after);
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }
}

export class ClusterState {
  readonly pods = new TypedStore<Pod>('Pod', parsePod, true);
  readonly nodes = new TypedStore<Node>('Node', parseNode, false);
  readonly nodeClaims = new TypedStore<NodeClaim>('NodeClaim', parseNodeClaim, false);
  readonly nodePools = new TypedStore<NodePool>('NodePool', parseNodePool, false);
  readonly nodeClasses = new TypedStore<ScalewayNodeClass>('ScalewayNodeClass', parseScalewayNodeClass, false);
  /** Each DaemonSet's pod as it would be made for a new node (none for one going away). */
  readonly daemonSets = new TypedStore<Pod>('DaemonSet', daemonSetPod, true);
  readonly podDisruptionBudgets = new TypedStore<PodDisruptionBudgetLike>('PodDisruptionBudget', parsePodDisruptionBudget, true);

  // A Node belongs to a NodeClaim only through providerID: both sides are indexed by it.
  private readonly nodesByProviderID = new Index<Node>(nodeMatchKey);
  private readonly nodeClaimsByProviderID = new Index<NodeClaim>(nodeClaimMatchKey);
  /** Node name → the pods bound there, by `namespace/name`. */
  private readonly bindings = new Map<string, Map<string, Pod>>();

  applyPod(raw: unknown, event: WatchEvent): Change<Pod> {
    const change = this.pods.apply(raw, event);
    if (change.before === change.after) return change;
    // A binding moves (or goes) with the pod: off the node it was on, onto the one it is on now.
    const key = storeKey(raw, true);
    const from = change.before?.spec.nodeName;
    if (from !== undefined) {
      const here = this.bindings.get(from);
      here?.delete(key);
      if (here?.size === 0) this.bindings.delete(from);
    }
    const to = change.after?.spec.nodeName;
    if (to !== undefined && change.after) {
      const here = this.bindings.get(to) ?? new Map<string, Pod>();
      here.set(key, change.after);
      this.bindings.set(to, here);
    }
    return change;
  }

  applyNode(raw: unknown, event: WatchEvent): Change<Node> {
    const change = this.nodes.apply(raw, event);
    if (change.before !== change.after) this.nodesByProviderID.update(change);
    return change;
  }

  applyNodeClaim(raw: unknown, event: WatchEvent): Change<NodeClaim> {
    const change = this.nodeClaims.apply(raw, event);
    if (change.before !== change.after) this.nodeClaimsByProviderID.update(change);
    return change;
  }

  applyNodePool(raw: unknown, event: WatchEvent): Change<NodePool> {
    return this.nodePools.apply(raw, event);
  }

  applyNodeClass(raw: unknown, event: WatchEvent): Change<ScalewayNodeClass> {
    return this.nodeClasses.apply(raw, event);
  }

  applyDaemonSet(raw: unknown, event: WatchEvent): Change<Pod> {
    return this.daemonSets.apply(raw, event);
  }

  applyPodDisruptionBudget(raw: unknown, event: WatchEvent): Change<PodDisruptionBudgetLike> {
    return this.podDisruptionBudgets.apply(raw, event);
  }

  /** The Node a NodeClaim launched: the one carrying its providerID. */
  nodeOf(nodeClaim: Pick<NodeClaim, 'status'>): Node | undefined {
    const key = nodeClaimMatchKey(nodeClaim);
    return key === undefined ? undefined : this.nodesByProviderID.get(key);
  }

  /** The NodeClaim a Node was launched for: the one carrying its providerID. */
  nodeClaimOf(node: Pick<Node, 'spec'>): NodeClaim | undefined {
    const key = nodeMatchKey(node);
    return key === undefined ? undefined : this.nodeClaimsByProviderID.get(key);
  }

  /** The NodeClaim of the Node with this name. */
  nodeClaimOfNode(nodeName: string): NodeClaim | undefined {
    const node = this.nodes.get(nodeName);
    return node ? this.nodeClaimOf(node) : undefined;
  }

  /** Every pod bound to the node, whatever its phase. */
  podsOn(nodeName: string): Pod[] {
    const here = this.bindings.get(nodeName);
    return here ? [...here.values()] : [];
  }

  /** The NodeClaims labelled with the pool's name. */
  nodeClaimsOfPool(pool: string): NodeClaim[] {
    return this.nodeClaims.list().filter((nc) => nc.metadata.labels?.[LABEL_NODEPOOL] === pool);
  }
}
