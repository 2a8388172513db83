// NodePool disruption budgets (spec.disruption.budgets), as upstream v1
// computes them (pkg/apis/v1/nodepool.go GetAllowedDisruptionsByReason and
// pkg/controllers/disruption/helpers.go BuildDisruptionBudgetMapping):
// - a budget without schedule/duration is always active; with both, only inside
//   the window the cron schedule (UTC) opens; a broken one allows 0 (fails closed);
// - `nodes` is a count or a percentage of the pool's nodes, percentages rounded
//   up (like a PDB's maxUnavailable: 5% of 10 nodes allows 1, not 0);
// - a budget without `reasons` applies to every reason; the most restrictive
//   active budget wins; no active budget means no limit;
// - nodes already being disrupted (or NotReady) count against what is allowed.
import type { Node } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool } from '../../kube/api/schemas.ts';
import { isNodeReady } from '../../kube/api/core.ts';
import { TAINT_DISRUPTED } from '../../kube/api/constants.ts';
import { parseDuration } from '../../kube/api/duration.ts';
import { cronWindowActive, parseCron } from './cron.ts';
import { isInitialized } from './emptiness.ts';

export type BudgetReason = 'Empty' | 'Underutilized' | 'Drifted';
export type Budget = NodePool['spec']['disruption']['budgets'][number];

/** Whether the budget applies at `now`. Throws on a schedule or duration we cannot read. */
export function isBudgetActive(budget: Budget, now: Date): boolean {
  if (budget.schedule === undefined && budget.duration === undefined) return true;
  if (budget.schedule === undefined) throw new Error(`budget has duration ${budget.duration} but no schedule`);
  // Upstream: a schedule without a duration opens a zero-length window, never active.
  const durationMs = budget.duration === undefined ? 0 : parseDuration(budget.duration);
  return cronWindowActive(parseCron(budget.schedule), durationMs, now);
}

/** `nodes` of a budget as a node count for a pool of `numNodes` (percentages rounded up). */
export function budgetNodes(budget: Budget, numNodes: number): number {
  const percent = /^([0-9]+)%$/.exec(budget.nodes);
  if (percent) return Math.ceil((Number(percent[1]) * numNodes) / 100);
  if (!/^[0-9]+$/.test(budget.nodes)) throw new Error(`budget nodes "${budget.nodes}" is neither a count nor a percentage`);
  return Number(budget.nodes);
}

export interface AllowedDisruptions {
  /** How many nodes the budgets let be disrupted at once for the reason; Infinity when none applies. */
  readonly allowed: number;
  /** Budgets that could not be read (each counted as allowing 0). */
  readonly errors: readonly string[];
}

/** The minimum over the pool's active budgets that apply to `reason`, before subtracting nodes in flight. */
export function allowedDisruptions(nodePool: Pick<NodePool, 'spec'>, reason: BudgetReason, numNodes: number, now: Date): AllowedDisruptions {
  let allowed = Number.POSITIVE_INFINITY;
  const errors: string[] = [];
  nodePool.spec.disruption.budgets.forEach((budget, i) => {
    if (budget.reasons !== undefined && !budget.reasons.includes(reason)) return;
    let value: number;
    try {
      value = isBudgetActive(budget, now) ? budgetNodes(budget, numNodes) : Number.POSITIVE_INFINITY;
    } catch (err) {
      errors.push(`budget ${i}: ${err instanceof Error ? err.message : String(err)}`);
      value = 0;
    }
    allowed = Math.min(allowed, value);
  });
  return { allowed, errors };
}

export interface PoolNodeCounts {
  /** Initialized nodes of the pool: the base for percentages. */
  total: number;
  /** Of those, the ones already being disrupted or NotReady: they use up budget. */
  disrupting: number;
}

/** Whether the NodeClaim or its node is already on its way out. */
export function isBeingDisrupted(nodeClaim: Pick<NodeClaim, 'metadata'>, node: Pick<Node, 'metadata' | 'spec'> | undefined): boolean {
  return (
    nodeClaim.metadata.deletionTimestamp !== undefined ||
    node?.metadata.deletionTimestamp !== undefined ||
    (node?.spec.taints.some((t) => t.key === TAINT_DISRUPTED.key) ?? false)
  );
}

/**
 * Counts for one pool's budget: only initialized NodeClaims with a node count
 * (a node still launching would inflate percentages, as upstream notes); the
 * ones being deleted, tainted disrupted, or whose node is NotReady are in flight.
 */
export function countPoolNodes(members: readonly { nodeClaim: NodeClaim; node: Node | undefined }[]): PoolNodeCounts {
  const counts: PoolNodeCounts = { total: 0, disrupting: 0 };
  for (const { nodeClaim, node } of members) {
    if (node === undefined || !isInitialized(nodeClaim)) continue;
    counts.total++;
    if (isBeingDisrupted(nodeClaim, node) || !isNodeReady(node)) counts.disrupting++;
  }
  return counts;
}
