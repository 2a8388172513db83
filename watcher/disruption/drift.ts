// Drift, as upstream v1 decides it (pkg/controllers/nodeclaim/disruption/drift.go,
// and the provider's IsDrifted): a launched NodeClaim is Drifted when
// - NodePoolDrifted: its karpenter.sh/nodepool-hash is not the hash of its
//   NodePool's template now (stamps of another hash version never drift);
// - RequirementsDrifted: its labels no longer satisfy its NodePool's requirements;
// - NodeClassDrifted: its nodeclass-hash is not its ScalewayNodeClass's hash now,
//   or its zone has left the NodeClass's zones.
// A NodeClaim without a stamp (made by hand, or before stamps existed) never
// drifts by hash or zone; requirements apply to every NodeClaim.
import type { NodeClaim, NodePool, ScalewayNodeClass } from '../../kube/api/schemas.ts';
import {
  ANNOTATION_NODECLASS_HASH,
  ANNOTATION_NODECLASS_HASH_VERSION,
  ANNOTATION_NODEPOOL_HASH,
  ANNOTATION_NODEPOOL_HASH_VERSION,
  CONDITION,
  LABEL_ZONE,
  REASON,
} from '../../kube/api/constants.ts';
import { isConditionTrue } from '../../kube/api/conditions.ts';
import { Requirement, Requirements, SCHEDULING_WELL_KNOWN_LABELS } from '../../kube/api/requirements.ts';
import { canonicalLabelValue } from '../../scaleway/instance-types.ts';
import { NODECLASS_HASH_VERSION, NODEPOOL_HASH_VERSION, nodeClassHash, nodePoolHash } from '../drift-hashes.ts';

export type DriftReason = typeof REASON.NodePoolDrifted | typeof REASON.RequirementsDrifted | typeof REASON.NodeClassDrifted;

export interface Drift {
  readonly reason: DriftReason;
  readonly message: string;
}

type Claim = Pick<NodeClaim, 'metadata' | 'spec' | 'status'>;

/** The stamped hash when it was stamped with `version`, else undefined (never drifted by it). */
function stampOf(nodeClaim: Claim, hashKey: string, versionKey: string, version: string): string | undefined {
  const annotations = nodeClaim.metadata.annotations ?? {};
  return annotations[versionKey] === version ? annotations[hashKey] : undefined;
}

export function nodePoolDrift(nodeClaim: Claim, pool: Pick<NodePool, 'metadata' | 'spec'>): Drift | undefined {
  const stamped = stampOf(nodeClaim, ANNOTATION_NODEPOOL_HASH, ANNOTATION_NODEPOOL_HASH_VERSION, NODEPOOL_HASH_VERSION);
  if (stamped === undefined) return undefined;
  const current = nodePoolHash(pool);
  if (stamped === current) return undefined;
  return { reason: REASON.NodePoolDrifted, message: `NodePool ${pool.metadata.name}'s template changed since the NodeClaim was made (hash ${stamped}, now ${current})` };
}

/**
 * Upstream checks the NodePool's requirements against the NodeClaim's labels.
 * A missing label counts only where the NodeClaim would have one: the
 * well-known and instance labels every launched NodeClaim carries, and keys the
 * requirement pins to one value (the provisioner labels those); a multi-valued
 * requirement on a custom key leaves no label to compare.
 */
export function requirementsDrift(nodeClaim: Claim, pool: Pick<NodePool, 'metadata' | 'spec'>): Drift | undefined {
  const labels = nodeClaim.metadata.labels ?? {};
  const checked = pool.spec.template.spec.requirements
    .map((r) => Requirement.of(r.key, r.operator, r.values?.map((v) => canonicalLabelValue(r.key, v)), r.minValues))
    .filter((r) => labels[r.key] !== undefined || SCHEDULING_WELL_KNOWN_LABELS.has(r.key) || (!r.complement && r.values.size === 1));
  const unmet = Requirements.of(...checked).unmetBy(labels);
  return unmet === undefined ? undefined : { reason: REASON.RequirementsDrifted, message: `NodePool ${pool.metadata.name}'s requirements changed: ${unmet}` };
}

export function nodeClassDrift(nodeClaim: Claim, nodeClass: Pick<ScalewayNodeClass, 'metadata' | 'spec'>): Drift | undefined {
  const stamped = stampOf(nodeClaim, ANNOTATION_NODECLASS_HASH, ANNOTATION_NODECLASS_HASH_VERSION, NODECLASS_HASH_VERSION);
  if (stamped === undefined) return undefined;
  const name = nodeClass.metadata.name;
  const zone = nodeClaim.metadata.labels?.[LABEL_ZONE];
  const zones = nodeClass.spec.zones;
  if (zone !== undefined && zones !== undefined && !zones.includes(zone)) {
    return { reason: REASON.NodeClassDrifted, message: `zone ${zone} is no longer one of ScalewayNodeClass ${name}'s zones (${zones.join(', ')})` };
  }
  const current = nodeClassHash(nodeClass);
  if (stamped === current) return undefined;
  return { reason: REASON.NodeClassDrifted, message: `ScalewayNodeClass ${name} changed since the NodeClaim was made (hash ${stamped}, now ${current})` };
}

/**
 * Why the NodeClaim is drifted, first reason first (NodePool, requirements,
 * NodeClass, as upstream checks them), or undefined. Only launched NodeClaims
 * drift; `nodeClass` is the one its nodeClassRef names, undefined when gone.
 */
export function driftOf(nodeClaim: Claim, pool: Pick<NodePool, 'metadata' | 'spec'>, nodeClass: Pick<ScalewayNodeClass, 'metadata' | 'spec'> | undefined): Drift | undefined {
  if (!isConditionTrue(nodeClaim.status.conditions, CONDITION.Launched)) return undefined;
  return nodePoolDrift(nodeClaim, pool) ?? requirementsDrift(nodeClaim, pool) ?? (nodeClass ? nodeClassDrift(nodeClaim, nodeClass) : undefined);
}
