// What a ScalewayNodeClass's unset fields mean, where the CRD cannot default
// them (they depend on the offering): read by the launch path in activities/
// and by the watcher's planning and NodeClass status alike, so both see the same.
import type { ScalewayNodeClass } from './schemas.ts';
import { parseQuantity } from '../quantity.ts';

/** Scaleway's GPU OS images ship the NVIDIA driver and container toolkit; a plain Ubuntu for the rest. */
export const DEFAULT_GPU_IMAGE_LABEL = 'ubuntu_noble_gpu_os_12';
export const DEFAULT_IMAGE_LABEL = 'ubuntu_noble';

/** GPU images are about 20 GB; room for container images of ML frameworks, which run to tens of GB. */
export const DEFAULT_ROOT_VOLUME_BYTES = 100e9;

export interface RootVolume {
  sizeBytes: number;
  type: 'sbs_volume' | 'l_ssd';
  iops: 5000 | 15000 | undefined;
}

/** The NodeClass's root volume in Instance API terms (sbs_5k/sbs_15k are SBS volumes with an IOPS tier). */
export function rootVolumeOf(nodeClass: ScalewayNodeClass): RootVolume {
  const spec = nodeClass.spec.rootVolume;
  const sizeBytes = spec?.size ? parseQuantity(spec.size) : DEFAULT_ROOT_VOLUME_BYTES;
  if (spec?.type === 'l_ssd') return { sizeBytes, type: 'l_ssd', iops: undefined };
  return { sizeBytes, type: 'sbs_volume', iops: spec?.type === 'sbs_15k' ? 15000 : 5000 };
}
