// The provisioner's decision, with no I/O: which pending pods fit on capacity
// that exists or is already coming, and which new NodeClaims (NodePool, fallback
// types in price order, requests) to create for the rest at the least €/hour —
// or why a pod cannot be placed. Semantics follow Karpenter v1's scheduler
// (pkg/controllers/provisioning/scheduling): NodePools by weight, taints and
// requirements decide eligibility, a NodeClaim narrows its instance types as
// pods join it, limits count the capacity being launched.
import { createHash } from 'node:crypto';
import type { Pod, Toleration } from '../../kube/api/core.ts';
import { untoleratedTaints } from '../../kube/api/core.ts';
import { isScalewayNodeClassRef, type NodeClaim, type NodePool } from '../../kube/api/schemas.ts';
import {
  Requirement,
  Requirements,
  restrictedLabelError,
  SCHEDULING_WELL_KNOWN_LABELS,
  type NodeSelectorRequirement,
  type NodeSelectorRequirementLike,
} from '../../kube/api/requirements.ts';
import {
  LABEL_CAPACITY_TYPE,
  LABEL_INSTANCE_FAMILY,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_MANUFACTURER,
  LABEL_INSTANCE_GPU_MEMORY,
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_TYPE,
  LABEL_NODEPOOL,
  LABEL_ZONE,
  CAPACITY_TYPE_ON_DEMAND,
  REASON,
} from '../../kube/api/constants.ts';

