// The offerings (commercial type × zone) a NodeClaim may get, and in what
// order: the one place that says which zones a NodeClass means, which image it
// boots, which offerings are for sale right now and how they rank. The planner
// (watcher), the launch (activities/offerings.ts) and the NodeClass status all
// ask here, as Karpenter's AWS provider has one instance-type provider for its
// scheduler, launch and status (pkg/providers/instancetype), and each reads the
// offerings a create just found empty (UnavailableOfferings) the same way.
import type { ServerTypeOffer } from './cloud.ts';
import { CatalogCache, type UnavailableOfferings } from './caches.ts';
import type { ScalewayCloud } from './cloud.ts';
import { fits, instanceAllocatable, instanceLabels, meetsLabels, SCALEWAY_ZONES, type ResourceAmounts } from './instance-types.ts';
import type { KubeletSettings } from './kubelet-reservations.ts';
import type { Requirements } from '../kube/api/requirements.ts';
import { LABEL_ZONE } from '../kube/api/constants.ts';
import { DEFAULT_GPU_IMAGE_LABEL, DEFAULT_IMAGE_LABEL } from '../kube/api/nodeclass-defaults.ts';

/** The zones a NodeClass launches in: its `zones`, or every zone Scaleway sells Instances in when it names none. */
export function nodeClassZones(zones: readonly string[] | undefined): string[] {
  return zones?.length ? [...zones] : [...SCALEWAY_ZONES];
}

/** The zones to look in for a NodeClaim: the NodeClass's, narrowed by a zone requirement. */
export function candidateZones(zones: readonly string[] | undefined, requirements: Requirements): string[] {
  return nodeClassZones(zones).filter((z) => requirements.allows(LABEL_ZONE, z));
}

/**
 * Zones where Scaleway sells GPUs, where a NodeClass without a zone list has
 * its image checked by its status: the GPU image is published where GPU types
 * are, so looking for it in every zone would fail a NodeClass that works.
 */
export const GPU_IMAGE_ZONES: readonly string[] = ['fr-par-1', 'fr-par-2'];

/** The zones whose image the NodeClass status resolves: its own list, or the GPU zones. */
export function imageCheckZones(zones: readonly string[] | undefined): string[] {
  return zones?.length ? [...zones] : [...GPU_IMAGE_ZONES];
}

/** The image label (or UUID) a NodeClass boots: its `image`, or Scaleway's GPU Ubuntu on GPU types and plain Ubuntu elsewhere. */
export function imageOf(image: string | undefined, gpu: boolean): string {
  return image ?? (gpu ? DEFAULT_GPU_IMAGE_LABEL : DEFAULT_IMAGE_LABEL);
}

/** Why the catalog says an offering cannot be bought (end of service, out of stock), or undefined. */
export function notForSale(offer: ServerTypeOffer): string | undefined {
  if (offer.endOfService) return 'end of service';
  if (offer.availability === 'shortage') return 'out of stock';
  return undefined;
}

const stockRank = (a: string): number => (a === 'available' ? 0 : 1);

/** The ranking: cheapest first; at a tie, more stock, then type and zone by name (so every reader orders alike). */
export function cheapestFirst(a: ServerTypeOffer, b: ServerTypeOffer): number {
  return a.hourlyPriceEur - b.hourlyPriceEur || stockRank(a.availability) - stockRank(b.availability)
    || a.commercialType.localeCompare(b.commercialType) || a.zone.localeCompare(b.zone);
}

/** Why an offering is skipped right now (recently out of stock, over quota), or undefined. */
export type UnavailableLookup = (zone: string, commercialType: string) => string | undefined;

/**
 * The catalog as it can be bought now: an offering a create found empty within
 * the TTL reads as `shortage`, as the AWS provider marks an offering in its
 * unavailable-offerings cache not Available. Everyone reading these offers then
 * skips it for the same reason they skip a shortage the catalog reports.
 */
export function withUnavailable(offers: readonly ServerTypeOffer[], unavailable: UnavailableLookup): ServerTypeOffer[] {
  return offers.map((o) => (o.availability !== 'shortage' && unavailable(o.zone, o.commercialType) ? { ...o, availability: 'shortage' } : o));
}

/**
 * The watcher's catalog: each zone's offers read through CatalogCache, with the
 * offerings the launch recently found empty marked so (withUnavailable). The
 * planner, the disruption loop and the NodePool status read it.
 */
export class OfferingsCatalog extends CatalogCache {
  constructor(cloud: ScalewayCloud, private readonly unavailable: UnavailableOfferings) {
    super(cloud);
  }

  override async offers(zone: string): Promise<ServerTypeOffer[]> {
    return withUnavailable(await super.offers(zone), (z, type) => this.unavailable.unavailable(z, type));
  }
}

/** The offers of each zone; one zone's catalog failing does not stop the others, all failing throws the first error. */
export async function offersIn(catalog: { offers(zone: string): Promise<ServerTypeOffer[]> }, zones: readonly string[]): Promise<ServerTypeOffer[]> {
  const results = await Promise.allSettled(zones.map((z) => catalog.offers(z)));
  if (results.length > 0 && results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

export interface RankInput {
  offers: readonly ServerTypeOffer[];
  requirements: Requirements;
  requests: ResourceAmounts;
  rootVolumeBytes: number;
  /** The NodeClass's `kubelet` settings (maxPods, reservations, eviction thresholds). */
  kubelet?: KubeletSettings | undefined;
  /** Offerings recently found empty (UnavailableOfferings), or none. */
  unavailable?: UnavailableLookup | undefined;
}

export interface RankedOfferings {
  offerings: ServerTypeOffer[];
  /** Counts of offers left out, by reason, for a message when nothing is left. */
  excluded: Record<string, number>;
}

/** Offerings that can host the NodeClaim, in rank order (cheapestFirst). */
export function rankOfferings(input: RankInput): RankedOfferings {
  const excluded: Record<string, number> = {};
  const skip = (reason: string): void => {
    excluded[reason] = (excluded[reason] ?? 0) + 1;
  };
  const offerings: ServerTypeOffer[] = [];
  for (const offer of input.offers) {
    const gone = notForSale(offer);
    if (gone) { skip(gone === 'out of stock' ? 'out of stock (shortage)' : gone); continue; }
    if (!meetsLabels(input.requirements, instanceLabels(offer))) { skip('requirements not met'); continue; }
    if (!fits(input.requests, instanceAllocatable(offer, input.rootVolumeBytes, input.kubelet))) { skip('too small for the requests'); continue; }
    const unavailable = input.unavailable?.(offer.zone, offer.commercialType);
    if (unavailable) { skip(`recently ${unavailable}`); continue; }
    offerings.push(offer);
  }
  return { offerings: offerings.sort(cheapestFirst), excluded };
}
