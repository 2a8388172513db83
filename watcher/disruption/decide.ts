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
// most. Each decision uses up the pool's budget for the next ones in the same
// pass (pass.ts); each method lives in methods/.
import type { Node } from '../../kube/api/core.ts';
import type { NodeClaim } from '../../kube/api/schemas.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { LABEL_INSTANCE_TYPE, LABEL_ZONE } from '../../kube/api/constants.ts';
import { conditionsEqual } from '../../kube/api/conditions.ts';
import { PdbLedger } from './blockers.ts';
import { withDisruptionConditions } from './conditions.ts';
import { DisruptionPass } from './pass.ts';
import { decideExpired } from './methods/expiration.ts';
import { consolidationCandidates } from './methods/consolidation.ts';
import { decideEmpty } from './methods/emptiness.ts';
import { decideDrifted } from './methods/drift.ts';
import { decideUnderutilized } from './methods/underutilized.ts';
import type { ConditionChange, DisruptionInput, DisruptionPlan } from './disruption-plan.ts';

export type * from './disruption-plan.ts';

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
  const pass = new DisruptionPass(input);
  const conditions = conditionChanges(pass);

  decideExpired(pass);
  // Consolidation candidates are read once expiration has decided, before emptiness does.
  const { empty, underutilized } = consolidationCandidates(pass);
  const keptEmpty = decideEmpty(pass, empty);
  // One PDB ledger for the graceful methods that evict: what drift spends, consolidation cannot.
  const ledger = new PdbLedger(input.pdbs ?? []);
  decideDrifted(pass, ledger);
  decideUnderutilized(pass, underutilized, input.nodes, keptEmpty, ledger);

  return { decisions: pass.decisions, conditions, blocked: pass.blocked, unconsolidatable: pass.unconsolidatable, errors: pass.errors };
}

/** The Drifted and Consolidatable conditions each live NodeClaim should carry, where they changed. */
function conditionChanges(pass: DisruptionPass): ConditionChange[] {
  const conditions: ConditionChange[] = [];
  for (const m of pass.members) {
    if (!m.pool || m.nodeClaim.metadata.deletionTimestamp !== undefined) continue;
    const next = withDisruptionConditions(m.nodeClaim, m.pool, m.nodeClass, pass.now, pass.observedAt(m));
    if (!conditionsEqual(m.nodeClaim.status.conditions, next)) conditions.push({ nodeClaim: m.nodeClaim, conditions: next });
  }
  return conditions;
}