/** Why a NodeClaim may not carry this key (as a requirement or label), or undefined. */
const restrictedLabelErrorFor = (key: string): string | undefined => restrictedLabelError(key, 'NodeClaim');
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import type { KubeletSettings } from '../../scaleway/kubelet-reservations.ts';
import { canonicalLabelValue, fits, instanceAllocatable, instanceCapacity, instanceLabels, labelMismatch, requestedAmounts, toResourceList, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { canonicalGpuName } from '../../scaleway/gpu-names.ts';
import { addResources, maxResources, NO_RESOURCES, podRequests, subtractResources, toAmounts } from './pod-requests.ts';
import { antiAffinityConflict, matchesSelector, podConstraints, type AntiAffinityTerm, type ZoneSpread } from './plan-constraints.ts';
import { pack, type PackOffer, type PackProblem, type PackResult } from './packing.ts';
import { podRequirementsShortfall, poolFunnel, type FunnelVerdict } from './offering-funnel.ts';

type ResourceInput = Readonly<Record<string, string | number>> | ResourceAmounts;

export interface PlanNodePool {
  /** A NodePool whose nodeClassRef is a ScalewayNodeClass (others are skipped). */
  nodePool: NodePool;
  /** Zones its NodeClass allows; every zone of the offers when undefined. */
  zones?: readonly string[] | undefined;
  /** Requests of the DaemonSet pods that would land on a new node of this pool. */
  daemonSetOverhead?: ResourceInput | undefined;
  /** Root volume size of its NodeClass (ephemeral-storage capacity). */
  rootVolumeBytes: number;
  /** Its NodeClass's `kubelet` settings (maxPods, reservations, eviction thresholds). */
  kubelet?: KubeletSettings | undefined;
  /** Capacity the pool already has, counted against `limits`; defaults to `status.resources`. */
  usage?: ResourceInput | undefined;
  /** Its NodeClass's name, for messages; the nodeClassRef's by default. */
  nodeClass?: string | undefined;
  /** Why an offering may not be bought now (registration backoff), or undefined. */
  blocked?: ((offer: ServerTypeOffer) => string | undefined) | undefined;
  /** Why the pool buys nothing at all now (stopped after registration failures), or undefined. */
  stopped?: string | undefined;
}

/** Labels and namespace of a pod already on (or nominated to) existing capacity. */
export interface PodLabels {
  namespace: string;
  labels: Record<string, string>;
}

/** Room that already exists (a Node) or is coming (a NodeClaim still launching). */
export interface ExistingCapacity {
  kind: 'Node' | 'NodeClaim';
  name: string;
  nodePool?: string | undefined;
  /** A Node's labels; for a NodeClaim, the labels its requirements fix. */
  labels: Record<string, string>;
  /** A NodeClaim's spec requirements (a Node is matched on its labels). */
  requirements?: readonly NodeSelectorRequirementLike[] | undefined;
  /** Taints that keep pods off (for a NodeClaim, spec.taints; startup and ephemeral taints excluded). */
  taints: readonly { key: string; value?: string | undefined; effect: string }[];
  /** Allocatable minus what pods bound or nominated there request. */
  available: ResourceInput;
  /** Pods already there, for anti-affinity and zone spread. */
  pods?: readonly PodLabels[] | undefined;
}

export interface PlanInput {
  /** Pending pods the scheduler marked unschedulable. */
  pods: readonly Pod[];
  nodePools: readonly PlanNodePool[];
  /** Offers per zone; end-of-service and `shortage` offers are skipped here. */
  offers: readonly ServerTypeOffer[];
  existing?: readonly ExistingCapacity[] | undefined;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid?: string | undefined;
}

export interface PlannedOffering {
  commercialType: string;
  zone: string;
  hourlyPriceEur: number;
}

export interface PlannedNodeClaim {
  /** Deterministic: the pool and a hash of the pods, so replanning the same pods names the same NodeClaim. */
  name: string;
  nodePool: string;
  requirements: NodeSelectorRequirement[];
  labels: Record<string, string>;
  taints: NodePool['spec']['template']['spec']['taints'];
  startupTaints: NodePool['spec']['template']['spec']['startupTaints'];
  resources: { requests: Record<string, string> };
  pods: PodRef[];
  /** The cheapest offering that holds the pods (what limits were counted with). */
  offering: PlannedOffering;
  hourlyPriceEur: number;
  /** Every offering that holds the pods, cheapest first (the workflow's fallbacks). */
  offerings: PlannedOffering[];
}

export interface PodError {
  pod: PodRef;
  reason: string;
}

export interface Nomination {
  pod: PodRef;
  kind: 'Node' | 'NodeClaim';
  /** The existing Node or NodeClaim, or a NodeClaim of this plan. */
  name: string;
  planned: boolean;
}

export interface LimitEvent {
  nodePool: string;
  message: string;
}

/** A NodePool that had pods to place but nothing it could launch, and why. */
export interface PoolProblem {
  nodePool: string;
  reason: string;
  message: string;
}

export interface Plan {
  nodeClaims: PlannedNodeClaim[];
  podErrors: PodError[];
  nominations: Nomination[];
  limitEvents: LimitEvent[];
  poolProblems: PoolProblem[];
  /** Sum of the planned NodeClaims' cheapest offerings. */
  hourlyPriceEur: number;
}

export interface PlanOptions {
  /** The packing solver; the exact one (optimum.ts) for benchmarks. */
  solver?: (problem: PackProblem) => PackResult;
}

// ---- Preparation -------------------------------------------------------------------

/** Keys whose presence in a NodePool's requirements selects GPU types on purpose. */
const GPU_SELECTING_KEYS = [LABEL_INSTANCE_GPU_NAME, LABEL_INSTANCE_GPU_COUNT, LABEL_INSTANCE_GPU_MANUFACTURER, LABEL_INSTANCE_GPU_MEMORY];

/** GPU short names (`l4`, `h100`) to label values and the seed's `scaleway-gpu` to on-demand, as nodes are labelled. */
function canonical(requirements: Requirements): Requirements {
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
function gpuNameHint(requirements: Requirements): string {
  const gpu = requirements.get(LABEL_INSTANCE_GPU_NAME);
  if (!gpu || gpu.complement) return '';
  const renamed = [...gpu.values].filter((v) => canonicalGpuName(v) !== v).map((v) => `${canonicalGpuName(v)} (not ${v})`);
  return renamed.length > 0 ? `; nodes are labelled ${LABEL_INSTANCE_GPU_NAME}=${renamed.join(', ')}, or select karpenter.sh/instance-type with the short name` : '';
}

function podRef(pod: Pod): PodRef {
  return { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) };
}

const refKey = (r: PodRef): string => `${r.namespace}/${r.name}`;

interface PreparedPod {
  index: number;
  pod: Pod;
  ref: PodRef;
  key: string;
  namespace: string;
  labels: Record<string, string>;
  requests: ResourceAmounts;
  alternatives: Requirements[];
  tolerations: readonly Toleration[];
  antiAffinity: AntiAffinityTerm[];
  zoneSpread: ZoneSpread | undefined;
  /** Whether the pod's own requirements select GPU types (then GPU offers are fine without a GPU request). */
  selectsGpu: boolean;
}

interface PreparedPool {
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

function selectsGpuTypes(requirements: Requirements, offers: readonly ServerTypeOffer[]): boolean {
  if (GPU_SELECTING_KEYS.some((k) => requirements.has(k))) return true;
  for (const key of [LABEL_INSTANCE_TYPE, LABEL_INSTANCE_FAMILY]) {
    const r = requirements.get(key);
    if (!r || r.complement) continue;
    if (offers.some((o) => o.gpuCount > 0 && r.has(instanceLabels(o)[key] ?? ''))) return true;
  }
  return false;
}

/** A NodePool's requirements as the planner reads them: short GPU names resolved, template labels included. */
export function poolRequirements(np: NodePool): Requirements {
  return canonical(Requirements.from(np.spec.template.spec.requirements))
    .intersect(Requirements.fromLabels(np.spec.template.metadata.labels))
    .add(Requirement.of(LABEL_NODEPOOL, 'In', [np.metadata.name]));
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
  const limits = np.spec.limits ? requestedAmounts(np.spec.limits) : undefined;
  const usage = toAmounts(pool.usage ?? np.status.resources);
  const INF = Number.POSITIVE_INFINITY;
  const has = (k: string): boolean => np.spec.limits?.[k] !== undefined;
  const remaining: ResourceAmounts = {
    cpu: has('cpu') ? limits!.cpu - usage.cpu : INF,
    memory: has('memory') ? limits!.memory - usage.memory : INF,
    gpu: has('nvidia.com/gpu') ? limits!.gpu - usage.gpu : INF,
    pods: INF,
    ephemeralStorage: has('ephemeral-storage') ? limits!.ephemeralStorage - usage.ephemeralStorage : INF,
  };
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
    remaining,
    limited: np.spec.limits !== undefined && Object.keys(np.spec.limits).length > 0,
    problem,
  };
}

function describeTaint(t: { key: string; value?: string | undefined; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

function hashOf(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 8);
}

function withinLimit(capacity: ResourceAmounts, remaining: ResourceAmounts): boolean {
  return capacity.cpu <= remaining.cpu + 1e-9 && capacity.memory <= remaining.memory && capacity.gpu <= remaining.gpu && capacity.ephemeralStorage <= remaining.ephemeralStorage;
}

function describeLimits(pool: PreparedPool): string {
  const l = pool.pool.nodePool.spec.limits ?? {};
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(', ');
}

// ---- Existing capacity ---------------------------------------------------------------

interface ExistingState {
  entry: ExistingCapacity;
  available: ResourceAmounts;
  requirements: Requirements | undefined;
  /** A launching NodeClaim's possible offers (all must satisfy a pod), when known. */
  candidates: Record<string, string>[] | undefined;
  pods: PodLabels[];
  /** Anti-affinity terms of pods nominated here by this plan. */
  terms: { namespace: string; labels: Record<string, string>; terms: AntiAffinityTerm[] }[];
  zone: string | undefined;
}

function existingAccepts(state: ExistingState, pod: PreparedPod): string | undefined {
  if (untoleratedTaints(pod.tolerations, state.entry.taints).length > 0) return 'taint';
  if (!fits(pod.requests, state.available)) return 'room';
  const labelsOk = pod.alternatives.some((alt) => {
    if (!state.requirements) return alt.matchesLabels(state.entry.labels);
    if (state.requirements.incompatibilities(alt, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS }).length > 0) return false;
    // Every type the NodeClaim may still become must satisfy the pod; unknown types: its requirements must pin each key.
    if (state.candidates && state.candidates.length > 0) return state.candidates.every((labels) => labelMismatch(alt, labels) === undefined);
    return alt.list().every((r) => {
      const have = state.requirements!.get(r.key);
      return have !== undefined && !have.complement && have.values.size > 0 && [...have.values].every((v) => r.has(v));
    });
  });
  if (!labelsOk) return 'labels';
  const me = { namespace: pod.namespace, labels: pod.labels, terms: pod.antiAffinity };
  if (pod.antiAffinity.length > 0 && state.pods.some((p) => antiAffinityConflict(me, { ...p, terms: [] }))) return 'anti-affinity';
  if (state.terms.some((t) => antiAffinityConflict(me, t))) return 'anti-affinity';
  return undefined;
}

/** A Node as existing capacity: allocatable minus the requests of the pods bound to it. */
export function existingFromNode(node: { metadata: { name: string; labels?: Record<string, string> | undefined }; spec: { taints: readonly { key: string; value?: string | undefined; effect: string }[]; unschedulable?: boolean | undefined }; status: { allocatable: Record<string, string> } }, boundPods: readonly Pod[]): ExistingCapacity {
  let used = NO_RESOURCES;
  for (const p of boundPods) used = addResources(used, podRequests(p));
  const labels = node.metadata.labels ?? {};
  // An unschedulable (cordoned) node takes nothing.
  const available = node.spec.unschedulable ? NO_RESOURCES : subtractResources(requestedAmounts(node.status.allocatable), used);
  return {
    kind: 'Node',
    name: node.metadata.name,
    nodePool: labels[LABEL_NODEPOOL],
    labels,
    taints: node.spec.taints.filter((t) => !EPHEMERAL_TAINTS.has(t.key) && !t.key.startsWith('readiness.k8s.io/')),
    available,
    pods: boundPods.map((p) => ({ namespace: p.metadata.namespace ?? 'default', labels: p.metadata.labels ?? {} })),
  };
}

const EPHEMERAL_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'node.cloudprovider.kubernetes.io/uninitialized', 'karpenter.sh/unregistered']);

