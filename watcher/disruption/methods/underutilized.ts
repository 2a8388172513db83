// Underutilization (single-node consolidation): a busy candidate goes when all
// its pods fit on the nodes that stay (see ../underutilized.ts for the fit),
// the most expensive first, within the pool's Underutilized budget and unless
// do-not-disrupt or a PDB holds it. One whose pods fit nowhere is kept and
// reported as unconsolidatable.
import type { Node } from '../../../kube/api/core.ts';
import type { NodeClaim } from '../../../kube/api/schemas.ts';
import { doNotDisruptBlocker, type PdbLedger } from '../blockers.ts';
import { describePods } from '../emptiness.ts';
import { acceptsPods, planReschedule, toDestination, type Destination } from '../underutilized.ts';
import { byPriceThenName, type Candidate, type DisruptionPass } from '../pass.ts';

/** Where pods may go: ready nodes that stay (not leaving, not kept empty by a budget), by name. */
function destinations(pass: DisruptionPass, nodes: readonly Node[], keptEmpty: ReadonlySet<NodeClaim>): Destination[] {
  const leavingNodes = new Set(pass.members.filter((m) => (pass.leaving.has(m.nodeClaim) || keptEmpty.has(m.nodeClaim)) && m.node).map((m) => m.node!.metadata.name));
  return nodes
    .filter((n) => acceptsPods(n) && !leavingNodes.has(n.metadata.name))
    .map((n) => toDestination(n, pass.podsOn(n)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function decideUnderutilized(pass: DisruptionPass, underutilized: Candidate[], nodes: readonly Node[], keptEmpty: ReadonlySet<NodeClaim>, ledger: PdbLedger): void {
  let room = destinations(pass, nodes, keptEmpty);
  const received = new Set<string>();
  for (const c of underutilized.sort(byPriceThenName)) {
    const name = c.node.metadata.name;
    if (pass.leaving.has(c.nodeClaim)) continue;
    // Its real pods plus the ones we just planned onto it: simpler to keep it.
    if (received.has(name)) continue;
    if (pass.heldBack(c, 'Underutilized', doNotDisruptBlocker(c.nodeClaim, c.node, c.pods) ?? ledger.blocker(c.pods))) continue;
    const plan = planReschedule(c.pods, room.filter((d) => d.name !== name));
    if (!plan.ok) {
      pass.unconsolidatable.push({ nodeClaim: c.nodeClaim, node: c.node, message: plan.message });
      continue;
    }
    if (pass.overBudget(c, 'Underutilized')) continue;
    const targets = [...new Set(plan.placements.map((p) => p.node))];
    pass.choose(c, 'Underutilized', `${describePods(c.pods)} fit on ${targets.join(', ')}`);
    for (const t of targets) received.add(t);
    room = plan.destinations.filter((d) => d.name !== name);
    ledger.spend(c.pods);
  }
}
