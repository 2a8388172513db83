// One burst for one provisioner on the shared control plane: POST the pods, wait until
// every pod has room on a launched NodeClaim of its provisioner's pool, measure, clean up.
//
// Per pod, t0 = when this process's watch first saw PodScheduled=False/Unschedulable
// (written by kube-scheduler). Then:
//   to NodeClaim: its NodeClaim first seen by this process's watch;
//   to create call: Karpenter (KWOK's Create is instant and in-process): its NodeClaim's
//     providerID first seen; ours: the first createServer request for its NodeClaim
//     ARRIVED at the simulator (the recording proxy's stamp).
// Which NodeClaim a pod is on: ours lists its pods in the karpenter.scaleway.com/nominated-pods
// annotation; both publish a Nominated Event ("Pod should schedule on: nodeclaim/<name>"), but
// Karpenter rate-limits those (5/s, burst 10: pkg/controllers/provisioning/scheduling/events.go),
// so most of its pods get none in a burst. Pods without either are given, in t0 order, a free
// slot on the earliest NodeClaim of the burst seen after their t0 (each NodeClaim's
// spec.resources.requests[nvidia.com/gpu] is the count of one-GPU pods it was made for). In a burst
// every NodeClaim of one scheduling pass appears within milliseconds, so this differs from the
// true nomination by at most the spread of one pass; the report says how many pods each way.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../../kube/rest.ts';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_NOMINATED_PODS, ANNOTATION_PLANNED_OFFERING, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE, NODECLAIM_GVR, FINALIZER_TERMINATION } from '../../kube/api/constants.ts';
import { watchCollection, type WatchedCollection } from '../../watcher/informer.ts';
import type { RecordingProxy } from '../recording-proxy.ts';
import { measureUsage } from './proc-usage.ts';
import { gpuPod, POOL, type Side } from './objects.ts';
import { pct, sortedCopy } from '../stats.ts';

export const NAMESPACE = 'default';

