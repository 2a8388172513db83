// The provisioner's decision, with no I/O: which pending pods fit on capacity
// that exists or is already coming, and which new NodeClaims (NodePool, fallback
// types in price order, requests) to create for the rest at the least €/hour —
// or why a pod cannot be placed. Semantics follow Karpenter v1's scheduler
// (pkg/controllers/provisioning/scheduling): NodePools by weight, taints and
// requirements decide eligibility, a NodeClaim narrows its instance types as
// pods join it, limits count the capacity being launched.
//
// This module only runs the phases in order; each lives in its own module:
// plan-pods (reading pods), plan-pools (NodePools, offers, limits),
// existing-capacity (nominating to Nodes and launching NodeClaims),
// pool-takers (which pods a pool can take, zone spread), nodeclaim-packing
// (bins within limits, NodeClaims).
import { pack, type PackProblem, type PackResult } from './packing.ts';
import { existingStates, placeOnExisting } from './existing-capacity.ts';
import { preparePods, refKey, type PreparedPod } from './plan-pods.ts';
import { describeLimits, preparePools, type PreparedPool } from './plan-pools.ts';
import { describeRequests, pinZones, poolTakers, type Note } from './pool-takers.ts';
import { packPool } from './nodeclaim-packing.ts';
import { ZoneSpreadLedger } from './zone-spread-ledger.ts';
import type { Nomination, Plan, PlanInput, PlannedNodeClaim, PlanOptions, PodError, PodRef, PoolProblem } from './plan-types.ts';

export type * from './plan-types.ts';
export { existingFromNode, existingFromNodeClaim } from './existing-capacity.ts';
export { poolRequirements } from './plan-pools.ts';

export function plan(input: PlanInput, options: PlanOptions = {}): Plan {
  const pools = preparePools(input.nodePools, input.offers);
  const { prepared, errors } = preparePods(input.pods);
  const spread = new ZoneSpreadLedger(input.existing ?? [], pools.flatMap((p) => p.offers.map((o) => o.zone)));

  // 1. Room that exists or is coming.
  const existing = placeOnExisting(existingStates(input.existing ?? [], input.offers), prepared, spread);
  // 2. New NodeClaims for the rest.
  const created = placeOnNewNodeClaims(pools, existing.pending, spread, options.solver ?? pack);

  const podErrors: PodError[] = [...errors, ...created.left.map((pod) => unplacedError(pod, pools.length, created.reasons))];
  return assemble(prepared, created, [...existing.nominations, ...created.nominations], podErrors);
}

interface NewNodeClaims {
  nodeClaims: PlannedNodeClaim[];
  nominations: Nomination[];
  /** Pods no pool could take. */
  left: PreparedPod[];
  /** Pod index → why each pool refused it. */
  reasons: Map<number, string[]>;
  poolProblems: Map<string, PoolProblem>;
  limitEvents: Map<string, string>;
}

/** Pool by pool: pods a pool cannot take (or has no room left for) move on to the next. */
function placeOnNewNodeClaims(pools: readonly PreparedPool[], pending: PreparedPod[], spread: ZoneSpreadLedger, solver: (p: PackProblem) => PackResult): NewNodeClaims {
  const out: NewNodeClaims = { nodeClaims: [], nominations: [], left: pending, reasons: new Map(), poolProblems: new Map(), limitEvents: new Map() };
  const note: Note = (pod, why) => {
    const list = out.reasons.get(pod.index) ?? [];
    list.push(why);
    out.reasons.set(pod.index, list);
  };
  for (const pool of pools) {
    if (out.left.length === 0) break;
    if (pool.problem) out.poolProblems.set(pool.name, { nodePool: pool.name, ...pool.problem });
    const { takers, rest } = poolTakers(pool, out.left, note);
    const { kept, unpinned } = pinZones(pool, takers, spread, note);
    const placed = packPool(pool, kept, solver, out.limitEvents);
    for (const nc of placed.nodeClaims) {
      out.nodeClaims.push(nc);
      for (const ref of nc.pods) out.nominations.push({ pod: ref, kind: 'NodeClaim', name: nc.name, planned: true });
    }
    for (const t of placed.overLimit) note(t.pod, `NodePool ${pool.name}: limit reached (${describeLimits(pool)}; no room for ${describeRequests(t.pod.requests)} more)`);
    for (const u of placed.unmet) note(u.taker.pod, `NodePool ${pool.name}: ${u.reason}`);
    out.left = [...rest, ...unpinned, ...placed.overLimit.map((t) => t.pod), ...placed.unmet.map((u) => u.taker.pod)].sort((a, b) => a.index - b.index);
  }
  return out;
}

function unplacedError(pod: PreparedPod, poolCount: number, reasons: ReadonlyMap<number, string[]>): PodError {
  const why = reasons.get(pod.index) ?? [];
  const reason = poolCount === 0
    ? `no NodePool with a ScalewayNodeClass can run pod ${pod.key}`
    : `no NodePool can run pod ${pod.key}: ${why.length > 0 ? why.join('; ') : 'no NodePool left'}`;
  return { pod: pod.ref, reason };
}

/** The result in a stable order: NodeClaims by pool and first pod, nominations and errors in pod order. */
function assemble(prepared: readonly PreparedPod[], created: NewNodeClaims, nominations: Nomination[], podErrors: PodError[]): Plan {
  const nodeClaims = created.nodeClaims.sort((a, b) => a.nodePool.localeCompare(b.nodePool) || refKey(a.pods[0]!).localeCompare(refKey(b.pods[0]!)));
  const order = new Map(prepared.map((p) => [p.key, p.index]));
  const byPod = (a: { pod: PodRef }, b: { pod: PodRef }): number => (order.get(refKey(a.pod)) ?? -1) - (order.get(refKey(b.pod)) ?? -1) || refKey(a.pod).localeCompare(refKey(b.pod));
  nominations.sort(byPod);
  podErrors.sort(byPod);
  return {
    nodeClaims,
    podErrors,
    nominations,
    limitEvents: [...created.limitEvents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([nodePool, message]) => ({ nodePool, message })),
    poolProblems: [...created.poolProblems.values()].sort((a, b) => a.nodePool.localeCompare(b.nodePool)),
    hourlyPriceEur: nodeClaims.reduce((s, n) => s + n.hourlyPriceEur, 0),
  };
}
