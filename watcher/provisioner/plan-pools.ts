// NodePools as the planner reads them: only those on a ScalewayNodeClass, by
// weight then name (Karpenter tries NodePools in weight order), each with the
// offers it may launch (cheapest first), their allocatable after kubelet
// reservations and DaemonSet overhead, and the room its limits leave.
import { isScalewayNodeClassRef, type NodePool } from '../../kube/api/schemas.ts';
import { Requirement, Requirements } from '../../kube/api/requirements.ts';
import { LABEL_NODEPOOL, REASON } from '../../kube/api/constants.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { instanceAllocatable, instanceCapacity, instanceLabels, requestedAmounts, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { subtractResources, toAmounts } from './pod-requests.ts';
import { poolFunnel, type FunnelVerdict } from './offering-funnel.ts';
import { canonical, selectsGpuTypes } from './plan-requirements.ts';
import type { PlanNodePool } from './plan-types.ts';

export interface PreparedPool {
  pool: PlanNodePool;
  name: string;
  requirements: Requirements;
  /** Available offers the pool allows, cheapest first. */
  offers: ServerTypeOffer[];
  labels: Record<string, string>[];
  allocatable: ResourceAmounts[];
  capacity: ResourceAmounts[];
  overhead: ResourceAmounts;
  selectsGpu: boolean;
  remaining: ResourceAmounts;
  limited: boolean;
  /** Why `offers` is empty (or the pool is stopped), or undefined. */
  problem: FunnelVerdict | undefined;
}

/** A NodePool's requirements as the planner reads them: short GPU names resolved, template labels included. */
export function poolRequirements(np: NodePool): Requirements {
  return canonical(Requirements.from(np.spec.template.spec.requirements))
    .intersect(Requirements.fromLabels(np.spec.template.metadata.labels))
    .add(Requirement.of(LABEL_NODEPOOL, 'In', [np.metadata.name]));
}

/** Pools by weight (higher first), then name; only ours. */
export function preparePools(pools: readonly PlanNodePool[], offers: readonly ServerTypeOffer[]): PreparedPool[] {
  return pools
    .filter((p) => isScalewayNodeClassRef(p.nodePool.spec.template.spec.nodeClassRef))
    .sort((a, b) => (b.nodePool.spec.weight ?? 0) - (a.nodePool.spec.weight ?? 0) || a.nodePool.metadata.name.localeCompare(b.nodePool.metadata.name))
    .map((p) => preparePool(p, offers));
}

function preparePool(pool: PlanNodePool, offers: readonly ServerTypeOffer[]): PreparedPool {
  const np = pool.nodePool;
  const name = np.metadata.name;
  const requirements = poolRequirements(np);
  const funnel = poolFunnel({
    nodePool: name,
    nodeClass: pool.nodeClass ?? np.spec.template.spec.nodeClassRef.name,
    nodeClassZones: pool.zones && pool.zones.length > 0 ? pool.zones : [...new Set(offers.map((o) => o.zone))],
    requirements,
    offers,
    blocked: pool.blocked,
  });
  // A pool stopped after registration failures buys nothing, whatever its offers.
  const allowed = pool.stopped ? [] : funnel.offers;
  const problem = pool.stopped ? { reason: REASON.RegistrationStopped, message: pool.stopped } : funnel.empty;
  const overhead = toAmounts(pool.daemonSetOverhead);
  return {
    pool,
    name,
    requirements,
    offers: allowed,
    labels: allowed.map((o) => instanceLabels(o)),
    allocatable: allowed.map((o) => subtractResources(instanceAllocatable(o, pool.rootVolumeBytes, pool.kubelet), overhead)),
    capacity: allowed.map((o) => instanceCapacity(o, pool.rootVolumeBytes, pool.kubelet)),
    overhead,
    selectsGpu: selectsGpuTypes(requirements, offers),
    remaining: limitRemaining(pool),
    limited: np.spec.limits !== undefined && Object.keys(np.spec.limits).length > 0,
    problem,
  };
}

/** What the pool's limits still allow on top of its usage; unlimited where a resource has no limit. */
function limitRemaining(pool: PlanNodePool): ResourceAmounts {
  const np = pool.nodePool;
  const limits = np.spec.limits ? requestedAmounts(np.spec.limits) : undefined;
  const usage = toAmounts(pool.usage ?? np.status.resources);
  const INF = Number.POSITIVE_INFINITY;
  const has = (k: string): boolean => np.spec.limits?.[k] !== undefined;
  return {
    cpu: has('cpu') ? limits!.cpu - usage.cpu : INF,
    memory: has('memory') ? limits!.memory - usage.memory : INF,
    gpu: has('nvidia.com/gpu') ? limits!.gpu - usage.gpu : INF,
    pods: INF,
    ephemeralStorage: has('ephemeral-storage') ? limits!.ephemeralStorage - usage.ephemeralStorage : INF,
  };
}

export function withinLimit(capacity: ResourceAmounts, remaining: ResourceAmounts): boolean {
  return capacity.cpu <= remaining.cpu + 1e-9 && capacity.memory <= remaining.memory && capacity.gpu <= remaining.gpu && capacity.ephemeralStorage <= remaining.ephemeralStorage;
}

export function describeLimits(pool: PreparedPool): string {
  const l = pool.pool.nodePool.spec.limits ?? {};
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(', ');
}
