// NodePool status, as Karpenter keeps it: the resources its NodeClaims hold
// (what limits are checked against), how many nodes it has, whether its
// NodeClass is Ready, whether its nodes register (NodeRegistrationHealthy,
// with the backoff counters in an annotation: registration-health.ts), and
// whether anything could be launched at all (InstanceTypesAvailable, with the
// step that emptied the offering list: provisioner/offering-funnel.ts).
import type { KubeRest } from '../kube/rest.ts';
import { parseNodePool, isScalewayNodeClassRef, ScalewayNodeClassSchema, type NodeClaim, type NodePool, type ScalewayNodeClass } from '../kube/api/schemas.ts';
import { findCondition, setCondition, withReadyCondition, type Condition, type ConditionUpdate } from '../kube/api/conditions.ts';
import { ANNOTATION_PLANNED_OFFERING, ANNOTATION_REGISTRATION_HEALTH, CONDITION, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE, NODEPOOL_GVR, NODEPOOL_READY_DEPENDENTS, REASON } from '../kube/api/constants.ts';
import { fleetEurosPerHour, nodePoolLimit, nodePoolUsage } from '../runtime/metrics.ts';
import { clusterPath, getNodeClassRaw } from '../kube/objects.ts';
import { parseQuantity } from '../kube/quantity.ts';
import type { ServerTypeOffer } from '../scaleway/cloud.ts';
import { nodeClassZones } from '../scaleway/offerings.ts';
import { poolFunnel } from './provisioner/offering-funnel.ts';
import { poolRequirements } from './provisioner/planner.ts';
import {
  healthChanged,
  healthEpoch,
  readHealth,
  registrationCondition,
  registrationFailureOf,
  updateHealth,
  type RegistrationFailureInbox,
} from './registration-health.ts';

export interface NodePoolStatusOptions {
  /** The catalogs of these zones, for InstanceTypesAvailable; without it that condition is left as it is. */
  offers?: ((zones: readonly string[]) => Promise<readonly ServerTypeOffer[]>) | undefined;
  /** Registration failures seen on watch events and not stored yet. */
  failures?: RegistrationFailureInbox | undefined;
}

export interface NodePoolStatusResult {
  /** The registration counters changed: the NodeClass's NodeRegistrationHealthy may have to follow. */
  registrationChanged: boolean;
}

/** Sum of the NodeClaims' capacity, per resource, in Kubernetes quantity strings. */
export function poolResources(nodeClaims: readonly NodeClaim[]): Record<string, string> {
  const sums = new Map<string, number>();
  for (const nc of nodeClaims) {
    for (const [resource, value] of Object.entries(nc.status.capacity ?? {})) sums.set(resource, (sums.get(resource) ?? 0) + parseQuantity(value));
  }
  const out: Record<string, string> = {};
  for (const [resource, total] of sums) {
    out[resource] = resource === 'cpu'
      ? (Number.isInteger(total) ? String(total) : `${Math.round(total * 1000)}m`)
      : resource === 'memory' || resource === 'ephemeral-storage' ? `${Math.floor(total / 1024)}Ki` : String(Math.round(total));
  }
  return out;
}

/** The hourly price of a launched NodeClaim's server: the catalog's, else what its planned offering said. */
export function hourlyPriceOf(nodeClaim: NodeClaim, catalog: readonly ServerTypeOffer[]): number {
  const labels = nodeClaim.metadata.labels ?? {};
  const offer = catalog.find((o) => o.commercialType === labels[LABEL_INSTANCE_TYPE] && o.zone === labels[LABEL_ZONE]);
  if (offer) return offer.hourlyPriceEur;
  const planned = /€([\d.]+)\/h/.exec(nodeClaim.metadata.annotations?.[ANNOTATION_PLANNED_OFFERING] ?? '');
  return planned ? Number(planned[1]) : 0;
}

// The resource types each pool's gauges were last set for: one that went away is removed, not left stale.
const gaugedResources = new Map<string, { usage: string[]; limit: string[] }>();

