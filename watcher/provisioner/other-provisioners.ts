// Pending pods that another provisioner serves. A cluster may run stock
// Karpenter (or another provider) beside us, each with its own NodePools; a pod
// that pins `karpenter.sh/nodepool` to NodePools on other NodeClasses is that
// provisioner's to plan and to tell. Ours leaves it alone: no plan, and no
// FailedScheduling Event saying none of our pools fits (a 1000-pod burst for
// Karpenter would otherwise be a thousand Warning Events from us).
import type { Pod } from '../../kube/api/core.ts';
import { Requirements } from '../../kube/api/requirements.ts';
import { LABEL_NODEPOOL } from '../../kube/api/constants.ts';

/**
 * Whether every way the pod may schedule names only NodePools of another
 * provisioner (`others`), none of ours. A pod that names no NodePool, one of
 * ours, or only NodePools that do not exist (a typo) stays ours: we plan it or
 * tell it why not. A pod whose requirements cannot be read stays ours too, so
 * the planner reports the error.
 */
export function servedByOtherProvisioner(pod: Pod, ours: ReadonlySet<string>, others: ReadonlySet<string>): boolean {
  if (others.size === 0) return false;
  let alternatives: Requirements[];
  try {
    alternatives = Requirements.podAlternatives(pod);
  } catch {
    return false;
  }
  if (alternatives.length === 0) return false;
  return alternatives.every((alternative) => {
    const pools = alternative.get(LABEL_NODEPOOL);
    if (!pools) return false;
    for (const name of ours) if (pools.allows(name)) return false;
    for (const name of others) if (pools.allows(name)) return true;
    return false;
  });
}
