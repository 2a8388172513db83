// New NodeClaims for one NodePool: bin-pack the pods it takes over its offers,
// keep within its limits, honour minValues, and turn each bin into a NodeClaim
// (requirements narrowed by its pods, fallback offerings cheapest first), as
// Karpenter's scheduler grows NodeClaims (scheduling/nodeclaim.go).
import { createHash } from 'node:crypto';
import { restrictedLabelError, SCHEDULING_WELL_KNOWN_LABELS, type NodeSelectorRequirement, type Requirements } from '../../kube/api/requirements.ts';
import { LABEL_CAPACITY_TYPE, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE, CAPACITY_TYPE_ON_DEMAND } from '../../kube/api/constants.ts';
import { toResourceList, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { addResources, subtractResources } from './pod-requests.ts';
import { antiAffinityConflict } from './plan-constraints.ts';
import type { PackOffer, PackProblem, PackResult } from './packing.ts';
import { refKey, type PreparedPod } from './plan-pods.ts';
import { describeLimits, withinLimit, type PreparedPool } from './plan-pools.ts';
import type { PlannedNodeClaim } from './plan-types.ts';

/** Why a NodeClaim may not carry this key (as a requirement or label), or undefined. */
const restrictedLabelErrorFor = (key: string): string | undefined => restrictedLabelError(key, 'NodeClaim');

/** A pod a pool takes, with the requirements and the offers (a mask over pool.offers) it may launch with. */
export interface Taker {
  pod: PreparedPod;
  requirements: Requirements;
  mask: Uint8Array;
}

export interface PoolPacking {
  nodeClaims: PlannedNodeClaim[];
  /** Pods the pool's limits left without a node. */
  overLimit: Taker[];
  /** Pods whose NodeClaim would break a minValues requirement. */
  unmet: { taker: Taker; reason: string }[];
}

function hashOf(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 8);
}

/**
 * A planned NodeClaim's name: derived from its pool and pods, so that a pass
 * repeated before the watch brings what the last one made (a restart, a new
 * leader) posts the same name and the apiserver refuses the duplicate. The
 * kube-scheduler binds pods where they fit, not where they were nominated, so
 * the NodeClaim of a pod may end up running another: the same pods planned
 * again then take the next name in the sequence (`attempt` 1, 2, ...).
 */
export function nodeClaimName(pool: string, podKeys: readonly string[], attempt = 0): string {
  return `${pool}-${hashOf(attempt === 0 ? podKeys : [...podKeys, `#${attempt}`])}`;
}

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

/** Whether two takers may share a node: no anti-affinity between them, compatible requirements (cached by their text). */
function compatibility(takers: readonly Taker[]): (ta: Taker, tb: Taker) => boolean {
  const compatCache = new Map<string, boolean>();
  const reqKey = takers.map((t) => t.requirements.toString());
  const indexOf = new Map(takers.map((t, i) => [t, i]));
  return (ta, tb) => {
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
  };
}

/** The packing problem for this round: only the offers whose capacity still fits the remaining limit. */
function packProblem(pool: PreparedPool, current: readonly Taker[], remaining: ResourceAmounts, compatible: (ta: Taker, tb: Taker) => boolean): PackProblem {
  const allowed = pool.offers.map((_, o) => withinLimit(pool.capacity[o]!, remaining));
  const packOffers: PackOffer[] = pool.offers.map((o, i) => ({ price: o.hourlyPriceEur, allocatable: pool.allocatable[i]! }));
  const items = current.map((t) => ({ requests: t.pod.requests, mask: t.mask.map((m, o) => (m === 1 && allowed[o] ? 1 : 0)) }));
  const asksChoice = pool.requirements.list().some((r) => r.minValues);
  return {
    offers: packOffers, items, compatible: (a, b) => compatible(current[a]!, current[b]!),
    // The items' masks leave out what the limit does not allow, so a bin's offers are already within it.
    ...(asksChoice ? { flexibleEnough: (offerIdx: readonly number[]) => minValuesShortfall(pool, offerIdx) === undefined } : {}),
  };
}

interface Round {
  nodeClaims: PlannedNodeClaim[];
  unmet: { taker: Taker; reason: string }[];
  /** The item lists of the bins taken (made NodeClaims or refused for minValues), by reference. */
  accepted: number[][];
  /** A bin's cheapest offering no longer fit the limit: repack the rest with what is left. */
  stopped: boolean;
  remaining: ResourceAmounts;
}

/** Accepts the solver's bins while their cheapest offering's capacity fits the remaining limit. */
function acceptBins(pool: PreparedPool, current: readonly Taker[], result: PackResult, remainingBefore: ResourceAmounts): Round {
  const round: Round = { nodeClaims: [], unmet: [], accepted: [], stopped: false, remaining: remainingBefore };
  for (const bin of result.bins) {
    const cap = pool.capacity[bin.offers[0]!]!;
    if (!withinLimit(cap, round.remaining)) {
      round.stopped = true;
      continue;
    }
    const fallback = bin.offers.filter((o) => withinLimit(pool.capacity[o]!, round.remaining));
    const shortfall = minValuesShortfall(pool, fallback);
    if (shortfall) {
      // Strict, as Karpenter's default minValuesPolicy: no NodeClaim with less flexibility than asked for.
      for (const i of bin.items) round.unmet.push({ taker: current[i]!, reason: shortfall });
      round.accepted.push(bin.items);
      continue;
    }
    round.remaining = subtractResources(round.remaining, { ...cap, pods: 0 });
    round.nodeClaims.push(buildNodeClaim(pool, bin.items.map((i) => current[i]!), fallback));
    round.accepted.push(bin.items);
  }
  return round;
}

/**
 * Packs one pool's pods, keeping within its limits: each round packs with the
 * offers that still fit the remaining limit, accepts NodeClaims while their
 * cheapest offering's capacity fits, and repacks the rest with what is left.
 */
export function packPool(pool: PreparedPool, takers: Taker[], solver: (p: PackProblem) => PackResult, limitEvents: Map<string, string>): PoolPacking {
  const unmet: { taker: Taker; reason: string }[] = [];
  const nodeClaims: PlannedNodeClaim[] = [];
  let remaining = pool.remaining;
  let todo = takers;
  const compatible = compatibility(takers);
  while (todo.length > 0) {
    const current = todo;
    const result = solver(packProblem(pool, current, remaining, compatible));
    const round = acceptBins(pool, current, result, remaining);
    remaining = round.remaining;
    nodeClaims.push(...round.nodeClaims);
    unmet.push(...round.unmet);
    const { accepted, stopped } = round;
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
    name: nodeClaimName(pool.name, pods.map(refKey)),
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