/** karpenter_nodepools_usage and _limit, and what the pool's servers cost per hour. */
export function recordNodePoolMetrics(pool: NodePool, claims: readonly NodeClaim[], catalog: readonly ServerTypeOffer[]): void {
  const nodepool = pool.metadata.name;
  const usage = poolResources(claims);
  const limits = pool.spec.limits ?? {};
  forgetNodePoolMetrics(nodepool, { keepPrice: true });
  for (const [resource, value] of Object.entries(usage)) nodePoolUsage.set({ nodepool, resource_type: resource }, parseQuantity(value));
  for (const [resource, value] of Object.entries(limits)) nodePoolLimit.set({ nodepool, resource_type: resource }, parseQuantity(value));
  gaugedResources.set(nodepool, { usage: Object.keys(usage), limit: Object.keys(limits) });
  // Only servers that exist cost: a NodeClaim is billed from its launch to its deletion.
  const launched = claims.filter((c) => c.status.providerID);
  fleetEurosPerHour.set({ nodepool }, launched.reduce((sum, c) => sum + hourlyPriceOf(c, catalog), 0));
}

/** A deleted NodePool's series go with it. */
export function forgetNodePoolMetrics(nodepool: string, options: { keepPrice?: boolean } = {}): void {
  const gauged = gaugedResources.get(nodepool);
  for (const resource of gauged?.usage ?? []) nodePoolUsage.remove({ nodepool, resource_type: resource });
  for (const resource of gauged?.limit ?? []) nodePoolLimit.remove({ nodepool, resource_type: resource });
  gaugedResources.delete(nodepool);
  if (!options.keepPrice) fleetEurosPerHour.remove({ nodepool });
}

/** InstanceTypesAvailable: what the planner's offering funnel says of the pool, stock included, backoff not (NodeRegistrationHealthy says that). */
async function instanceTypesCondition(pool: NodePool, nodeClass: ScalewayNodeClass, offers: NonNullable<NodePoolStatusOptions['offers']>): Promise<ConditionUpdate | undefined> {
  const zones = nodeClassZones(nodeClass.spec.zones);
  let catalog: readonly ServerTypeOffer[];
  try {
    catalog = await offers(zones);
  } catch {
    return undefined; // An unreachable catalog proves nothing about the pool: keep what was said.
  }
  const funnel = poolFunnel({ nodePool: pool.metadata.name, nodeClass: nodeClass.metadata.name, nodeClassZones: zones, requirements: poolRequirements(pool), offers: catalog });
  return funnel.empty
    ? { type: CONDITION.InstanceTypesAvailable, status: 'False', reason: funnel.empty.reason, message: funnel.empty.message }
    : { type: CONDITION.InstanceTypesAvailable, status: 'True', reason: REASON.InstanceTypesAvailable, message: `${new Set(funnel.offers.map((o) => o.commercialType)).size} instance type(s) in [${funnel.zones.join(', ')}]` };
}

