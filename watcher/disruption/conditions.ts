// The NodeClaim conditions disruption keeps, as upstream's NodeClaim
// disruption controller does (pkg/controllers/nodeclaim/disruption): Drifted
// (True with the drift reason while drifted, removed otherwise) and
// Consolidatable (True once consolidateAfter has passed since the last pod
// event, removed otherwise). They are computed by the same functions the
// disruption decisions read (driftOf, isConsolidatable), in the same pass.
import type { NodeClaim, NodePool, ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { CONDITION, REASON } from '../../kube/api/constants.ts';
import { removeCondition, setCondition, type Condition } from '../../kube/api/conditions.ts';
import { driftOf } from './drift.ts';
import { isConsolidatable } from './emptiness.ts';

/** The NodeClaim's conditions with Drifted and Consolidatable as they are at `now`. */
export function withDisruptionConditions(
  nodeClaim: Pick<NodeClaim, 'metadata' | 'spec' | 'status'>,
  pool: Pick<NodePool, 'metadata' | 'spec'>,
  nodeClass: Pick<ScalewayNodeClass, 'metadata' | 'spec'> | undefined,
  now: Date,
  observedPodEventAt?: Date | string,
): Condition[] {
  const generation = nodeClaim.metadata.generation;
  let conditions: Condition[] = nodeClaim.status.conditions;
  const drift = driftOf(nodeClaim, pool, nodeClass);
  conditions = drift
    ? setCondition(conditions, { type: CONDITION.Drifted, status: 'True', reason: drift.reason, message: drift.message }, now, generation)
    : removeCondition(conditions, CONDITION.Drifted);
  conditions = isConsolidatable(nodeClaim, pool, now, observedPodEventAt)
    ? setCondition(conditions, { type: CONDITION.Consolidatable, status: 'True', reason: REASON.Consolidatable, message: '' }, now, generation)
    : removeCondition(conditions, CONDITION.Consolidatable);
  return conditions;
}
