// Why a NodePool (or a pod within it) has no instance type to launch. The
// catalog is narrowed one step at a time, in the order a user would check
// their configuration: the NodeClass's zones against the NodePool's zone
// requirement, each NodePool requirement, minValues, stock, registration
// backoff; then, per pod, each of its requirements and its requests. The step
// that removed the last candidate is the cause, named with what each side
// allows: "no L4 exists" must never stand in for "your zones do not overlap".
import { Requirements, type Requirement } from '../../kube/api/requirements.ts';
import { LABEL_NODEPOOL, LABEL_ZONE, REASON } from '../../kube/api/constants.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { instanceLabels, meetsLabels } from '../../scaleway/instance-types.ts';
import { cheapestFirst, notForSale } from '../../scaleway/offerings.ts';

export interface PoolFunnelInput {
  nodePool: string;
  nodeClass: string;
  /** Zones the NodeClass allows (its spec.zones, or every zone). */
  nodeClassZones: readonly string[];
  /** The pool's requirements, canonical (short GPU names resolved), template labels included. */
  requirements: Requirements;
  offers: readonly ServerTypeOffer[];
  /** Why an offering may not be bought right now (registration backoff), or undefined. */
  blocked?: ((offer: ServerTypeOffer) => string | undefined) | undefined;
}

export interface FunnelVerdict {
  /** A REASON: ZonesExcluded, NoCompatibleInstanceTypes, InstanceTypesUnavailable or RegistrationBackoff. */
  reason: string;
  message: string;
}

export interface PoolFunnel {
  /** Offers the pool may launch, in rank order (cheapestFirst). */
  offers: ServerTypeOffer[];
  /** Zones left after the NodeClass and the pool's zone requirement. */
  zones: string[];
  /** Why `offers` is empty; undefined when it is not. */
  empty: FunnelVerdict | undefined;
}

/** At most this many values are listed in a message; the rest is counted. */
const MAX_LISTED = 12;

function list(values: Iterable<string>): string {
  const all = [...new Set(values)].sort();
  const shown = all.slice(0, MAX_LISTED).join(', ');
  return all.length > MAX_LISTED ? `${shown}, … (${all.length} in all)` : shown;
}

/** The values `key` takes among `offers` ("none" for a type without it, e.g. a CPU type's GPU name). */
function valuesOf(key: string, offers: readonly ServerTypeOffer[]): string {
  return list(offers.map((o) => instanceLabels(o)[key] ?? 'none'));
}

const meets = (r: Requirement, o: ServerTypeOffer): boolean => meetsLabels(Requirements.of(r), instanceLabels(o));

export function poolFunnel(input: PoolFunnelInput): PoolFunnel {
  const { nodePool, nodeClass, requirements } = input;
  const classZones = [...new Set(input.nodeClassZones)].sort();
  const zoneRequirement = requirements.get(LABEL_ZONE);
  const zones = classZones.filter((z) => !zoneRequirement || zoneRequirement.allows(z));
  const none = (reason: string, message: string): PoolFunnel => ({ offers: [], zones, empty: { reason, message } });
  if (zones.length === 0) {
    return none(REASON.ZonesExcluded, `NodePool ${nodePool} requires ${zoneRequirement?.toString() ?? LABEL_ZONE} but ScalewayNodeClass ${nodeClass} allows only [${classZones.join(', ')}]`);
  }
  const where = `in ${zones.length === 1 ? 'zone' : 'zones'} [${zones.join(', ')}]`;
  let left = input.offers.filter((o) => zones.includes(o.zone));
  if (left.length === 0) return none(REASON.InstanceTypesUnavailable, `the Scaleway catalog has no instance type ${where} (ScalewayNodeClass ${nodeClass}, NodePool ${nodePool})`);

  // Each requirement on its own, in order: the first one that leaves nothing is the cause.
  const applied: string[] = [];
  for (const r of requirements.list()) {
    if (r.key === LABEL_ZONE || r.key === LABEL_NODEPOOL) continue;
    const next = left.filter((o) => meets(r, o));
    if (next.length === 0) {
      const together = applied.length > 0 ? ` together with ${applied.join(', ')}` : '';
      return none(REASON.NoCompatibleInstanceTypes, `NodePool ${nodePool} requires ${r.toString()}${together}, but no instance type ${where} meets it (${r.key} there: ${valuesOf(r.key, left)})`);
    }
    if (next.length < left.length) applied.push(r.toString());
    left = next;
  }
  for (const r of requirements.list()) {
    if (!r.minValues) continue;
    const values = new Set(left.flatMap((o) => instanceLabels(o)[r.key] ?? []));
    if (values.size < r.minValues) {
      return none(REASON.NoCompatibleInstanceTypes, `NodePool ${nodePool} requires ${r.key} to have minValues ${r.minValues}, but its instance types ${where} give ${values.size} (${list(values) || 'none'})`);
    }
  }

  // Out of stock includes what a launch just found empty: the catalog the planner reads marks it so (OfferingsCatalog).
  const gone = left.flatMap((o) => { const why = notForSale(o); return why ? [{ o, why }] : []; });
  const inStock = left.filter((o) => notForSale(o) === undefined);
  if (inStock.length === 0) {
    const what = list(gone.map(({ o, why }) => `${o.commercialType} in ${o.zone} (${why})`));
    return none(REASON.InstanceTypesUnavailable, `every instance type NodePool ${nodePool} allows ${where} is unavailable: ${what}`);
  }
  const blocked = inStock.map((o) => ({ o, why: input.blocked?.(o) }));
  const open = blocked.filter((b) => b.why === undefined).map((b) => b.o);
  if (open.length === 0) {
    return none(REASON.RegistrationBackoff, `every offering NodePool ${nodePool} allows is backed off after nodes failed to register: ${list(blocked.map((b) => `${b.o.commercialType} in ${b.o.zone} ${b.why ?? ''}`.trim()))}`);
  }
  return { offers: open.sort(cheapestFirst), zones, empty: undefined };
}

/**
 * Why none of a pool's offers meets a pod's requirements (`alternative`, one
 * term of its node affinity), naming the pod requirement that left none.
 * Undefined when the requirements alone leave some (then the cause is
 * elsewhere: requests, the GPU rule).
 */
export function podRequirementsShortfall(nodePool: string, alternative: Requirements, offers: readonly ServerTypeOffer[]): string | undefined {
  let left = [...offers];
  const applied: string[] = [];
  for (const r of alternative.list()) {
    const next = left.filter((o) => meets(r, o));
    if (next.length === 0) {
      const together = applied.length > 0 ? ` together with ${applied.join(', ')}` : '';
      const what = r.key === LABEL_ZONE ? `NodePool ${nodePool} can launch only in [${list(left.map((o) => o.zone))}]` : `NodePool ${nodePool}'s instance types have ${r.key} ${valuesOf(r.key, left)}`;
      return `the pod requires ${r.toString()}${together}, but ${what}`;
    }
    if (next.length < left.length) applied.push(r.toString());
    left = next;
  }
  return undefined;
}
