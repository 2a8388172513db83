// Which pending pods one NodePool can take, and on what: per pod, the first of
// its requirement alternatives that some offer of the pool meets and fits
// (taints tolerated, no requirement conflict), narrowed to one zone for pods
// with a zone spread constraint. Each refusal says why, in the words the pod's
// event will carry (Karpenter's scheduler reports per NodePool in the same way).
import { untoleratedTaints } from '../../kube/api/core.ts';
import { Requirement, SCHEDULING_WELL_KNOWN_LABELS, type Requirements } from '../../kube/api/requirements.ts';
import { LABEL_ZONE } from '../../kube/api/constants.ts';
import { fits, meetsLabels, type ResourceAmounts } from '../../scaleway/instance-types.ts';
import { maxResources, NO_RESOURCES } from './pod-requests.ts';
import { podRequirementsShortfall } from './offering-funnel.ts';
import { gpuNameHint } from './plan-requirements.ts';
import type { PreparedPod } from './plan-pods.ts';
import type { PreparedPool } from './plan-pools.ts';
import type { Taker } from './nodeclaim-packing.ts';
import type { ZoneSpreadLedger } from './zone-spread-ledger.ts';

/** Records why a pod was not taken (by one pool). */
export type Note = (pod: PreparedPod, why: string) => void;

/** The pods the pool can take, each with the requirements and offers (mask) it would launch with; the others, noted. */
export function poolTakers(pool: PreparedPool, pods: readonly PreparedPod[], note: Note): { takers: Taker[]; rest: PreparedPod[] } {
  const takers: Taker[] = [];
  const rest: PreparedPod[] = [];
  for (const pod of pods) {
    // Nothing to launch in this pool for anyone: its own cause, not the pod's requirements.
    const taker = pool.problem ? pool.problem.message : takerFor(pool, pod);
    if (typeof taker === 'string') {
      note(pod, taker);
      rest.push(pod);
    } else {
      takers.push(taker);
    }
  }
  return { takers, rest };
}

function takerFor(pool: PreparedPool, pod: PreparedPod): Taker | string {
  const untolerated = untoleratedTaints(pod.tolerations, pool.pool.nodePool.spec.template.spec.taints);
  if (untolerated.length > 0) return `NodePool ${pool.name}: taint ${untolerated.map(describeTaint).join(', ')} not tolerated`;
  const why: string[] = [];
  for (const alt of pod.alternatives) {
    const mask = offersFor(pool, pod, alt);
    if (typeof mask !== 'string') return { pod, requirements: pool.requirements.intersect(alt), mask };
    why.push(mask);
  }
  return `NodePool ${pool.name}: ${why.join(' / ')}`;
}

/** The pool's offers (as a mask over pool.offers) that meet one requirement alternative and fit the pod, or why there is none. */
function offersFor(pool: PreparedPool, pod: PreparedPod, alt: Requirements): Uint8Array | string {
  const conflicts = pool.requirements.incompatibilities(alt, { allowUndefined: SCHEDULING_WELL_KNOWN_LABELS });
  if (conflicts.length > 0) return `requirement conflict: ${conflicts.join('; ')}`;
  const gpuOk = pod.requests.gpu > 0 || pool.selectsGpu || pod.selectsGpu;
  const mask = new Uint8Array(pool.offers.length);
  let any = false;
  let labelled = 0;
  for (let o = 0; o < pool.offers.length; o++) {
    if (!meetsLabels(alt, pool.labels[o]!)) continue;
    if (!gpuOk && pool.offers[o]!.gpuCount > 0) continue;
    labelled++;
    if (!fits(pod.requests, pool.allocatable[o]!)) continue;
    mask[o] = 1;
    any = true;
  }
  if (any) return mask;
  return labelled === 0
    ? noTypeForPod(pool, alt, gpuOk)
    : `no instance type fits requests ${describeRequests(pod.requests)} after kubelet reservations and DaemonSet overhead (${labelled} types considered; the largest have ${describeRequests(largest(pool, alt, gpuOk))} allocatable)`;
}

/** Zone spread: each spread pod is pinned to the least-loaded zone it can use in this pool; the ones that cannot be, noted. */
export function pinZones(pool: PreparedPool, takers: readonly Taker[], spread: ZoneSpreadLedger, note: Note): { kept: Taker[]; unpinned: PreparedPod[] } {
  const kept: Taker[] = [];
  const unpinned: PreparedPod[] = [];
  for (const t of takers) {
    const zoneSpread = t.pod.zoneSpread;
    if (!zoneSpread) {
      kept.push(t);
      continue;
    }
    const zones = [...new Set(pool.offers.filter((_, o) => t.mask[o] === 1).map((o) => o.zone))].sort();
    const counts = spread.countsFor(zoneSpread);
    const domain = new Set([...zones, ...[...spread.allZones].filter((z) => t.requirements.allows(LABEL_ZONE, z))]);
    const zone = [...zones].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b)).find((z) => spread.allows(zoneSpread, z, domain));
    if (!zone) {
      note(t.pod, `NodePool ${pool.name}: cannot honour topology spread on ${LABEL_ZONE} (maxSkew ${zoneSpread.maxSkew}) with the zones it offers (${zones.join(', ')})`);
      unpinned.push(t.pod);
      continue;
    }
    spread.count(zoneSpread, zone);
    const mask = t.mask.map((m, o) => (m === 1 && pool.offers[o]!.zone === zone ? 1 : 0));
    kept.push({ pod: t.pod, requirements: t.requirements.add(Requirement.of(LABEL_ZONE, 'In', [zone])), mask });
  }
  return { kept, unpinned };
}

function describeTaint(t: { key: string; value?: string | undefined; effect: string }): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
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
    if (!meetsLabels(alt, pool.labels[o]!) || (!gpuOk && pool.offers[o]!.gpuCount > 0)) continue;
    max = maxResources(max, pool.allocatable[o]!);
  }
  return max;
}

export function describeRequests(r: ResourceAmounts): string {
  const parts = [`cpu=${Math.round(r.cpu * 1000)}m`, `memory=${Math.round(r.memory / 2 ** 20)}Mi`];
  if (r.gpu > 0) parts.push(`nvidia.com/gpu=${r.gpu}`);
  if (r.ephemeralStorage > 0) parts.push(`ephemeral-storage=${Math.round(r.ephemeralStorage / 2 ** 20)}Mi`);
  return parts.join(', ');
}
