// One disruption pass: which NodeClaims to delete now, and which ones would go
// but are held back. Pure: the caller lists the objects, supplies the clock and
// prices, then deletes the chosen NodeClaims (the termination workflow drains
// and releases each server), emits Events and writes the Drifted and
// Consolidatable conditions the pass computed.
//
// Order, as upstream's disruption controller (pkg/controllers/disruption):
// expiration first (forceful, outside budgets), then emptiness, then drift,
// then underutilization; within a reason the most expensive node goes first
// (drift: the longest drifted), so a budget that lets only some go saves the
// most. Each decision uses up the pool's budget for the next ones in the same pass.
import type { Node, Pod } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool, ScalewayNodeClass } from '../../kube/api/schemas.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { isNodeReady } from '../../kube/api/core.ts';
import { CONDITION, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE } from '../../kube/api/constants.ts';
import { conditionsEqual, findCondition, type Condition } from '../../kube/api/conditions.ts';
import { PdbLedger, doNotDisruptBlocker, type Blocker, type BlockerKind, type PodDisruptionBudgetLike } from './blockers.ts';
import { allowedDisruptions, countPoolNodes, isBeingDisrupted, type BudgetReason } from './budgets.ts';
import { describePods, isInitialized, nodeEmptiness, quietSince, isConsolidatable } from './emptiness.ts';
import { expiresAt } from './expiration.ts';
import { driftOf, type Drift } from './drift.ts';
import { withDisruptionConditions } from './conditions.ts';
import { podsByNode } from './pods.ts';
import { acceptsPods, planReschedule, toDestination, type Destination } from './underutilized.ts';

export type DisruptionReason = 'Empty' | 'Underutilized' | 'Expired' | 'Drifted';

