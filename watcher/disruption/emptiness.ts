// Whether a node is empty, and since when it has been quiet enough to
// consolidate. Mirrors upstream's Consolidatable condition
// (pkg/controllers/nodeclaim/disruption/consolidation.go): a NodeClaim becomes
// consolidatable consolidateAfter after its last pod event, or after it was
// initialized when no pod ever came or went.
import type { Pod } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool } from '../../kube/api/schemas.ts';
import { CONDITION } from '../../kube/api/constants.ts';
import { findCondition } from '../../kube/api/conditions.ts';
import { parseDuration } from '../../kube/api/duration.ts';
import { isReschedulable, isStarting, podKey } from './pods.ts';

export interface Emptiness {
  /** No pod on the node would need a new home if it went away. */
  readonly empty: boolean;
  /** The pods that keep it busy (reschedulable ones, DaemonSet/mirror/finished pods left out). */
  readonly workloadPods: readonly Pod[];
  /** Of those, the ones bound but not running yet (image pull, container start). */
  readonly startingPods: readonly Pod[];
}

export function nodeEmptiness(podsOnNode: readonly Pod[]): Emptiness {
  const workloadPods = podsOnNode.filter(isReschedulable);
  return { empty: workloadPods.length === 0, workloadPods, startingPods: workloadPods.filter(isStarting) };
}

/** Short text for events: "3 pods, e.g. ml/train-0". */
export function describePods(pods: readonly Pod[]): string {
  if (pods.length === 0) return 'no pods';
  return `${pods.length} pod${pods.length === 1 ? '' : 's'}, e.g. ${podKey(pods[0]!)}`;
}

export function isInitialized(nodeClaim: Pick<NodeClaim, 'status'>): boolean {
  return findCondition(nodeClaim.status.conditions, CONDITION.Initialized)?.status === 'True';
}

function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = (typeof t === 'string' ? new Date(t) : t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Since when the node has had no pod arrive or leave: the later of the
 * NodeClaim's `status.lastPodEventTime` and `observedPodEventAt` (the last pod
 * bind/removal the caller saw on the node, which may be ahead of the status),
 * falling back to the time the NodeClaim was initialized. For an empty node this
 * is the time it became empty. Undefined for a NodeClaim not initialized yet.
 */
export function quietSince(nodeClaim: Pick<NodeClaim, 'status'>, observedPodEventAt?: Date | string): Date | undefined {
  const initialized = findCondition(nodeClaim.status.conditions, CONDITION.Initialized);
  if (initialized?.status !== 'True') return undefined;
  const events = [toMs(nodeClaim.status.lastPodEventTime), toMs(observedPodEventAt)].filter((t): t is number => t !== undefined);
  const at = events.length > 0 ? Math.max(...events) : toMs(initialized.lastTransitionTime);
  return at === undefined ? undefined : new Date(at);
}

/**
 * When the NodeClaim becomes consolidatable under the pool's consolidateAfter;
 * undefined when it never does (`Never`, or not initialized).
 */
export function consolidatableAt(nodeClaim: Pick<NodeClaim, 'status'>, nodePool: Pick<NodePool, 'spec'>, observedPodEventAt?: Date | string): Date | undefined {
  const after = parseDuration(nodePool.spec.disruption.consolidateAfter);
  if (!Number.isFinite(after)) return undefined;
  const since = quietSince(nodeClaim, observedPodEventAt);
  return since === undefined ? undefined : new Date(since.getTime() + after);
}

/** now − quietSince ≥ consolidateAfter. */
export function isConsolidatable(nodeClaim: Pick<NodeClaim, 'status'>, nodePool: Pick<NodePool, 'spec'>, now: Date, observedPodEventAt?: Date | string): boolean {
  const at = consolidatableAt(nodeClaim, nodePool, observedPodEventAt);
  return at !== undefined && at.getTime() <= now.getTime();
}