/**
 * A NodeClaim still launching as existing capacity: the allocatable of the
 * smallest type it may become (or its status.allocatable once known) minus
 * its requested resources (which already hold its pods and DaemonSet overhead)
 * and the requests of pods nominated to it since.
 */
export function existingFromNodeClaim(nodeClaim: NodeClaim, options: {
  offers: readonly ServerTypeOffer[];
  rootVolumeBytes: number;
  kubelet?: KubeletSettings | undefined;
  nominatedPods?: readonly Pod[] | undefined;
  /**
   * Pods the NodeClaim was made for that the scheduler bound to another node
   * meanwhile: the room they were counted in is free again. (In a burst, the
   * first node up takes whichever pods come first, not its own.)
   */
  departedPods?: readonly Pod[] | undefined;
}): ExistingCapacity {
  const requirements = canonical(Requirements.from(nodeClaim.spec.requirements));
  const candidates = options.offers.filter((o) => labelMismatch(requirements, instanceLabels(o)) === undefined);
  let allocatable: ResourceAmounts;
  if (nodeClaim.status.allocatable) allocatable = requestedAmounts(nodeClaim.status.allocatable);
  else if (candidates.length === 0) allocatable = NO_RESOURCES;
  else {
    const all = candidates.map((o) => instanceAllocatable(o, options.rootVolumeBytes, options.kubelet));
    allocatable = all.reduce((m, a) => ({ cpu: Math.min(m.cpu, a.cpu), memory: Math.min(m.memory, a.memory), gpu: Math.min(m.gpu, a.gpu), pods: Math.min(m.pods, a.pods), ephemeralStorage: Math.min(m.ephemeralStorage, a.ephemeralStorage) }));
  }
  let used = requestedAmounts(nodeClaim.spec.resources.requests);
  for (const p of options.nominatedPods ?? []) used = addResources(used, podRequests(p));
  for (const p of options.departedPods ?? []) used = maxResources(NO_RESOURCES, subtractResources(used, podRequests(p)));
  const labels = { ...requirements.singleValuedLabels(), ...(nodeClaim.metadata.labels ?? {}) };
  return {
    kind: 'NodeClaim',
    name: nodeClaim.metadata.name,
    nodePool: nodeClaim.metadata.labels?.[LABEL_NODEPOOL],
    labels,
    requirements: nodeClaim.spec.requirements,
    taints: nodeClaim.spec.taints,
    available: subtractResources(allocatable, used),
    pods: (options.nominatedPods ?? []).map((p) => ({ namespace: p.metadata.namespace ?? 'default', labels: p.metadata.labels ?? {} })),
  };
}

