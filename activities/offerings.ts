// Choosing where a NodeClaim runs: its requirements and requests against the
// live catalog and availability of the zones it may use, minus offerings that
// recently ran out of stock, in the one ranking of scaleway/offerings.ts. And
// recording an offering a create found empty, where the planner learns it too.
import type { ActivityDeps } from './deps.ts';
import type { NodeClaimRef, Offering, OfferingChoice } from './contract.ts';
import { lookUpNodeClass, readNodeClaimSpec } from './nodeclass.ts';
import { translated } from './failures.ts';
import { patchNodeClaimMetadata } from '../kube/objects.ts';
import { Requirements } from '../kube/api/requirements.ts';
import { LABEL_INSTANCE_GPU_NAME, LABEL_INSTANCE_TYPE, LABEL_ZONE } from '../kube/api/constants.ts';
import { requestedAmounts } from '../scaleway/instance-types.ts';
import { candidateZones, offersIn, rankOfferings } from '../scaleway/offerings.ts';
import { ANNOTATION_UNAVAILABLE_OFFERINGS, addUnavailableOffering } from '../kube/api/unavailable-offerings-annotation.ts';
import type { NodeClaim } from '../kube/api/schemas.ts';
import { log } from '@temporalio/activity';
import { errorMessage } from '../runtime/log.ts';
import { rootVolumeOf } from '../kube/api/nodeclass-defaults.ts';
import { canonicalGpuName, gpuLabelValue } from '../scaleway/gpu-names.ts';
import type { ServerTypeOffer } from '../scaleway/cloud.ts';

/** How many fallbacks a workflow gets: enough to ride out a stock-out across zones. */
const MAX_OFFERINGS = 10;

/** Rewrites GPU short names (`h100`, `3070`) in requirements to the label values nodes carry. */
export function canonicalRequirements(list: readonly { key: string; operator: string; values?: string[] | undefined; minValues?: number | undefined }[]): Requirements {
  return Requirements.from(list.map((r) => (r.key === LABEL_INSTANCE_GPU_NAME && r.values ? { ...r, values: r.values.map(canonicalGpuName) } : r)));
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
    const nodeClaim = await readNodeClaimSpec(deps, ref);
    if (!nodeClaim) return { ok: false, reason: 'NodeClaimNotFound', message: `NodeClaim ${ref.name} no longer exists` };
    const lookup = await lookUpNodeClass(deps, nodeClaim.spec.nodeClassRef.name);
    if (!lookup.ok) return { ok: false, reason: lookup.reason, message: lookup.message };
    const requirements = canonicalRequirements(nodeClaim.spec.requirements);
    const zones = candidateZones(lookup.nodeClass.spec.zones, requirements);
    if (zones.length === 0) return { ok: false, reason: 'NoCompatibleZone', message: `no zone of the NodeClass meets ${requirements.get(LABEL_ZONE)?.toString() ?? 'the zone requirement'}` };

    // One zone's catalog failing must not stop the others; all failing is an error worth retrying.
    const offers = await offersIn(deps.catalog, zones);

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

/**
 * A create found the offering empty (out of stock, over quota): skipped by this
 * worker's launches for the TTL, and recorded on the NodeClaim so the watcher's
 * planner skips it too (watcher/unavailable-offerings-feed.ts). The record is
 * best effort: a NodeClaim gone or an apiserver hiccup costs the planner one
 * more try of the offering, never the launch its fallback.
 */
export async function recordUnavailableOffering(deps: ActivityDeps, nodeClaim: NodeClaim, offering: Pick<Offering, 'zone' | 'commercialType'>, reason: string): Promise<void> {
  const at = deps.now();
  deps.unavailable.markUnavailable(offering.zone, offering.commercialType, reason, at.getTime());
  const value = addUnavailableOffering(nodeClaim.metadata.annotations?.[ANNOTATION_UNAVAILABLE_OFFERINGS], { zone: offering.zone, commercialType: offering.commercialType, reason, at: at.toISOString() }, at.getTime(), deps.unavailable.ttlMs);
  try {
    await patchNodeClaimMetadata(deps.kube, nodeClaim.metadata.name, { annotations: { [ANNOTATION_UNAVAILABLE_OFFERINGS]: value } });
  } catch (err) {
    log.warn(`recording on NodeClaim ${nodeClaim.metadata.name} that ${offering.commercialType} in ${offering.zone} is ${reason}`, { error: errorMessage(err) });
  }
}