export interface DisruptionInput {
  readonly nodePools: readonly NodePool[];
  /** The NodeClaims we manage (their pools point at a ScalewayNodeClass). */
  readonly nodeClaims: readonly NodeClaim[];
  /** Every node in the cluster: any of them can take pods from a consolidated one. */
  readonly nodes: readonly Node[];
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

interface Member {
  readonly nodeClaim: NodeClaim;
  readonly node: Node | undefined;
  readonly pool: NodePool | undefined;
  readonly nodeClass: ScalewayNodeClass | undefined;
  readonly price: number;
}

function byPriceThenName(a: Member, b: Member): number {
  return b.price - a.price || a.nodeClaim.metadata.name.localeCompare(b.nodeClaim.metadata.name);
}

function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A price lookup from the catalog: the node's instance type in its zone, else the type's cheapest zone. */
export function priceFromOffers(offers: readonly ServerTypeOffer[]): (nodeClaim: NodeClaim, node: Node | undefined) => number | undefined {
  return (nodeClaim, node) => {
    const labels = { ...(nodeClaim.metadata.labels ?? {}), ...(node?.metadata.labels ?? {}) };
    const type = labels[LABEL_INSTANCE_TYPE];
    if (type === undefined) return undefined;
    const sameType = offers.filter((o) => o.commercialType === type);
    const inZone = sameType.find((o) => o.zone === labels[LABEL_ZONE]);
    if (inZone) return inZone.hourlyPriceEur;
    return sameType.length > 0 ? Math.min(...sameType.map((o) => o.hourlyPriceEur)) : undefined;
  };
}

export function decideDisruptions(input: DisruptionInput): DisruptionPlan {
  const { now } = input;
  const pools = new Map(input.nodePools.map((p) => [p.metadata.name, p]));
  const nodeClasses = new Map((input.nodeClasses ?? []).map((c) => [c.metadata.name, c]));
  const nodesByProviderID = new Map(input.nodes.filter((n) => n.spec.providerID).map((n) => [n.spec.providerID!, n]));
  const pods = podsByNode(input.pods);
  const podsOn = (node: Node | undefined): Pod[] => (node ? (pods.get(node.metadata.name) ?? []) : []);

  const members: Member[] = input.nodeClaims.map((nodeClaim) => {
    const node = nodeClaim.status.providerID ? nodesByProviderID.get(nodeClaim.status.providerID) : undefined;
    const poolName = nodeClaim.metadata.labels?.[LABEL_NODEPOOL];
    const pool = poolName === undefined ? undefined : pools.get(poolName);
    return { nodeClaim, node, pool, nodeClass: nodeClasses.get(nodeClaim.spec.nodeClassRef.name), price: input.priceOf?.(nodeClaim, node) ?? 0 };
  });
  const observedAt = (m: Member): Date | string | undefined => (m.node ? input.lastPodEventAt?.get(m.node.metadata.name) : undefined);

  const conditions: ConditionChange[] = [];
  for (const m of members) {
    if (!m.pool || m.nodeClaim.metadata.deletionTimestamp !== undefined) continue;
    const next = withDisruptionConditions(m.nodeClaim, m.pool, m.nodeClass, now, observedAt(m));
    if (!conditionsEqual(m.nodeClaim.status.conditions, next)) conditions.push({ nodeClaim: m.nodeClaim, conditions: next });
  }

  // Budget state per pool: nodes counted, and how many are (or are about to be) in flight.
  const inFlight = new Map<string, number>();
  const totals = new Map<string, number>();
  for (const pool of input.nodePools) {
    const counts = countPoolNodes(members.filter((m) => m.pool === pool));
    totals.set(pool.metadata.name, counts.total);
    inFlight.set(pool.metadata.name, counts.disrupting);
  }
  /** Whether the member counts towards its pool's total without being in flight already. */
  const countedIdle = (m: Member): boolean =>
    m.node !== undefined && isInitialized(m.nodeClaim) && !isBeingDisrupted(m.nodeClaim, m.node) && isNodeReady(m.node);
  const consume = (m: Member): void => {
    if (m.pool && countedIdle(m)) inFlight.set(m.pool.metadata.name, (inFlight.get(m.pool.metadata.name) ?? 0) + 1);
  };
  const errors: string[] = [];
  const budgetLeft = (pool: NodePool, reason: BudgetReason): { left: number; allowed: number } => {
    const name = pool.metadata.name;
    const result = allowedDisruptions(pool, reason, totals.get(name) ?? 0, now);
    for (const e of result.errors) if (!errors.includes(`NodePool ${name} ${e}`)) errors.push(`NodePool ${name} ${e}`);
    return { left: result.allowed - (inFlight.get(name) ?? 0), allowed: result.allowed };
  };

  const decisions: Decision[] = [];
  const blocked: Blocked[] = [];
  const unconsolidatable: Unconsolidatable[] = [];
  const leaving = new Set<NodeClaim>();

  // 1. Expiration: forceful, every expired NodeClaim goes.
  const expired = members
    .filter((m) => m.nodeClaim.metadata.deletionTimestamp === undefined)
    .map((m) => ({ m, at: expiresAt(m.nodeClaim) }))
    .filter((e): e is { m: Member; at: Date } => e.at !== undefined && e.at.getTime() <= now.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime() || byPriceThenName(a.m, b.m));
  /** Decides `m` goes; it uses up its pool's budget for the next ones. */
  const choose = (m: Member, reason: DisruptionReason, message: string): void => {
    decisions.push({ nodeClaim: m.nodeClaim, node: m.node, reason, message, pricePerHour: m.price });
    leaving.add(m.nodeClaim);
    consume(m);
  };
  for (const { m, at } of expired) choose(m, 'Expired', `expired at ${iso(at)} (expireAfter ${m.nodeClaim.spec.expireAfter})`);

  // 2. Consolidation candidates: initialized, settled for consolidateAfter, not already leaving.
  type Candidate = Member & { readonly pool: NodePool; readonly node: Node; readonly pods: Pod[]; readonly since: Date };
  const empty: Candidate[] = [];
  const underutilized: Candidate[] = [];
  for (const m of members) {
    if (leaving.has(m.nodeClaim) || !m.pool || !m.node || !countedIdle(m)) continue;
    const observed = observedAt(m);
    if (!isConsolidatable(m.nodeClaim, m.pool, now, observed)) continue;
    const podsHere = podsOn(m.node);
    const emptiness = nodeEmptiness(podsHere);
    if (emptiness.empty) {
      empty.push({ ...m, pool: m.pool, node: m.node, pods: podsHere, since: quietSince(m.nodeClaim, observed)! });
    } else if (m.pool.spec.disruption.consolidationPolicy === 'WhenEmptyOrUnderutilized' && emptiness.startingPods.length === 0) {
      // A node still starting pods is about to be busy: leave it alone.
      underutilized.push({ ...m, pool: m.pool, node: m.node, pods: [...emptiness.workloadPods], since: quietSince(m.nodeClaim, observed)! });
    }
  }

  /** Records `hold` against `c`; true when there is one. */
  const heldBack = (c: Candidate, reason: BudgetReason, hold: Blocker | undefined): boolean => {
    if (hold) blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason, blocker: hold.kind, message: hold.message });
    return hold !== undefined;
  };
  /** Records that the pool's budget for `reason` has no room for `c`; true when it has none. */
  const overBudget = (c: Candidate, reason: BudgetReason): boolean => {
    const { left, allowed } = budgetLeft(c.pool, reason);
    if (left > 0) return false;
    const name = c.pool.metadata.name;
    const message = `NodePool ${name}'s budget for ${reason} allows ${Number.isFinite(allowed) ? allowed : 'unlimited'} of ${totals.get(name) ?? 0} node(s) now and ${inFlight.get(name) ?? 0} are already being disrupted`;
    blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason, blocker: 'Budget', message });
    return true;
  };

  // 3. Empty nodes.
  const keptEmpty = new Set<NodeClaim>();
  for (const c of empty.sort(byPriceThenName)) {
    if (heldBack(c, 'Empty', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods))) continue;
    if (overBudget(c, 'Empty')) {
      keptEmpty.add(c.nodeClaim); // stays, but is not a place to move pods to
      continue;
    }
    choose(c, 'Empty', `empty since ${iso(c.since)} (consolidateAfter ${c.pool.spec.disruption.consolidateAfter})`);
  }

  // 4. Drifted nodes, replaced as expired ones are (deleted: the termination
  // workflow drains them and the provisioner makes new nodes for the evicted
  // pods), but within the pool's Drifted budget, and held by do-not-disrupt and PDBs.
  const ledger = new PdbLedger(input.pdbs ?? []);
  const driftedSince = (nodeClaim: NodeClaim): Date => {
    const since = findCondition(nodeClaim.status.conditions, CONDITION.Drifted)?.lastTransitionTime;
    return since === undefined ? now : new Date(since);
  };
  const drifted: { c: Candidate; drift: Drift }[] = [];
  for (const m of members) {
    if (leaving.has(m.nodeClaim) || !m.pool || !m.node || !countedIdle(m)) continue;
    const drift = driftOf(m.nodeClaim, m.pool, m.nodeClass);
    if (drift) drifted.push({ c: { ...m, pool: m.pool, node: m.node, pods: [...nodeEmptiness(podsOn(m.node)).workloadPods], since: driftedSince(m.nodeClaim) }, drift });
  }
  drifted.sort((a, b) => a.c.since.getTime() - b.c.since.getTime() || byPriceThenName(a.c, b.c));
  for (const { c, drift } of drifted) {
    if (heldBack(c, 'Drifted', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods) ?? ledger.blocker(c.pods)) || overBudget(c, 'Drifted')) continue;
    choose(c, 'Drifted', `${drift.reason}: ${drift.message}`);
    ledger.spend(c.pods);
  }

  // 5. Underutilized nodes: their pods must fit on the nodes that stay.
  const leavingNodes = new Set(members.filter((m) => (leaving.has(m.nodeClaim) || keptEmpty.has(m.nodeClaim)) && m.node).map((m) => m.node!.metadata.name));
  let destinations: Destination[] = input.nodes
    .filter((n) => acceptsPods(n) && !leavingNodes.has(n.metadata.name))
    .map((n) => toDestination(n, podsOn(n)))
    .sort((a, b) => a.name.localeCompare(b.name));
  const received = new Set<string>();
  for (const c of underutilized.sort(byPriceThenName)) {
    const name = c.node.metadata.name;
    if (leaving.has(c.nodeClaim)) continue;
    // Its real pods plus the ones we just planned onto it: simpler to keep it.
    if (received.has(name)) continue;
    if (heldBack(c, 'Underutilized', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods) ?? ledger.blocker(c.pods))) continue;
    const plan = planReschedule(c.pods, destinations.filter((d) => d.name !== name));
    if (!plan.ok) {
      unconsolidatable.push({ nodeClaim: c.nodeClaim, node: c.node, message: plan.message });
      continue;
    }
    if (overBudget(c, 'Underutilized')) continue;
    const targets = [...new Set(plan.placements.map((p) => p.node))];
    choose(c, 'Underutilized', `${describePods(c.pods)} fit on ${targets.join(', ')}`);
    for (const t of targets) received.add(t);
    destinations = plan.destinations.filter((d) => d.name !== name);
    ledger.spend(c.pods);
  }

  return { decisions, conditions, blocked, unconsolidatable, errors };
}
