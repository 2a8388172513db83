// Drift: drifted NodeClaims (see ../drift.ts for how drift is found) are
// replaced as expired ones are (deleted: the termination workflow drains them
// and the provisioner makes new nodes for the evicted pods), but the longest
// drifted first, within the pool's Drifted budget, and held by do-not-disrupt and PDBs.
import type { NodeClaim } from '../../../kube/api/schemas.ts';
import { CONDITION } from '../../../kube/api/constants.ts';
import { findCondition } from '../../../kube/api/conditions.ts';
import { doNotDisruptBlocker, type PdbLedger } from '../blockers.ts';
import { driftOf, type Drift } from '../drift.ts';
import { nodeEmptiness } from '../emptiness.ts';
import { byPriceThenName, type Candidate, type DisruptionPass } from '../pass.ts';

export function decideDrifted(pass: DisruptionPass, ledger: PdbLedger): void {
  const driftedSince = (nodeClaim: NodeClaim): Date => {
    const since = findCondition(nodeClaim.status.conditions, CONDITION.Drifted)?.lastTransitionTime;
    return since === undefined ? pass.now : new Date(since);
  };
  const drifted: { c: Candidate; drift: Drift }[] = [];
  for (const m of pass.settled()) {
    const drift = driftOf(m.nodeClaim, m.pool, m.nodeClass);
    if (drift) drifted.push({ c: { ...m, pods: [...nodeEmptiness(pass.podsOn(m.node)).workloadPods], since: driftedSince(m.nodeClaim) }, drift });
  }
  drifted.sort((a, b) => a.c.since.getTime() - b.c.since.getTime() || byPriceThenName(a.c, b.c));
  for (const { c, drift } of drifted) {
    if (pass.heldBack(c, 'Drifted', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods) ?? ledger.blocker(c.pods)) || pass.overBudget(c, 'Drifted')) continue;
    pass.choose(c, 'Drifted', `${drift.reason}: ${drift.message}`);
    ledger.spend(c.pods);
  }
}