interface RawPod extends KubernetesObject {
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}
export interface RawNodeClaim extends KubernetesObject {
  spec?: { resources?: { requests?: Record<string, string> } };
  status?: { providerID?: string };
}
interface RawEvent extends KubernetesObject {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

/** What this process's watches saw, for every round (names are unique per round). */
export interface Observations {
  unschedulableAt: Map<string, number>;
  claimSeenAt: Map<string, number>;
  claimLaunchedAt: Map<string, number>;
  claimsOfPod: Map<string, Set<string>>;
  nominatedByEvent: Map<string, string>;
  claims: WatchedCollection<KubernetesObject>;
  stop(): Promise<void>;
}

export async function observe(kube: KubeRest): Promise<Observations> {
  const unschedulableAt = new Map<string, number>();
  const claimSeenAt = new Map<string, number>();
  const claimLaunchedAt = new Map<string, number>();
  const claimsOfPod = new Map<string, Set<string>>();
  const nominatedByEvent = new Map<string, string>();
  const pods = await watchCollection<KubernetesObject>(kube, `/api/v1/namespaces/${NAMESPACE}/pods`, (obj, event) => {
    if (event === 'delete') return;
    const pod = obj as RawPod;
    const name = pod.metadata?.name ?? '';
    if (unschedulableAt.has(name) || pod.spec?.nodeName) return;
    if (pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable')) unschedulableAt.set(name, Date.now());
  }, { name: 'bench pods' });
  const claims = await watchCollection<KubernetesObject>(kube, clusterPath(NODECLAIM_GVR), (obj, event) => {
    if (event === 'delete') return;
    const claim = obj as RawNodeClaim;
    const name = claim.metadata?.name ?? '';
    if (!claimSeenAt.has(name)) claimSeenAt.set(name, Date.now());
    if (claim.status?.providerID && !claimLaunchedAt.has(name)) claimLaunchedAt.set(name, Date.now());
    for (const key of (claim.metadata?.annotations?.[ANNOTATION_NOMINATED_PODS] ?? '').split(',')) {
      if (!key) continue;
      const pod = key.slice(key.indexOf('/') + 1);
      claimsOfPod.set(pod, (claimsOfPod.get(pod) ?? new Set()).add(name));
    }
  }, { name: 'bench nodeclaims' });
  const events = await watchCollection<KubernetesObject>(kube, `/api/v1/namespaces/${NAMESPACE}/events`, (obj, event) => {
    if (event === 'delete') return;
    const e = obj as RawEvent;
    if (e.reason !== 'Nominated' || e.involvedObject?.kind !== 'Pod' || !e.involvedObject.name) return;
    const m = /nodeclaim\/([^,\s]+)/.exec(e.message ?? '');
    if (m?.[1] && !nominatedByEvent.has(e.involvedObject.name)) nominatedByEvent.set(e.involvedObject.name, m[1]);
  }, { name: 'bench events' });
  return {
    unschedulableAt, claimSeenAt, claimLaunchedAt, claimsOfPod, nominatedByEvent, claims,
    stop: async () => {
      for (const w of [pods, claims, events]) await w.stop();
    },
  };
}

export interface RoundContext {
  kube: KubeRest;
  proxy: RecordingProxy;
  seen: Observations;
  /** Processes whose cost is measured: each provisioner's, and the Temporal dev server (ours only uses it). */
  pids: { karpenter: number[]; ours: number[]; temporal: number[] };
  /** €/hour of `type@zone`. */
  price: (commercialType: string, zone: string) => number | undefined;
  timeoutMs: number;
  concurrency: number;
}

export interface RoundResult {
  side: Side;
  pods: number;
  round: number;
  completed: boolean;
  note: string;
  wallSeconds: number;
  toClaim: number[];
  toCreate: number[];
  /** Ours only: Unschedulable → providerID, as Karpenter's create call is measured. */
  toProviderId: number[];
  mappedExactly: number;
  mappedBySlot: number;
  neverNominated: number;
  nodeClaims: number;
  launched: number;
  fleetEurPerHour: number;
  instanceTypes: string;
  /** Summed over the provisioner's processes (Karpenter: one; ours: worker + watcher). */
  peakRssBytes: number;
  cpuSeconds: number;
  temporalPeakRssBytes: number;
  temporalCpuSeconds: number;
}

const gpuSlots = (claim: RawNodeClaim): number => Number(claim.spec?.resources?.requests?.['nvidia.com/gpu'] ?? 0);

function offeringOf(claim: RawNodeClaim): { type: string; zone: string } | undefined {
  const labels = claim.metadata?.labels ?? {};
  const type = labels[LABEL_INSTANCE_TYPE];
  const zone = labels[LABEL_ZONE];
  if (type && zone) return { type, zone };
  const planned = /^(\S+)@(\S+)/.exec(claim.metadata?.annotations?.[ANNOTATION_PLANNED_OFFERING] ?? '');
  return planned?.[1] && planned[2] ? { type: planned[1], zone: planned[2] } : undefined;
}

export async function runRound(ctx: RoundContext, side: Side, n: number, round: number): Promise<RoundResult> {
  const { kube, seen, proxy } = ctx;
  const pool = POOL[side];
  const names = Array.from({ length: n }, (_, i) => `${side === 'ours' ? 'o' : 'k'}${n}-r${round}-${String(i).padStart(4, '0')}`);
  const start = Date.now();
  const mine = (): RawNodeClaim[] => (seen.claims.list() as RawNodeClaim[]).filter((c) =>
    c.metadata?.labels?.[LABEL_NODEPOOL] === pool && !c.metadata.deletionTimestamp && (seen.claimSeenAt.get(c.metadata.name ?? '') ?? 0) >= start);
  const usage = measureUsage(ctx.pids[side]);
  const temporalUsage = measureUsage(ctx.pids.temporal);
  const callsBefore = proxy.calls.length;

  let next = 0;
  await Promise.all(Array.from({ length: Math.min(ctx.concurrency, n) }, async () => {
    while (next < names.length) {
      const name = names[next++] ?? '';
      await kube.post(`/api/v1/namespaces/${NAMESPACE}/pods`, gpuPod(name, side));
    }
  }));
  console.log(`[bench] ${side} ${n} pods (round ${round}): created in ${((Date.now() - start) / 1000).toFixed(1)} s`);

  const firstCreate = new Map<string, number>();
  const collectCreates = (): void => {
    for (const c of proxy.calls.slice(callsBefore)) if (c.kind === 'createServer' && c.serverName && !firstCreate.has(c.serverName)) firstCreate.set(c.serverName, c.arrivedAt);
  };
  const deadline = start + ctx.timeoutMs;
  let completed = false;
  let stableSince = 0;
  let lastCount = -1;
  let lastLog = 0;
  for (;;) {
    collectCreates();
    const claims = mine();
    const launched = claims.filter((c) => c.status?.providerID).length;
    const created = side === 'ours' ? claims.filter((c) => firstCreate.has(c.metadata?.name ?? '')).length : launched;
    const slots = claims.reduce((s, c) => s + gpuSlots(c), 0);
    const unsched = names.filter((p) => seen.unschedulableAt.has(p)).length;
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      console.log(`[bench] ${side} ${n}: +${((Date.now() - start) / 1000).toFixed(1)} s  unschedulable ${unsched}/${n}  NodeClaims ${claims.length} (slots ${slots}), launched ${launched}, create calls ${created}`);
    }
    const done = claims.length > 0 && launched === claims.length && created === claims.length && slots >= n && unsched === n;
    if (done && claims.length === lastCount) {
      // Two seconds without a new NodeClaim: the burst is served (nothing more is coming).
      if (Date.now() - stableSince >= 2_000) {
        completed = true;
        break;
      }
    } else {
      stableSince = Date.now();
      lastCount = done ? claims.length : -1;
    }
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  const end = completed ? stableSince : Date.now();
  const cost = usage.stop();
  const temporalCost = temporalUsage.stop();
  collectCreates();

  // Pod → NodeClaim: exact where the product said so, else the earliest free slot (see the header).
  const claims = mine().sort((a, b) => (seen.claimSeenAt.get(a.metadata?.name ?? '') ?? 0) - (seen.claimSeenAt.get(b.metadata?.name ?? '') ?? 0));
  const claimNames = new Set(claims.map((c) => c.metadata?.name ?? ''));
  const free = new Map(claims.map((c) => [c.metadata?.name ?? '', gpuSlots(c)]));
  const claimOf = new Map<string, string>();
  for (const pod of names) {
    const exact = [...(seen.claimsOfPod.get(pod) ?? []), seen.nominatedByEvent.get(pod) ?? ''].find((c) => claimNames.has(c));
    if (exact) {
      claimOf.set(pod, exact);
      free.set(exact, (free.get(exact) ?? 0) - 1);
    }
  }
  const mappedExactly = claimOf.size;
  const rest = names.filter((p) => !claimOf.has(p)).sort((a, b) => (seen.unschedulableAt.get(a) ?? Infinity) - (seen.unschedulableAt.get(b) ?? Infinity));
  for (const pod of rest) {
    const t0 = seen.unschedulableAt.get(pod) ?? 0;
    const slot = claims.find((c) => (free.get(c.metadata?.name ?? '') ?? 0) > 0 && (seen.claimSeenAt.get(c.metadata?.name ?? '') ?? 0) >= t0)
      ?? claims.find((c) => (free.get(c.metadata?.name ?? '') ?? 0) > 0);
    const name = slot?.metadata?.name;
    if (!name) continue;
    claimOf.set(pod, name);
    free.set(name, (free.get(name) ?? 0) - 1);
  }
  const toClaim: number[] = [];
  const toCreate: number[] = [];
  const toProviderId: number[] = [];
  for (const pod of names) {
    const t0 = seen.unschedulableAt.get(pod);
    const claim = claimOf.get(pod);
    if (t0 === undefined || !claim) continue;
    const seenAt = seen.claimSeenAt.get(claim);
    const launchedAt = seen.claimLaunchedAt.get(claim);
    const createAt = side === 'ours' ? firstCreate.get(claim) : launchedAt;
    if (seenAt !== undefined) toClaim.push(seenAt - t0);
    if (createAt !== undefined) toCreate.push(createAt - t0);
    if (side === 'ours' && launchedAt !== undefined) toProviderId.push(launchedAt - t0);
  }
  const types = new Map<string, number>();
  let fleet = 0;
  let unpriced = 0;
  for (const c of claims) {
    const o = offeringOf(c);
    const p = o ? ctx.price(o.type, o.zone) : undefined;
    if (p === undefined) unpriced++;
    else fleet += p;
    const key = o?.type ?? '?';
    types.set(key, (types.get(key) ?? 0) + 1);
  }
  const launched = claims.filter((c) => c.status?.providerID).length;
  const notes = [
    completed ? '' : `not complete after ${ctx.timeoutMs / 60_000} min (${launched}/${claims.length} launched)`,
    unpriced ? `${unpriced} NodeClaims without a known offering` : '',
  ].filter(Boolean);
  const result: RoundResult = {
    side, pods: n, round, completed, note: notes.join('; '),
    wallSeconds: (end - start) / 1000,
    toClaim: sortedCopy(toClaim), toCreate: sortedCopy(toCreate), toProviderId: sortedCopy(toProviderId),
    mappedExactly, mappedBySlot: claimOf.size - mappedExactly, neverNominated: n - claimOf.size,
    nodeClaims: claims.length, launched, fleetEurPerHour: fleet,
    instanceTypes: [...types].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${k}× ${t}`).join(', '),
    peakRssBytes: cost.peakRssBytes, cpuSeconds: cost.cpuSeconds,
    temporalPeakRssBytes: temporalCost.peakRssBytes, temporalCpuSeconds: temporalCost.cpuSeconds,
  };
  console.log(`[bench] ${side} ${n} pods (round ${round}): to NodeClaim p50 ${(pct(result.toClaim, 50) / 1000).toFixed(2)} s p99 ${(pct(result.toClaim, 99) / 1000).toFixed(2)} s; to create p50 ${(pct(result.toCreate, 50) / 1000).toFixed(2)} s p99 ${(pct(result.toCreate, 99) / 1000).toFixed(2)} s; ${result.nodeClaims} NodeClaims (${result.instanceTypes}) €${fleet.toFixed(3)}/h; peak RSS ${(cost.peakRssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${cost.cpuSeconds.toFixed(1)} s${result.note ? `; ${result.note}` : ''}`);
  await cleanUp(ctx, side, names);
  return result;
}

/** Deletes the round's pods and its pool's NodeClaims and waits until they are gone (their Nodes too). */
async function cleanUp(ctx: RoundContext, side: Side, names: readonly string[], timeoutMs = 300_000): Promise<void> {
  const { kube } = ctx;
  const pool = POOL[side];
  const started = Date.now();
  await kube.delete(`/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${encodeURIComponent(`side=${side}`)}&gracePeriodSeconds=0`);
  await kube.delete(`${clusterPath(NODECLAIM_GVR)}?labelSelector=${encodeURIComponent(`${LABEL_NODEPOOL}=${pool}`)}`);
  const selector = encodeURIComponent(`${LABEL_NODEPOOL}=${pool}`);
  for (;;) {
    const claims = (await kube.get<{ items: RawNodeClaim[] }>(`${clusterPath(NODECLAIM_GVR)}?labelSelector=${selector}`)).items;
    const nodes = (await kube.get<{ items: KubernetesObject[] }>(`/api/v1/nodes?labelSelector=${selector}`)).items;
    const pods = (await kube.get<{ items: KubernetesObject[] }>(`/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${encodeURIComponent(`side=${side}`)}`)).items;
    if (claims.length === 0 && nodes.length === 0 && pods.length === 0) break;
    if (Date.now() - started > timeoutMs) {
      // A stuck termination would spoil the next round: say so, and let the objects go.
      console.warn(`[bench] ${side}: ${claims.length} NodeClaims, ${nodes.length} Nodes, ${pods.length} pods left after ${timeoutMs / 1000} s; removing their finalizers`);
      for (const c of claims) await kube.patch(clusterPath(NODECLAIM_GVR, c.metadata?.name ?? ''), { metadata: { finalizers: (c.metadata?.finalizers ?? []).filter((f) => f !== FINALIZER_TERMINATION) } }).catch(() => undefined);
      for (const node of nodes) await kube.delete(`/api/v1/nodes/${node.metadata?.name ?? ''}`).catch(() => undefined);
      break;
    }
    await sleep(1_000);
  }
  console.log(`[bench] ${side}: cleaned up ${names.length} pods and their NodeClaims in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
