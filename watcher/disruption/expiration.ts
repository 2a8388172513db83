// Expiration, as upstream v1 does it (pkg/controllers/nodeclaim/expiration):
// a NodeClaim whose creationTimestamp + spec.expireAfter has passed is deleted,
// forcefully. Budgets, consolidateAfter and do-not-disrupt do not hold it back
// (design "forceful-expiration"): the drain that follows still waits for
// do-not-disrupt pods and PDBs, up to the NodeClaim's terminationGracePeriod.
// The NodeClaim carries the template's expireAfter from when it was created,
// so a later change to the NodePool does not re-time existing nodes (as upstream).
import type { NodeClaim } from '../../kube/api/schemas.ts';
import { parseDuration } from '../../kube/api/duration.ts';

/** When the NodeClaim expires; undefined for `Never` or without a creationTimestamp. */
export function expiresAt(nodeClaim: Pick<NodeClaim, 'metadata' | 'spec'>): Date | undefined {
  const ttl = parseDuration(nodeClaim.spec.expireAfter);
  const created = nodeClaim.metadata.creationTimestamp;
  if (!Number.isFinite(ttl) || created === undefined) return undefined;
  const ms = new Date(created).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms + ttl);
}

export function isExpired(nodeClaim: Pick<NodeClaim, 'metadata' | 'spec'>, now: Date): boolean {
  const at = expiresAt(nodeClaim);
  return at !== undefined && at.getTime() <= now.getTime();
}
