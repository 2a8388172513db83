// What a Scaleway commercial type looks like to Kubernetes: the labels a node
// of that type carries, its capacity and allocatable resources, and whether its
// labels meet a NodeClaim's requirements. Which offerings are for sale and how
// they rank is offerings.ts.
import type { ServerTypeOffer } from './cloud.ts';
import { canonicalGpuName, gpuLabelValue, shortGpuName } from './gpu-names.ts';
import type { Requirements } from '../kube/api/requirements.ts';
import {
  LABEL_ARCH,
  LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_CPU,
  LABEL_INSTANCE_FAMILY,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_MANUFACTURER,
  LABEL_INSTANCE_GPU_MEMORY,
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_MEMORY,
  LABEL_INSTANCE_TYPE,
  LABEL_OS,
  LABEL_REGION,
  LABEL_SEED_INSTANCE_TYPE,
  LABEL_ZONE,
  canonicalCapacityType,
} from '../kube/api/constants.ts';
import { parseQuantity } from '../kube/quantity.ts';
import { DEFAULT_MAX_PODS, nodeAllocation, type KubeletSettings } from './kubelet-reservations.ts';

/**
 * A requirement value as nodes carry it: GPU short names (`l4`, `h100`) become
 * the label value (`h100-pcie`), the seed's `scaleway-gpu` capacity type
 * becomes `on-demand`; any other key's value is kept.
 */
export function canonicalLabelValue(key: string, value: string): string {
  if (key === LABEL_INSTANCE_GPU_NAME) return canonicalGpuName(value);
  if (key === LABEL_CAPACITY_TYPE) return canonicalCapacityType(value) ?? value;
  return value;
}

export const GPU_RESOURCE = 'nvidia.com/gpu';
export const CAPACITY_TYPE_ON_DEMAND = 'on-demand';
/** The seed's name for on-demand GPU capacity, accepted wherever a capacity type is. */
export const CAPACITY_TYPE_SEED_ALIAS = 'scaleway-gpu';
/** Every zone Scaleway sells Instances in; a NodeClass `zones` list narrows it. */
export const SCALEWAY_ZONES = ['fr-par-1', 'fr-par-2', 'fr-par-3', 'nl-ams-1', 'nl-ams-2', 'nl-ams-3', 'pl-waw-1', 'pl-waw-2', 'pl-waw-3'] as const;

const MIB = 2 ** 20;
export { DEFAULT_MAX_PODS };

export function regionOf(zone: string): string {
  return zone.replace(/-\d+$/, '');
}

/** Size segments of a commercial type: counts (`1`, `24G`, `8C`, `A12C`, `X2C`) and named sizes (`S`, `XL`, `NANO`). */
const SIZE_SEGMENT = /^([A-Z]?\d+[A-Z]*|XXS|XS|S|M|L|XL|XXL|NANO|PICO|MICRO)$/;

/** `L4-1-24G` → `l4`, `H100-SXM-2-80G` → `h100-sxm`, `POP2-HC-8C-16G` → `pop2-hc`, `DEV1-S` → `dev1`: the type without its size segments. */
export function instanceFamily(commercialType: string): string {
  const parts = commercialType.split('-');
  const sizeAt = parts.findIndex((p, i) => i > 0 && SIZE_SEGMENT.test(p));
  return (sizeAt === -1 ? parts : parts.slice(0, sizeAt)).join('-').toLowerCase();
}

/** Every label key an instance type may define; requirements on other keys do not constrain the type. */
const INSTANCE_LABEL_KEYS: ReadonlySet<string> = new Set([
  LABEL_INSTANCE_TYPE, LABEL_ZONE, LABEL_REGION, LABEL_ARCH, LABEL_OS, LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_FAMILY, LABEL_INSTANCE_CPU, LABEL_INSTANCE_MEMORY,
  LABEL_INSTANCE_GPU_NAME, LABEL_INSTANCE_GPU_COUNT, LABEL_INSTANCE_GPU_MEMORY, LABEL_INSTANCE_GPU_MANUFACTURER, LABEL_SEED_INSTANCE_TYPE,
]);

/**
 * Derived once per offer object, never stale: an offer is an immutable value, so its labels live as
 * long as it does. The planner matches every launching NodeClaim against every offer on each pass,
 * which for a 1000-pod burst is a hundred thousand label sets a pass without this.
 */
const LABELS_OF_OFFER = new WeakMap<ServerTypeOffer, Readonly<Record<string, string>>>();

/** The labels a node of this offering carries (and that NodeClaim requirements are matched against). */
export function instanceLabels(offer: ServerTypeOffer): Readonly<Record<string, string>> {
  let labels = LABELS_OF_OFFER.get(offer);
  if (!labels) {
    labels = Object.freeze(labelsOf(offer));
    LABELS_OF_OFFER.set(offer, labels);
  }
  return labels;
}