// ---- The plan -------------------------------------------------------------------------

export function plan(input: PlanInput, options: PlanOptions = {}): Plan {
  const solver = options.solver ?? pack;
  const podErrors: PodError[] = [];
  const nominations: Nomination[] = [];
  const limitEvents = new Map<string, string>();

  // Pools by weight (higher first), then name; only ours.
  const pools = input.nodePools
    .filter((p) => isScalewayNodeClassRef(p.nodePool.spec.template.spec.nodeClassRef))
    .sort((a, b) => (b.nodePool.spec.weight ?? 0) - (a.nodePool.spec.weight ?? 0) || a.nodePool.metadata.name.localeCompare(b.nodePool.metadata.name))
    .map((p) => preparePool(p, input.offers));

  // Pods in a stable order, read once.
  const sortedPods = [...input.pods].sort((a, b) => refKey(podRef(a)).localeCompare(refKey(podRef(b))));
  const seen = new Set<string>();
  const prepared: PreparedPod[] = [];
  for (const pod of sortedPods) {
    const ref = podRef(pod);
    const key = refKey(ref);
    if (seen.has(key)) continue;
    seen.add(key);
    const constraints = podConstraints(pod);
    if (constraints.unsupported) {
      podErrors.push({ pod: ref, reason: `pod ${key} uses constraints the Scaleway provisioner does not support yet: ${constraints.unsupported}; no node was planned for it` });
      continue;
    }
    let alternatives: Requirements[];
    let requests: ResourceAmounts;
    try {
      // As written: the scheduler matches node labels literally, so a pod's `h100` must not plan an `h100-pcie` node it would never land on.
      alternatives = Requirements.podAlternatives(pod);
      requests = podRequests(pod);
    } catch (err) {
      podErrors.push({ pod: ref, reason: `reading pod ${key}: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (alternatives.length === 0) {
      podErrors.push({ pod: ref, reason: `pod ${key} is pinned to existing nodes by matchFields node affinity; a new node cannot satisfy it` });
      continue;
    }
    prepared.push({
      index: prepared.length,
      pod,
      ref,
      key,
      namespace: ref.namespace,
      labels: pod.metadata.labels ?? {},
      requests,
      alternatives,
      tolerations: pod.spec.tolerations,
      antiAffinity: constraints.antiAffinity,
      zoneSpread: constraints.zoneSpread,
      selectsGpu: alternatives.some((a) => GPU_SELECTING_KEYS.some((k) => a.has(k))),
    });
  }

  // Zone spread bookkeeping: matching pods per zone, from existing capacity and from this plan.
  const spreadCounts = new Map<string, Map<string, number>>();
  const zoneOfEntry = (e: ExistingCapacity): string | undefined => e.labels[LABEL_ZONE];
  const allZones = new Set<string>();
  for (const p of pools) for (const o of p.offers) allZones.add(o.zone);
  for (const e of input.existing ?? []) {
    const z = zoneOfEntry(e);
    if (z) allZones.add(z);
  }
  const countsFor = (s: ZoneSpread): Map<string, number> => {
    let m = spreadCounts.get(s.key);
    if (!m) {
      m = new Map();
      for (const e of input.existing ?? []) {
        const z = zoneOfEntry(e);
        if (!z) continue;
        const n = (e.pods ?? []).filter((p) => p.namespace === s.namespace && matchesSelector(s.selector, p.labels)).length;
        m.set(z, (m.get(z) ?? 0) + n);
      }
      spreadCounts.set(s.key, m);
    }
    return m;
  };
  const spreadAllows = (s: ZoneSpread, zone: string, domain: Iterable<string>): boolean => {
    const counts = countsFor(s);
    let min = Number.POSITIVE_INFINITY;
    for (const z of domain) min = Math.min(min, counts.get(z) ?? 0);
    if (!Number.isFinite(min)) min = 0;
    return (counts.get(zone) ?? 0) + 1 - min <= s.maxSkew;
  };
  const countSpread = (pod: PreparedPod, zone: string): void => {
    if (!pod.zoneSpread) return;
    const counts = countsFor(pod.zoneSpread);
    counts.set(zone, (counts.get(zone) ?? 0) + 1);
  };

  // 1. Room that exists or is coming: Nodes first, then launching NodeClaims, by name.
  const existing: ExistingState[] = [...(input.existing ?? [])]
    .sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'Node' ? -1 : 1))
    .map((entry) => {
      const requirements = entry.kind === 'NodeClaim' && entry.requirements ? canonical(Requirements.from(entry.requirements)) : undefined;
      const candidates = requirements ? input.offers.filter((o) => labelMismatch(requirements, instanceLabels(o)) === undefined).map((o) => instanceLabels(o)) : undefined;
      return { entry, available: toAmounts(entry.available), requirements, candidates, pods: [...(entry.pods ?? [])], terms: [], zone: zoneOfEntry(entry) };
    });
  const bigFirst = [...prepared].sort((a, b) => b.requests.gpu - a.requests.gpu || b.requests.cpu - a.requests.cpu || b.requests.memory - a.requests.memory || a.index - b.index);
  const pending: PreparedPod[] = [];
  for (const pod of bigFirst) {
    const target = existing.find((s) => existingAccepts(s, pod) === undefined && (!pod.zoneSpread || (s.zone !== undefined && spreadAllows(pod.zoneSpread, s.zone, allZones))));
    if (!target) {
      pending.push(pod);
      continue;
    }
    target.available = subtractResources(target.available, pod.requests);
    target.pods.push({ namespace: pod.namespace, labels: pod.labels });
    target.terms.push({ namespace: pod.namespace, labels: pod.labels, terms: pod.antiAffinity });
    if (target.zone) countSpread(pod, target.zone);
    nominations.push({ pod: pod.ref, kind: target.entry.kind, name: target.entry.name, planned: false });
  }
  pending.sort((a, b) => a.index - b.index);

  // 2. New NodeClaims, pool by pool; pods a pool cannot take (or has no room left for) move on to the next.
  const reasons = new Map<number, string[]>();
  const note = (pod: PreparedPod, why: string): void => {
    const list = reasons.get(pod.index) ?? [];
    list.push(why);
    reasons.set(pod.index, list);
  };
  const nodeClaims: PlannedNodeClaim[] = [];
  const poolProblems = new Map<string, PoolProblem>();
  let left = pending;
  for (const pool of pools) {
    if (left.length === 0) break;
    const takers: { pod: PreparedPod; requirements: Requirements; mask: Uint8Array }[] = [];
    const rest: PreparedPod[] = [];
    for (const pod of left) {
      if (pool.problem) {
        // Nothing to launch in this pool for anyone: its own cause, not the pod's requirements.
        note(pod, pool.problem.message);
        poolProblems.set(pool.name, { nodePool: pool.name, ...pool.problem });
        rest.push(pod);
        continue;
      }
      const untolerated = untoleratedTaints(pod.tolerations, pool.pool.nodePool.spec.template.spec.taints);
      if (untolerated.length > 0) {
        note(pod, `NodePool ${pool.name}: taint ${untolerated.map(describeTaint).join(', ')} not tolerated`);
        rest.push(pod);
        continue;
      }
      let chosen: { requirements: Requirements; mask: Uint8Array } | undefined;
      const why: string[] = [];
      for (const alt of pod.alternatives) {
        const conflicts = pool.requirements.incompatibilities(alt, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS });
        if (conflicts.length > 0) {
          why.push(`requirement conflict: ${conflicts.join('; ')}`);
          continue;
        }
        const gpuOk = pod.requests.gpu > 0 || pool.selectsGpu || pod.selectsGpu;
        const mask = new Uint8Array(pool.offers.length);
        let any = false;
        let labelled = 0;
        for (let o = 0; o < pool.offers.length; o++) {
          if (labelMismatch(alt, pool.labels[o]!) !== undefined) continue;
          if (!gpuOk && pool.offers[o]!.gpuCount > 0) continue;
          labelled++;
          if (!fits(pod.requests, pool.allocatable[o]!)) continue;
          mask[o] = 1;
          any = true;
        }
        if (any) {
          chosen = { requirements: pool.requirements.intersect(alt), mask };
          break;
        }
        why.push(labelled === 0
          ? noTypeForPod(pool, alt, gpuOk)
          : `no instance type fits requests ${describeRequests(pod.requests)} after kubelet reservations and DaemonSet overhead (${labelled} types considered; the largest have ${describeRequests(largest(pool, alt, gpuOk))} allocatable)`);
      }
      if (!chosen) {
        note(pod, `NodePool ${pool.name}: ${why.join(' / ')}`);
        rest.push(pod);
        continue;
      }
      takers.push({ pod, ...chosen });
    }

    // Zone spread: each spread pod is pinned to the least-loaded zone it can use in this pool.
    const kept: typeof takers = [];
    for (const t of takers) {
      const spread = t.pod.zoneSpread;
      if (!spread) {
        kept.push(t);
        continue;
      }
      const zones = [...new Set(pool.offers.filter((_, o) => t.mask[o] === 1).map((o) => o.zone))].sort();
      const counts = countsFor(spread);
      const domain = new Set([...zones, ...[...allZones].filter((z) => t.requirements.allows(LABEL_ZONE, z))]);
      const zone = [...zones].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b)).find((z) => spreadAllows(spread, z, domain));
      if (!zone) {
        note(t.pod, `NodePool ${pool.name}: cannot honour topology spread on ${LABEL_ZONE} (maxSkew ${spread.maxSkew}) with the zones it offers (${zones.join(', ')})`);
        rest.push(t.pod);
        continue;
      }
      countSpread(t.pod, zone);
      const mask = t.mask.map((m, o) => (m === 1 && pool.offers[o]!.zone === zone ? 1 : 0));
      kept.push({ pod: t.pod, requirements: t.requirements.add(Requirement.of(LABEL_ZONE, 'In', [zone])), mask });
    }

    const placed = packPool(pool, kept, solver, limitEvents);
    for (const nc of placed.nodeClaims) {
      nodeClaims.push(nc);
      for (const ref of nc.pods) nominations.push({ pod: ref, kind: 'NodeClaim', name: nc.name, planned: true });
    }
    for (const t of placed.overLimit) note(t.pod, `NodePool ${pool.name}: limit reached (${describeLimits(pool)}; no room for ${describeRequests(t.pod.requests)} more)`);
    for (const u of placed.unmet) note(u.taker.pod, `NodePool ${pool.name}: ${u.reason}`);
    left = [...rest, ...placed.overLimit.map((t) => t.pod), ...placed.unmet.map((u) => u.taker.pod)].sort((a, b) => a.index - b.index);
  }
  for (const pod of left) {
    const why = reasons.get(pod.index) ?? [];
    const reason = pools.length === 0
      ? `no NodePool with a ScalewayNodeClass can run pod ${pod.key}`
      : `no NodePool can run pod ${pod.key}: ${why.length > 0 ? why.join('; ') : 'no NodePool left'}`;
    podErrors.push({ pod: pod.ref, reason });
  }

  nodeClaims.sort((a, b) => a.nodePool.localeCompare(b.nodePool) || refKey(a.pods[0]!).localeCompare(refKey(b.pods[0]!)));
  const order = new Map(prepared.map((p) => [p.key, p.index]));
  const byPod = (a: { pod: PodRef }, b: { pod: PodRef }): number => (order.get(refKey(a.pod)) ?? -1) - (order.get(refKey(b.pod)) ?? -1) || refKey(a.pod).localeCompare(refKey(b.pod));
  nominations.sort(byPod);
  podErrors.sort(byPod);
  return {
    nodeClaims,
    podErrors,
    nominations,
    limitEvents: [...limitEvents.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([nodePool, message]) => ({ nodePool, message })),
    poolProblems: [...poolProblems.values()].sort((a, b) => a.nodePool.localeCompare(b.nodePool)),
    hourlyPriceEur: nodeClaims.reduce((s, n) => s + n.hourlyPriceEur, 0),
  };
}

/** Why no offer of the pool meets a pod's requirements: the pod requirement that left none, or the GPU rule. */
function noTypeForPod(pool: PreparedPool, alt: Requirements, gpuOk: boolean): string {
  const shortfall = podRequirementsShortfall(pool.name, alt, pool.offers);
  if (shortfall) return `${shortfall}${gpuNameHint(alt)}`;
  if (!gpuOk) return `every instance type that meets ${alt.size > 0 ? alt.toString() : 'its requirements'} has GPUs, and GPU types are only offered to pods that request nvidia.com/gpu (or NodePools that select GPU types)`;
  return `no available instance type meets ${alt.size > 0 ? alt.toString() : 'its requirements'}${gpuNameHint(alt)}`;
}

/** Per resource, the most any of the pool's offers that meet `alt` has allocatable. */
function largest(pool: PreparedPool, alt: Requirements, gpuOk: boolean): ResourceAmounts {
  let max = NO_RESOURCES;
  for (let o = 0; o < pool.offers.length; o++) {
    if (labelMismatch(alt, pool.labels[o]!) !== undefined || (!gpuOk && pool.offers[o]!.gpuCount > 0)) continue;
    max = maxResources(max, pool.allocatable[o]!);
  }
  return max;
}

function describeRequests(r: ResourceAmounts): string {
  const parts = [`cpu=${Math.round(r.cpu * 1000)}m`, `memory=${Math.round(r.memory / 2 ** 20)}Mi`];
  if (r.gpu > 0) parts.push(`nvidia.com/gpu=${r.gpu}`);
  if (r.ephemeralStorage > 0) parts.push(`ephemeral-storage=${Math.round(r.ephemeralStorage / 2 ** 20)}Mi`);
  return parts.join(', ');
}

interface Taker {
  pod: PreparedPod;
  requirements: Requirements;
  mask: Uint8Array;
}

/**
 * Packs one pool's pods, keeping within its limits: each round packs with the
 * offers that still fit the remaining limit, accepts NodeClaims while their
 * cheapest offering's capacity fits, and repacks the rest with what is left.
 */
/**
 * Why a NodeClaim over these offerings would break a NodePool requirement's
 * `minValues` (at least that many distinct values of its key among the
 * instance types it may launch as), or undefined when none is broken.
 */
function minValuesShortfall(pool: PreparedPool, offerIdx: readonly number[]): string | undefined {
  for (const r of pool.requirements.list()) {
    if (!r.minValues) continue;
    const values = new Set(offerIdx.flatMap((o) => pool.labels[o]?.[r.key] ?? []));
    if (values.size < r.minValues) {
      return `requirement ${r.key} has minValues ${r.minValues} but the instance types that fit its pods give ${values.size} (${[...values].sort().join(', ') || 'none'})`;
    }
  }
  return undefined;
}

function packPool(pool: PreparedPool, takers: Taker[], solver: (p: PackProblem) => PackResult, limitEvents: Map<string, string>): { nodeClaims: PlannedNodeClaim[]; overLimit: Taker[]; unmet: { taker: Taker; reason: string }[] } {
  const unmet: { taker: Taker; reason: string }[] = [];
  const nodeClaims: PlannedNodeClaim[] = [];
  let remaining = pool.remaining;
  let todo = takers;
  const compatCache = new Map<string, boolean>();
  const reqKey = takers.map((t) => t.requirements.toString());
  const indexOf = new Map(takers.map((t, i) => [t, i]));
  while (todo.length > 0) {
    const allowed = pool.offers.map((_, o) => withinLimit(pool.capacity[o]!, remaining));
    const packOffers: PackOffer[] = pool.offers.map((o, i) => ({ price: o.hourlyPriceEur, allocatable: pool.allocatable[i]! }));
    const items = todo.map((t) => ({ requests: t.pod.requests, mask: t.mask.map((m, o) => (m === 1 && allowed[o] ? 1 : 0)) }));
    const current = todo;
    const problem: PackProblem = {
      offers: packOffers,
      items,
      compatible: (a, b) => {
        const ta = current[a]!;
        const tb = current[b]!;
        if (antiAffinityConflict({ namespace: ta.pod.namespace, labels: ta.pod.labels, terms: ta.pod.antiAffinity }, { namespace: tb.pod.namespace, labels: tb.pod.labels, terms: tb.pod.antiAffinity })) return false;
        const ka = reqKey[indexOf.get(ta)!]!;
        const kb = reqKey[indexOf.get(tb)!]!;
        if (ka === kb) return true;
        const cacheKey = ka < kb ? `${ka}\u0000${kb}` : `${kb}\u0000${ka}`;
        let ok = compatCache.get(cacheKey);
        if (ok === undefined) {
          ok = ta.requirements.isCompatible(tb.requirements, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS });
          compatCache.set(cacheKey, ok);
        }
        return ok;
      },
    };
    const result = solver(problem);
    const accepted: number[][] = [];
    let stopped = false;
    for (const bin of result.bins) {
      const cap = pool.capacity[bin.offers[0]!]!;
      if (!withinLimit(cap, remaining)) {
        stopped = true;
        continue;
      }
      const fallback = bin.offers.filter((o) => withinLimit(pool.capacity[o]!, remaining));
      const shortfall = minValuesShortfall(pool, fallback);
      if (shortfall) {
        // Strict, as Karpenter's default minValuesPolicy: no NodeClaim with less flexibility than asked for.
        for (const i of bin.items) unmet.push({ taker: current[i]!, reason: shortfall });
        accepted.push(bin.items);
        continue;
      }
      remaining = subtractResources(remaining, { ...cap, pods: 0 });
      nodeClaims.push(buildNodeClaim(pool, bin.items.map((i) => current[i]!), fallback));
      accepted.push(bin.items);
    }
    const unplaced = result.unplaced.map((i) => current[i]!);
    if (unplaced.length > 0 || stopped) {
      limitEvents.set(pool.name, `NodePool ${pool.name} reached its limits (${describeLimits(pool)}): ${unplaced.length + (stopped ? result.bins.filter((b) => !accepted.includes(b.items)).reduce((n, b) => n + b.items.length, 0) : 0)} pod(s) left without a node`);
    }
    if (!stopped) return { nodeClaims, overLimit: unplaced, unmet };
    const done = new Set(accepted.flat());
    const next = current.filter((_, i) => !done.has(i));
    if (accepted.length === 0) return { nodeClaims, overLimit: next, unmet };
    todo = next;
  }
  return { nodeClaims, overLimit: [], unmet };
}

function buildNodeClaim(pool: PreparedPool, members: Taker[], offerIdx: number[]): PlannedNodeClaim {
  let requirements = pool.requirements;
  let requests = pool.overhead;
  for (const m of members) {
    requirements = requirements.intersect(m.requirements);
    requests = addResources(requests, m.pod.requests);
  }
  const offerings = offerIdx.map((o) => pool.offers[o]!).map((o) => ({ commercialType: o.commercialType, zone: o.zone, hourlyPriceEur: o.hourlyPriceEur }));
  const types: string[] = [];
  const zones: string[] = [];
  for (const o of offerings) {
    if (!types.includes(o.commercialType)) types.push(o.commercialType);
    if (!zones.includes(o.zone)) zones.push(o.zone);
  }
  zones.sort();
  const capacityType = requirements.get(LABEL_CAPACITY_TYPE);
  const nodeSelector: NodeSelectorRequirement[] = [
    ...requirements.toNodeSelectorRequirements({ forNodeClaim: true }).filter((r) => r.key !== LABEL_INSTANCE_TYPE && r.key !== LABEL_ZONE && restrictedLabelErrorFor(r.key) === undefined),
    ...(capacityType ? [] : [{ key: LABEL_CAPACITY_TYPE, operator: 'In' as const, values: [CAPACITY_TYPE_ON_DEMAND] }]),
    { key: LABEL_INSTANCE_TYPE, operator: 'In' as const, values: types, ...(pool.requirements.get(LABEL_INSTANCE_TYPE)?.minValues ? { minValues: pool.requirements.get(LABEL_INSTANCE_TYPE)?.minValues } : {}) },
    { key: LABEL_ZONE, operator: 'In' as const, values: zones },
  ].sort((a, b) => a.key.localeCompare(b.key));
  const template = pool.pool.nodePool.spec.template;
  const labels: Record<string, string> = { ...template.metadata.labels, [LABEL_NODEPOOL]: pool.name };
  for (const [k, v] of Object.entries(requirements.singleValuedLabels())) if (restrictedLabelErrorFor(k) === undefined && k !== LABEL_INSTANCE_TYPE && k !== LABEL_ZONE) labels[k] = v;
  const pods = members.map((m) => m.pod.ref).sort((a, b) => refKey(a).localeCompare(refKey(b)));
  const cheapest = offerings[0]!;
  return {
    name: `${pool.name}-${hashOf(pods.map(refKey))}`,
    nodePool: pool.name,
    requirements: nodeSelector,
    labels,
    taints: template.spec.taints,
    startupTaints: template.spec.startupTaints,
    resources: { requests: toResourceList(requests) },
    pods,
    offering: cheapest,
    hourlyPriceEur: cheapest.hourlyPriceEur,
    offerings,
  };
}
