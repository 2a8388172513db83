// Choosing where a NodeClaim runs: its requirements and requests against the
// live catalog and availability of the zones it may use, minus offerings that
// recently ran out of stock, cheapest first.
import type { ActivityDeps } from './deps.ts';
import type { NodeClaimRef, Offering, OfferingChoice } from './contract.ts';
import { lookUpNodeClass } from './nodeclass.ts';
import { translated } from './failures.ts';
import { getNodeClaimOf } from '../kube/objects.ts';
import { Requirements } from '../kube/api/requirements.ts';
import { LABEL_INSTANCE_GPU_NAME, LABEL_INSTANCE_TYPE, LABEL_ZONE } from '../kube/api/constants.ts';
import { rankOfferings, requestedAmounts, SCALEWAY_ZONES } from '../scaleway/instance-types.ts';
import { rootVolumeOf } from '../kube/api/nodeclass-defaults.ts';
import { canonicalGpuName, gpuLabelValue } from '../scaleway/gpu-names.ts';
import type { ServerTypeOffer } from '../scaleway/cloud.ts';

/** How many fallbacks a workflow gets: enough to ride out a stock-out across zones. */
const MAX_OFFERINGS = 10;

/** Rewrites GPU short names (`h100`, `3070`) in requirements to the label values nodes carry. */
export function canonicalRequirements(list: readonly { key: string; operator: string; values?: string[] | undefined; minValues?: number | undefined }[]): Requirements {
  return Requirements.from(list.map((r) => (r.key === LABEL_INSTANCE_GPU_NAME && r.values ? { ...r, values: r.values.map(canonicalGpuName) } : r)));
}

/** The zones to look in: the NodeClass's list, narrowed by a zone requirement. */
export function candidateZones(nodeClassZones: readonly string[] | undefined, requirements: Requirements): string[] {
  const zones = nodeClassZones?.length ? [...nodeClassZones] : [...SCALEWAY_ZONES];
  return zones.filter((z) => requirements.allows(LABEL_ZONE, z));
}

function explainNoOffering(requirements: Requirements, offers: readonly ServerTypeOffer[], excluded: Record<string, number>, zones: string[]): string {
  const gpu = requirements.get(LABEL_INSTANCE_GPU_NAME);
  const known = new Set(offers.flatMap((o) => (o.gpu ? [gpuLabelValue(o.gpu.name)] : [])));
  if (gpu && gpu.operator() === 'In' && !gpu.sortedValues().some((v) => known.has(v))) {
    return `no GPU type named ${gpu.sortedValues().join(', ')} in ${zones.join(', ')}; known GPUs: ${[...known].sort().join(', ')}`;
  }
  const types = requirements.get(LABEL_INSTANCE_TYPE);
  const names = new Set(offers.map((o) => o.commercialType));
  if (types && types.operator() === 'In' && !types.sortedValues().some((v) => names.has(v))) {
    return `no commercial type ${types.sortedValues().join(', ')} in ${zones.join(', ')}`;
  }
  const why = Object.entries(excluded).map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `no offering in ${zones.join(', ')} meets the requirements ${requirements.toString()} (${offers.length} offers: ${why || 'none'})`;
}

export function chooseOfferingsActivity(deps: ActivityDeps) {
  return (ref: NodeClaimRef): Promise<OfferingChoice> => translated(async () => {
    const nodeClaim = await getNodeClaimOf(deps.kube, ref);
    if (!nodeClaim) return { ok: false, reason: 'NodeClaimNotFound', message: `NodeClaim ${ref.name} no longer exists` };
    const lookup = await lookUpNodeClass(deps, nodeClaim.spec.nodeClassRef.name);
    if (!lookup.ok) return { ok: false, reason: lookup.reason, message: lookup.message };
    const requirements = canonicalRequirements(nodeClaim.spec.requirements);
    const zones = candidateZones(lookup.nodeClass.spec.zones, requirements);
    if (zones.length === 0) return { ok: false, reason: 'NoCompatibleZone', message: `no zone of the NodeClass meets ${requirements.get(LABEL_ZONE)?.toString() ?? 'the zone requirement'}` };

    // One zone's catalog failing must not stop the others; all failing is an error worth retrying.
    const results = await Promise.allSettled(zones.map((z) => deps.catalog.offers(z)));
    const offers = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    if (results.every((r) => r.status === 'rejected')) throw (results[0] as PromiseRejectedResult).reason;

    const ranked = rankOfferings({
      offers,
      requirements,
      requests: requestedAmounts(nodeClaim.spec.resources.requests),
      rootVolumeBytes: rootVolumeOf(lookup.nodeClass).sizeBytes,
      kubelet: lookup.nodeClass.spec.kubelet,
      unavailable: (zone, type) => deps.unavailable.unavailable(zone, type),
    });
    if (ranked.offerings.length === 0) {
      return { ok: false, reason: 'NoCompatibleOffering', message: explainNoOffering(requirements, offers, ranked.excluded, zones) };
    }
    const offerings: Offering[] = ranked.offerings.slice(0, MAX_OFFERINGS).map((o) => ({
      zone: o.zone,
      commercialType: o.commercialType,
      hourlyPriceEur: o.hourlyPriceEur,
      gpuCount: o.gpuCount,
    }));
    return { ok: true, offerings };
  });
}
