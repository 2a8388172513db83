// One disruption pass: which NodeClaims to delete now, and which ones would go
// but are held back. Pure: the caller lists the objects, supplies the clock and
// prices, then deletes the chosen NodeClaims (the termination workflow drains
// and releases each server), emits Events and sets Consolidatable from `blocked`.
//
// Order, as upstream's disruption controller (pkg/controllers/disruption):
// expiration first (forceful, outside budgets), then emptiness, then
// underutilization; within a reason the most expensive node goes first, so a
// budget that lets only some go saves the most. Each decision uses up the
// pool's budget for the next ones in the same pass.
import type { Node, Pod } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool } from '../../kube/api/schemas.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { isNodeReady } from '../../kube/api/core.ts';
import { LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE } from '../../kube/api/constants.ts';
import { PdbLedger, doNotDisruptBlocker, type BlockerKind, type PodDisruptionBudgetLike } from './blockers.ts';
import { allowedDisruptions, countPoolNodes, isBeingDisrupted, type BudgetReason } from './budgets.ts';
import { describePods, isInitialized, nodeEmptiness, quietSince, isConsolidatable } from './emptiness.ts';
import { expiresAt } from './expiration.ts';
import { podsByNode } from './pods.ts';
import { acceptsPods, planReschedule, toDestination, type Destination } from './underutilized.ts';

export type DisruptionReason = 'Empty' | 'Underutilized' | 'Expired';

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
  /** PodDisruptionBudgets; when given, consolidation never evicts more than they allow. */
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

export interface DisruptionPlan {
  /** In the order to act on them. */
  readonly decisions: Decision[];
  readonly blocked: Blocked[];
  readonly unconsolidatable: Unconsolidatable[];
  /** Budgets we could not read (they allowed 0). */
  readonly errors: string[];
}

interface Member {
  readonly nodeClaim: NodeClaim;
  readonly node: Node | undefined;
  readonly pool: NodePool | undefined;
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
  const nodesByProviderID = new Map(input.nodes.filter((n) => n.spec.providerID).map((n) => [n.spec.providerID!, n]));
  const pods = podsByNode(input.pods);
  const podsOn = (node: Node | undefined): Pod[] => (node ? (pods.get(node.metadata.name) ?? []) : []);

  const members: Member[] = input.nodeClaims.map((nodeClaim) => {
    const node = nodeClaim.status.providerID ? nodesByProviderID.get(nodeClaim.status.providerID) : undefined;
    const poolName = nodeClaim.metadata.labels?.[LABEL_NODEPOOL];
    return { nodeClaim, node, pool: poolName === undefined ? undefined : pools.get(poolName), price: input.priceOf?.(nodeClaim, node) ?? 0 };
  });

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
  for (const { m, at } of expired) {
    decisions.push({ nodeClaim: m.nodeClaim, node: m.node, reason: 'Expired', message: `expired at ${iso(at)} (expireAfter ${m.nodeClaim.spec.expireAfter})`, pricePerHour: m.price });
    leaving.add(m.nodeClaim);
    consume(m);
  }

  // 2. Consolidation candidates: initialized, settled for consolidateAfter, not already leaving.
  type Candidate = Member & { readonly pool: NodePool; readonly node: Node; readonly pods: Pod[]; readonly since: Date };
  const empty: Candidate[] = [];
  const underutilized: Candidate[] = [];
  for (const m of members) {
    if (leaving.has(m.nodeClaim) || !m.pool || !m.node || !countedIdle(m)) continue;
    const observed = input.lastPodEventAt?.get(m.node.metadata.name);
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

  const budgetMessage = (c: Candidate, reason: BudgetReason, allowed: number): string =>
    `NodePool ${c.pool.metadata.name}'s budget for ${reason} allows ${Number.isFinite(allowed) ? allowed : 'unlimited'} of ${totals.get(c.pool.metadata.name) ?? 0} node(s) now and ${inFlight.get(c.pool.metadata.name) ?? 0} are already being disrupted`;

  // 3. Empty nodes.
  for (const c of empty.sort(byPriceThenName)) {
    const hold = doNotDisruptBlocker(c.nodeClaim, c.node, c.pods);
    if (hold) {
      blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason: 'Empty', blocker: hold.kind, message: hold.message });
      continue;
    }
    const budget = budgetLeft(c.pool, 'Empty');
    if (budget.left <= 0) {
      blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason: 'Empty', blocker: 'Budget', message: budgetMessage(c, 'Empty', budget.allowed) });
      leaving.add(c.nodeClaim); // stays, but is not a place to move pods to
      continue;
    }
    decisions.push({
      nodeClaim: c.nodeClaim,
      node: c.node,
      reason: 'Empty',
      message: `empty since ${iso(c.since)} (consolidateAfter ${c.pool.spec.disruption.consolidateAfter})`,
      pricePerHour: c.price,
    });
    leaving.add(c.nodeClaim);
    consume(c);
  }

  // 4. Underutilized nodes: their pods must fit on the nodes that stay.
  const leavingNodes = new Set([...members].filter((m) => leaving.has(m.nodeClaim) && m.node).map((m) => m.node!.metadata.name));
  let destinations: Destination[] = input.nodes
    .filter((n) => acceptsPods(n) && !leavingNodes.has(n.metadata.name))
    .map((n) => toDestination(n, podsOn(n)))
    .sort((a, b) => a.name.localeCompare(b.name));
  const received = new Set<string>();
  const ledger = new PdbLedger(input.pdbs ?? []);
  for (const c of underutilized.sort(byPriceThenName)) {
    const name = c.node.metadata.name;
    // Its real pods plus the ones we just planned onto it: simpler to keep it.
    if (received.has(name)) continue;
    const hold = doNotDisruptBlocker(c.nodeClaim, c.node, c.pods) ?? ledger.blocker(c.pods);
    if (hold) {
      blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason: 'Underutilized', blocker: hold.kind, message: hold.message });
      continue;
    }
    const plan = planReschedule(c.pods, destinations.filter((d) => d.name !== name));
    if (!plan.ok) {
      unconsolidatable.push({ nodeClaim: c.nodeClaim, node: c.node, message: plan.message });
      continue;
    }
    const budget = budgetLeft(c.pool, 'Underutilized');
    if (budget.left <= 0) {
      blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason: 'Underutilized', blocker: 'Budget', message: budgetMessage(c, 'Underutilized', budget.allowed) });
      continue;
    }
    const targets = [...new Set(plan.placements.map((p) => p.node))];
    decisions.push({
      nodeClaim: c.nodeClaim,
      node: c.node,
      reason: 'Underutilized',
      message: `${describePods(c.pods)} fit on ${targets.join(', ')}`,
      pricePerHour: c.price,
    });
    for (const t of targets) received.add(t);
    destinations = plan.destinations.filter((d) => d.name !== name);
    ledger.spend(c.pods);
    leaving.add(c.nodeClaim);
    consume(c);
  }

  return { decisions, blocked, unconsolidatable, errors };
}
