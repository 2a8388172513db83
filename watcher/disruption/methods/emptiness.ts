// Emptiness: empty consolidation candidates go, the most expensive first,
// within the pool's Empty budget and unless do-not-disrupt holds them.
import type { NodeClaim } from '../../../kube/api/schemas.ts';
import { doNotDisruptBlocker } from '../blockers.ts';
import { byPriceThenName, iso, type Candidate, type DisruptionPass } from '../pass.ts';

/** Decides the empty candidates; returns the ones the budget kept (they stay, but are no place to move pods to). */
export function decideEmpty(pass: DisruptionPass, empty: Candidate[]): Set<NodeClaim> {
  const keptEmpty = new Set<NodeClaim>();
  for (const c of empty.sort(byPriceThenName)) {
    if (pass.heldBack(c, 'Empty', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods))) continue;
    if (pass.overBudget(c, 'Empty')) {
      keptEmpty.add(c.nodeClaim);
      continue;
    }
    pass.choose(c, 'Empty', `empty since ${iso(c.since)} (consolidateAfter ${c.pool.spec.disruption.consolidateAfter})`);
  }
  return keptEmpty;
}