function labelsOf(offer: ServerTypeOffer): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_INSTANCE_TYPE]: offer.commercialType,
    [LABEL_ZONE]: offer.zone,
    [LABEL_REGION]: regionOf(offer.zone),
    [LABEL_ARCH]: offer.arch === 'arm64' ? 'arm64' : 'amd64',
    [LABEL_OS]: 'linux',
    [LABEL_CAPACITY_TYPE]: CAPACITY_TYPE_ON_DEMAND,
    [LABEL_INSTANCE_FAMILY]: instanceFamily(offer.commercialType),
    [LABEL_INSTANCE_CPU]: String(offer.ncpus),
    [LABEL_INSTANCE_MEMORY]: String(Math.round(offer.ramBytes / MIB)),
  };
  if (offer.gpu && offer.gpuCount > 0) {
    const gpuName = gpuLabelValue(offer.gpu.name);
    labels[LABEL_INSTANCE_GPU_NAME] = gpuName;
    labels[LABEL_INSTANCE_GPU_COUNT] = String(offer.gpuCount);
    labels[LABEL_INSTANCE_GPU_MEMORY] = String(Math.round(offer.gpu.memoryBytes / MIB));
    labels[LABEL_INSTANCE_GPU_MANUFACTURER] = offer.gpu.manufacturer.toLowerCase();
    // The seed's selector, kept working on nodes: `karpenter.sh/instance-type: l4`.
    labels[LABEL_SEED_INSTANCE_TYPE] = shortGpuName(gpuName);
  }
  return labels;
}

export interface ResourceAmounts {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  gpu: number;
  pods: number;
  /** Bytes. */
  ephemeralStorage: number;
}

/** Capacity of a node of this offering: cores, memory, GPUs, the kubelet's maxPods, the root volume. */
export function instanceCapacity(offer: ServerTypeOffer, rootVolumeBytes: number, kubelet?: KubeletSettings): ResourceAmounts {
  return nodeAllocation(offer, rootVolumeBytes, kubelet).capacity;
}

/** What pods can request: capacity minus the kubelet's reservations and eviction threshold (see nodeAllocation). */
export function instanceAllocatable(offer: ServerTypeOffer, rootVolumeBytes: number, kubelet?: KubeletSettings): ResourceAmounts {
  return nodeAllocation(offer, rootVolumeBytes, kubelet).allocatable;
}

/** Kubernetes resource lists for a NodeClaim's or Node's status. */
export function toResourceList(r: ResourceAmounts): Record<string, string> {
  const list: Record<string, string> = {
    // Millicores, rounded first so that 129.605 cores stay 129605m despite binary floating point.
    cpu: Number.isInteger(r.cpu) ? String(r.cpu) : `${Math.floor(Math.round(r.cpu * 1e6) / 1e3)}m`,
    memory: `${Math.floor(r.memory / 1024)}Ki`,
    pods: String(r.pods),
    'ephemeral-storage': `${Math.floor(r.ephemeralStorage / 1024)}Ki`,
  };
  if (r.gpu > 0) list[GPU_RESOURCE] = String(r.gpu);
  return list;
}

/** Requested amounts from a resource list (`{cpu: "500m", "nvidia.com/gpu": "1"}`). */
export function requestedAmounts(requests: Readonly<Record<string, string | number>> | undefined): ResourceAmounts {
  const get = (key: string): number => (requests?.[key] === undefined ? 0 : parseQuantity(requests[key]));
  return { cpu: get('cpu'), memory: get('memory'), gpu: get(GPU_RESOURCE), pods: get('pods'), ephemeralStorage: get('ephemeral-storage') };
}

export function fits(requested: ResourceAmounts, available: ResourceAmounts): boolean {
  return requested.cpu <= available.cpu + 1e-9
    && requested.memory <= available.memory
    && requested.gpu <= available.gpu
    && requested.pods <= available.pods
    && requested.ephemeralStorage <= available.ephemeralStorage;
}

/** Why an offering's labels do not meet the requirements, or undefined when they do. */
export function labelMismatch(requirements: Requirements, labels: Readonly<Record<string, string>>): string | undefined {
  const key = mismatchedKey(requirements, labels);
  if (key === undefined) return undefined;
  return `${key}=${labels[key] ?? '<absent>'} is not allowed by ${requirements.get(key)!.toString()}`;
}

/** labelMismatch without the message: what the planner asks of every offer, on every pass. */
export function meetsLabels(requirements: Requirements, labels: Readonly<Record<string, string>>): boolean {
  return mismatchedKey(requirements, labels) === undefined;
}

function mismatchedKey(requirements: Requirements, labels: Readonly<Record<string, string>>): string | undefined {
  for (const key of requirements.keys()) {
    // Keys outside the instance vocabulary (NodePool template labels, user labels) are put on the node:
    // no constraint on the type. Inside it, a label the type lacks (a CPU type's GPU name) is absent.
    if (!INSTANCE_LABEL_KEYS.has(key)) continue;
    const value = labels[key];
    const requirement = requirements.get(key);
    if (!requirement) continue;
    if (requirement.allows(value)) continue;
    if (key === LABEL_CAPACITY_TYPE && value === CAPACITY_TYPE_ON_DEMAND && requirement.operator() === 'In' && requirement.has(CAPACITY_TYPE_SEED_ALIAS)) continue;
    return key;
  }
  return undefined;
}
