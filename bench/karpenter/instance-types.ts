// The Scaleway offerings our planner sees, as Karpenter's KWOK provider reads them
// (its INSTANCE_TYPES_FILE_PATH JSON), so that both provisioners choose from the
// same types, at the same prices, with the same allocatable and the same labels.
//
// Allocatable: KWOK takes `resources` as capacity and subtracts a fixed kube-reserved
// of 100m CPU and 10Mi memory (kwok/cloudprovider/helpers.go, newInstanceType), and
// nothing else. Our planner assumes capacity minus its own kube-reserved, system-reserved
// and eviction threshold (scaleway/instance-types.ts instanceAllocatable). So `resources`
// is our allocatable plus KWOK's overhead: Karpenter then plans on exactly our allocatable.
//
// Labels: every label our nodes carry for an offering (instanceLabels: GPU name, count,
// memory, manufacturer, family, CPU, memory, zone, region, capacity type) goes into the
// offering's requirements; KWOK adds each such key to Karpenter's well-known labels, so a
// NodePool or a pod can select on them as on our NodePools, and KWOK labels its nodes with
// them. Only the seed's `karpenter.sh/instance-type` alias is left out: Karpenter reserves
// the karpenter.sh domain, and nothing here selects on it.
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { instanceAllocatable, instanceLabels, GPU_RESOURCE } from '../../scaleway/instance-types.ts';
import type { KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import { LABEL_ARCH, LABEL_INSTANCE_TYPE, LABEL_OS, LABEL_SEED_INSTANCE_TYPE } from '../../kube/api/constants.ts';

/** KWOK's fixed kube-reserved, added back so that its allocatable is ours. */
export const KWOK_OVERHEAD = { cpuMilli: 100, memoryBytes: 10 * 2 ** 20 } as const;

export interface KwokRequirement {
  key: string;
  operator: 'In';
  values: string[];
}

/** One entry of KWOK's instance-type file (kwok/cloudprovider InstanceTypeOptions; offering fields are Go-cased). */
export interface KwokInstanceType {
  name: string;
  offerings: { Price: number; Available: boolean; Requirements: KwokRequirement[] }[];
  architecture: string;
  operatingSystems: string[];
  resources: Record<string, string>;
}

export interface KwokCatalogOptions {
  /** The NodeClass's root volume: the ephemeral-storage our planner assumes. */
  rootVolumeBytes: number;
  /** The NodeClass's `kubelet` settings, as our planner applies them. */
  kubelet?: KubeletSettings | undefined;
}

/** Keys KWOK sets itself from the type (name, arch, OS): not repeated per offering. */
const TYPE_KEYS: ReadonlySet<string> = new Set([LABEL_INSTANCE_TYPE, LABEL_ARCH, LABEL_OS, LABEL_SEED_INSTANCE_TYPE]);

/** Offers our planner never picks (rankOfferings): end of service, or out of stock. KWOK would mark every offering available. */
export function plannable(offer: ServerTypeOffer): boolean {
  return !offer.endOfService && offer.availability !== 'shortage';
}

/** KWOK's resource list for an offer: our allocatable plus KWOK's own overhead. */
export function kwokResources(offer: ServerTypeOffer, options: KwokCatalogOptions): Record<string, string> {
  const a = instanceAllocatable(offer, options.rootVolumeBytes, options.kubelet);
  const resources: Record<string, string> = {
    cpu: `${Math.round(a.cpu * 1000) + KWOK_OVERHEAD.cpuMilli}m`,
    memory: String(a.memory + KWOK_OVERHEAD.memoryBytes),
    pods: String(a.pods),
    'ephemeral-storage': String(a.ephemeralStorage),
  };
  if (a.gpu > 0) resources[GPU_RESOURCE] = String(a.gpu);
  return resources;
}

/**
 * KWOK's instance-type list for these offers: one entry per commercial type, one offering
 * per zone at its hourly price (€), with the offering's labels as requirements. A type's
 * resources must not differ by zone (they do not: they come from the type's facts).
 */
export function kwokInstanceTypes(offers: readonly ServerTypeOffer[], options: KwokCatalogOptions): KwokInstanceType[] {
  const byType = new Map<string, KwokInstanceType>();
  for (const offer of offers.filter(plannable)) {
    const labels = instanceLabels(offer);
    const requirements = Object.entries(labels)
      .filter(([key]) => !TYPE_KEYS.has(key))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]): KwokRequirement => ({ key, operator: 'In', values: [value] }));
    let entry = byType.get(offer.commercialType);
    if (!entry) {
      entry = {
        name: offer.commercialType,
        offerings: [],
        architecture: labels[LABEL_ARCH] ?? 'amd64',
        operatingSystems: [labels[LABEL_OS] ?? 'linux'],
        resources: kwokResources(offer, options),
      };
      byType.set(offer.commercialType, entry);
    }
    entry.offerings.push({ Price: offer.hourlyPriceEur, Available: true, Requirements: requirements });
  }
  return [...byType.values()].sort((a, b) => a.name.localeCompare(b.name));
}
