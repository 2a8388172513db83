// The state one disruption pass shares between its methods: each NodeClaim
// with its Node, NodePool, NodeClass and price; the pool budgets, used up as
// decisions are made; and what has been decided, held back or kept so far.
// Methods (methods/*.ts) read candidates from it and record their verdicts
// through it, so ordering and budgets stay in one place (as upstream's
// disruption controller hands each Method the same cluster state and budgets).
import type { Node, Pod } from '../../kube/api/core.ts';
import type { NodeClaim, NodePool, ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { isNodeReady } from '../../kube/api/core.ts';
import { LABEL_NODEPOOL } from '../../kube/api/constants.ts';
import type { Blocker } from './blockers.ts';
import { allowedDisruptions, countPoolNodes, isBeingDisrupted, type BudgetReason } from './budgets.ts';
import { isInitialized } from './emptiness.ts';
import { podsByNode } from './pods.ts';
import { nodesByProviderID } from '../state/node-matching.ts';
import type { Blocked, Decision, DisruptionInput, DisruptionReason, Unconsolidatable } from './disruption-plan.ts';

export interface Member {
  readonly nodeClaim: NodeClaim;
  readonly node: Node | undefined;
  readonly pool: NodePool | undefined;
  readonly nodeClass: ScalewayNodeClass | undefined;
  readonly price: number;
}

/** A member a method may disrupt, with the pods it would move and the time its reason began. */
export type Candidate = Member & { readonly pool: NodePool; readonly node: Node; readonly pods: Pod[]; readonly since: Date };

export function byPriceThenName(a: Member, b: Member): number {
  return b.price - a.price || a.nodeClaim.metadata.name.localeCompare(b.nodeClaim.metadata.name);
}

export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class DisruptionPass {
  readonly now: Date;
  readonly members: Member[];
  readonly decisions: Decision[] = [];
  readonly blocked: Blocked[] = [];
  readonly unconsolidatable: Unconsolidatable[] = [];
  /** Budgets we could not read (they allowed 0). */
  readonly errors: string[] = [];
  /** NodeClaims decided in this pass. */
  readonly leaving = new Set<NodeClaim>();
  private readonly pods: Map<string, Pod[]>;
  // Budget state per pool: nodes counted, and how many are (or are about to be) in flight.
  private readonly inFlight = new Map<string, number>();
  private readonly totals = new Map<string, number>();

  constructor(private readonly input: DisruptionInput) {
    this.now = input.now;
    const pools = new Map(input.nodePools.map((p) => [p.metadata.name, p]));
    const nodeClasses = new Map((input.nodeClasses ?? []).map((c) => [c.metadata.name, c]));
    const nodeOf = input.nodeOf ?? nodesByProviderID(input.nodes);
    this.pods = podsByNode(input.pods);
    this.members = input.nodeClaims.map((nodeClaim) => {
      const node = nodeOf(nodeClaim);
      const poolName = nodeClaim.metadata.labels?.[LABEL_NODEPOOL];
      const pool = poolName === undefined ? undefined : pools.get(poolName);
      return { nodeClaim, node, pool, nodeClass: nodeClasses.get(nodeClaim.spec.nodeClassRef.name), price: input.priceOf?.(nodeClaim, node) ?? 0 };
    });
    for (const pool of input.nodePools) {
      const counts = countPoolNodes(this.members.filter((m) => m.pool === pool));
      this.totals.set(pool.metadata.name, counts.total);
      this.inFlight.set(pool.metadata.name, counts.disrupting);
    }
  }

  podsOn(node: Node | undefined): Pod[] {
    return node ? (this.pods.get(node.metadata.name) ?? []) : [];
  }

  observedAt(m: Member): Date | string | undefined {
    return m.node ? this.input.lastPodEventAt?.get(m.node.metadata.name) : undefined;
  }

  /** Whether the member counts towards its pool's total without being in flight already. */
  countedIdle(m: Member): boolean {
    return m.node !== undefined && isInitialized(m.nodeClaim) && !isBeingDisrupted(m.nodeClaim, m.node) && isNodeReady(m.node);
  }

  /** Members a graceful method may still consider: not decided yet, in a pool, on a ready, idle node. */
  settled(): (Member & { readonly pool: NodePool; readonly node: Node })[] {
    return this.members.filter((m): m is Member & { readonly pool: NodePool; readonly node: Node } => !this.leaving.has(m.nodeClaim) && m.pool !== undefined && m.node !== undefined && this.countedIdle(m));
  }

  /** Decides `m` goes; it uses up its pool's budget for the next ones. */
  choose(m: Member, reason: DisruptionReason, message: string): void {
    this.decisions.push({ nodeClaim: m.nodeClaim, node: m.node, reason, message, pricePerHour: m.price });
    this.leaving.add(m.nodeClaim);
    if (m.pool && this.countedIdle(m)) this.inFlight.set(m.pool.metadata.name, (this.inFlight.get(m.pool.metadata.name) ?? 0) + 1);
  }

  /** Records `hold` against `c`; true when there is one. */
  heldBack(c: Candidate, reason: BudgetReason, hold: Blocker | undefined): boolean {
    if (hold) this.blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason, blocker: hold.kind, message: hold.message });
    return hold !== undefined;
  }

  /** Records that the pool's budget for `reason` has no room for `c`; true when it has none. */
  overBudget(c: Candidate, reason: BudgetReason): boolean {
    const name = c.pool.metadata.name;
    const result = allowedDisruptions(c.pool, reason, this.totals.get(name) ?? 0, this.now);
    for (const e of result.errors) if (!this.errors.includes(`NodePool ${name} ${e}`)) this.errors.push(`NodePool ${name} ${e}`);
    const left = result.allowed - (this.inFlight.get(name) ?? 0);
    if (left > 0) return false;
    const allowed = result.allowed;
    const message = `NodePool ${name}'s budget for ${reason} allows ${Number.isFinite(allowed) ? allowed : 'unlimited'} of ${this.totals.get(name) ?? 0} node(s) now and ${this.inFlight.get(name) ?? 0} are already being disrupted`;
    this.blocked.push({ nodeClaim: c.nodeClaim, node: c.node, reason, blocker: 'Budget', message });
    return true;
  }
}