/** `nodeClaims`: typed already (the watcher's cluster state); those of other pools are left out here. */
export async function reconcileNodePoolStatus(kube: KubeRest, rawPool: unknown, nodeClaims: readonly NodeClaim[], now = new Date(), options: NodePoolStatusOptions = {}): Promise<NodePoolStatusResult> {
  const pool = parseNodePool(rawPool);
  if (!isScalewayNodeClassRef(pool.spec.template.spec.nodeClassRef)) return { registrationChanged: false };
  const name = pool.metadata.name;
  const claims: NodeClaim[] = nodeClaims.filter((nc) => nc.metadata.labels?.[LABEL_NODEPOOL] === name);
  const nodeClassName = pool.spec.template.spec.nodeClassRef.name;
  const nodeClassRaw = (await getNodeClassRaw(kube, nodeClassName)) as { metadata?: ScalewayNodeClass['metadata']; status?: { conditions?: Condition[] } } | undefined;
  const parsedClass = ScalewayNodeClassSchema.safeParse(nodeClassRaw);
  const nodeClass = parsedClass.success ? parsedClass.data : undefined;
  const classReady = findCondition(nodeClassRaw?.status?.conditions, CONDITION.Ready);
  const launchedZones = [...new Set(claims.flatMap((c) => (c.status.providerID && c.metadata.labels?.[LABEL_ZONE] ? [c.metadata.labels[LABEL_ZONE]] : [])))];
  let catalog: readonly ServerTypeOffer[] = [];
  if (options.offers && launchedZones.length > 0) {
    try {
      catalog = await options.offers(launchedZones);
    } catch {
      // Without the catalog the planned offering's price stands in.
    }
  }
  recordNodePoolMetrics(pool, claims, catalog);
  let conditions = setCondition(pool.status.conditions, { type: CONDITION.ValidationSucceeded, status: 'True', reason: REASON.ValidationSucceeded, message: '' }, now, pool.metadata.generation);
  conditions = setCondition(conditions, nodeClassRaw === undefined
    ? { type: CONDITION.NodeClassReady, status: 'False', reason: REASON.NodeClassNotFound, message: `ScalewayNodeClass ${nodeClassName} does not exist` }
    : classReady?.status === 'True'
      ? { type: CONDITION.NodeClassReady, status: 'True', reason: REASON.NodeClassReady, message: '' }
      : { type: CONDITION.NodeClassReady, status: classReady?.status === 'False' ? 'False' : 'Unknown', reason: REASON.NodeClassNotReady, message: classReady?.message ?? `ScalewayNodeClass ${nodeClassName} is not ready` }, now, pool.metadata.generation);

  // Registration health: counters first (durable, in the annotation), then the condition they give.
  let registrationChanged = false;
  if (nodeClassRaw?.metadata) {
    const failures = [...claims.flatMap((nc) => registrationFailureOf(nc) ?? []), ...(options.failures?.pending(name) ?? [])];
    const stored = pool.metadata.annotations?.[ANNOTATION_REGISTRATION_HEALTH];
    const read = readHealth(pool, healthEpoch(pool, { metadata: nodeClassRaw.metadata }), now);
    const health = updateHealth(read, failures, claims);
    // Nothing to remember for a pool that never failed: no annotation write on every pool.
    if (healthChanged(pool, health) && (stored !== undefined || health.counted.length > 0)) {
      await kube.patch(clusterPath(NODEPOOL_GVR, name), { metadata: { annotations: { [ANNOTATION_REGISTRATION_HEALTH]: JSON.stringify(health) } } });
      registrationChanged = true;
    }
    // Forget only what the watched NodePool already holds: a write the cache has not caught up with could still be lost.
    options.failures?.settle(name, read);
    const before = findCondition(pool.status.conditions, CONDITION.NodeRegistrationHealthy);
    const update = registrationCondition(name, nodeClassName, health, claims, now);
    if (before?.status !== update.status || before.reason !== update.reason) registrationChanged = true;
    conditions = setCondition(conditions, update, now, pool.metadata.generation);
  }
  if (options.offers && nodeClass && classReady?.status === 'True') {
    const update = await instanceTypesCondition(pool, nodeClass, options.offers);
    if (update) conditions = setCondition(conditions, update, now, pool.metadata.generation);
  }

  conditions = withReadyCondition(conditions, now, pool.metadata.generation, NODEPOOL_READY_DEPENDENTS);
  const status = {
    resources: poolResources(claims),
    nodes: claims.filter((c) => c.status.nodeName).length,
    ...(nodeClassRaw?.metadata?.generation !== undefined ? { nodeClassObservedGeneration: nodeClassRaw.metadata.generation } : {}),
    conditions,
  };
  const before = JSON.stringify({
    resources: pool.status.resources ?? {},
    nodes: pool.status.nodes ?? 0,
    ...(pool.status.nodeClassObservedGeneration !== undefined ? { nodeClassObservedGeneration: pool.status.nodeClassObservedGeneration } : {}),
    conditions: pool.status.conditions,
  });
  if (before !== JSON.stringify(status)) await kube.patch(`${clusterPath(NODEPOOL_GVR, name)}/status`, { status });
  return { registrationChanged };
}
