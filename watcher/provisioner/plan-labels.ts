// The label names the planner uses, in one import, and the NodeClaim-side
// label check (restricted domains, minus the keys Karpenter itself sets).
import { restrictedLabelError } from '../../kube/api/requirements.ts';

export {
  canonicalCapacityType,
  CAPACITY_TYPE_ON_DEMAND,
  LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_FAMILY,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_MANUFACTURER,
  LABEL_INSTANCE_GPU_MEMORY,
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_TYPE,
  LABEL_NODEPOOL,
  LABEL_ZONE,
} from '../../kube/api/constants.ts';

/** Why a NodeClaim may not carry this key (as a requirement or label), or undefined. */
export function restrictedLabelErrorFor(key: string): string | undefined {
  return restrictedLabelError(key, 'NodeClaim');
}
