// What emptiness and underutilization both start from, as upstream's
// consolidation base does: initialized nodes, settled for consolidateAfter, not
// already leaving, split into empty ones and busy ones worth trying to empty.
import { isConsolidatable, nodeEmptiness, quietSince } from '../emptiness.ts';
import type { Candidate, DisruptionPass } from '../pass.ts';

export function consolidationCandidates(pass: DisruptionPass): { empty: Candidate[]; underutilized: Candidate[] } {
  const empty: Candidate[] = [];
  const underutilized: Candidate[] = [];
  for (const m of pass.settled()) {
    const observed = pass.observedAt(m);
    if (!isConsolidatable(m.nodeClaim, m.pool, pass.now, observed)) continue;
    const podsHere = pass.podsOn(m.node);
    const emptiness = nodeEmptiness(podsHere);
    if (emptiness.empty) {
      empty.push({ ...m, pods: podsHere, since: quietSince(m.nodeClaim, observed)! });
    } else if (m.pool.spec.disruption.consolidationPolicy === 'WhenEmptyOrUnderutilized' && emptiness.startingPods.length === 0) {
      // A node still starting pods is about to be busy: leave it alone.
      underutilized.push({ ...m, pods: [...emptiness.workloadPods], since: quietSince(m.nodeClaim, observed)! });
    }
  }
  return { empty, underutilized };
}
