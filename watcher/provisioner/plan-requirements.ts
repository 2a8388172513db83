// How the planner reads requirements: GPU short names resolved to the values
// nodes are labelled with, and whether requirements pick GPU types on purpose
// (GPU offers are otherwise kept for pods that request GPUs).
import { Requirement, Requirements } from '../../kube/api/requirements.ts';
import {
  LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_FAMILY,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_MANUFACTURER,
  LABEL_INSTANCE_GPU_MEMORY,
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_TYPE,
} from '../../kube/api/constants.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { canonicalLabelValue, instanceLabels } from '../../scaleway/instance-types.ts';
import { canonicalGpuName } from '../../scaleway/gpu-names.ts';

/** Keys whose presence in a NodePool's requirements selects GPU types on purpose. */
export const GPU_SELECTING_KEYS = [LABEL_INSTANCE_GPU_NAME, LABEL_INSTANCE_GPU_COUNT, LABEL_INSTANCE_GPU_MANUFACTURER, LABEL_INSTANCE_GPU_MEMORY];

/** GPU short names (`l4`, `h100`) to label values and the seed's `scaleway-gpu` to on-demand, as nodes are labelled. */
export function canonical(requirements: Requirements): Requirements {
  const fixed = requirements.list().map((r) => {
    if (r.key !== LABEL_INSTANCE_GPU_NAME && r.key !== LABEL_CAPACITY_TYPE) return r;
    if (r.values.size === 0) return r;
    const rebuilt = Requirement.of(r.key, r.complement ? 'NotIn' : 'In', [...r.values].map((v) => canonicalLabelValue(r.key, v)), r.minValues);
    // Bounds (Gt/Lt) on these keys make no sense; keep the set part only.
    return rebuilt;
  });
  return Requirements.of(...fixed);
}

/**
 * Why a pod's GPU name matches no node, when it is a short name: the scheduler
 * compares labels literally, and nodes carry `h100-pcie`, not `h100`.
 */
export function gpuNameHint(requirements: Requirements): string {
  const gpu = requirements.get(LABEL_INSTANCE_GPU_NAME);
  if (!gpu || gpu.complement) return '';
  const renamed = [...gpu.values].filter((v) => canonicalGpuName(v) !== v).map((v) => `${canonicalGpuName(v)} (not ${v})`);
  return renamed.length > 0 ? `; nodes are labelled ${LABEL_INSTANCE_GPU_NAME}=${renamed.join(', ')}, or select karpenter.sh/instance-type with the short name` : '';
}

export function selectsGpuTypes(requirements: Requirements, offers: readonly ServerTypeOffer[]): boolean {
  if (GPU_SELECTING_KEYS.some((k) => requirements.has(k))) return true;
  for (const key of [LABEL_INSTANCE_TYPE, LABEL_INSTANCE_FAMILY]) {
    const r = requirements.get(key);
    if (!r || r.complement) continue;
    if (offers.some((o) => o.gpuCount > 0 && r.has(instanceLabels(o)[key] ?? ''))) return true;
  }
  return false;
}

