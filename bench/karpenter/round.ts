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
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { KubeRest } from '../../kube/rest.ts';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_NOMINATED_PODS, ANNOTATION_PLANNED_OFFERING, LABEL_INSTANCE_TYPE, LABEL_NODEPOOL, LABEL_ZONE, NODECLAIM_GVR, FINALIZER_TERMINATION } from '../../kube/api/constants.ts';
import { watchCollection, type WatchedCollection } from '../../watcher/informer.ts';
import type { RecordingProxy } from '../recording-proxy.ts';
import { measureUsage } from './proc-usage.ts';
import { POOL, type Side } from './objects.ts';
import { pct, sortedCopy } from '../stats.ts';
import { provisioningWorkflowId } from '../../workflows/contract.ts';
import { readWorkflowFigures } from './workflow-histories.ts';
import { callsBetween, readApiserverCalls, type ApiserverCalls } from './apiserver-calls.ts';
import { daemonSet, DAEMONSET_NAME, DAEMONSET_NAMESPACE, gpusOf, type Workload } from './workloads.ts';

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
  /** Pods bound to a Node (ours: its nodes join, and kube-scheduler binds pods there). */
  bound: Set<string>;
  claims: WatchedCollection<KubernetesObject>;
  stop(): Promise<void>;
}

export async function observe(kube: KubeRest): Promise<Observations> {
  const unschedulableAt = new Map<string, number>();
  const claimSeenAt = new Map<string, number>();
  const claimLaunchedAt = new Map<string, number>();
  const claimsOfPod = new Map<string, Set<string>>();
  const nominatedByEvent = new Map<string, string>();
  const bound = new Set<string>();
  const pods = await watchCollection<KubernetesObject>(kube, `/api/v1/namespaces/${NAMESPACE}/pods`, (obj, event) => {
    if (event === 'delete') return;
    const pod = obj as RawPod;
    const name = pod.metadata?.name ?? '';
    if (pod.spec?.nodeName) bound.add(name);
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
    unschedulableAt, claimSeenAt, claimLaunchedAt, claimsOfPod, nominatedByEvent, bound, claims,
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
  /** What each of `pids.ours` is (worker, watcher), in its order. */
  oursNames: string[];
  /** Their /metrics, in the same order: the V8 heap behind each one's RSS. */
  oursMetricsUrls: string[];
  /** €/hour of `type@zone`. */
  price: (commercialType: string, zone: string) => number | undefined;
  timeoutMs: number;
  concurrency: number;
  /** Ours: reads each provisioning workflow's history after the round. */
  temporal?: Client | undefined;
  /** Karpenter's metrics, for its client-go request counter. */
  karpenterMetricsUrl?: string | undefined;
  /** The side's processes that have exited (a round with one gone measures nothing of it). */
  exited: (side: Side) => string[];
}

/** Ours, per pod: where the time from Unschedulable to the createServer call went. */
export interface Stages {
  /** Unschedulable → its NodeClaim seen: batching, planning and the NodeClaim POST. */
  toClaim: number[];
  /** NodeClaim seen → WorkflowExecutionStarted (the watcher's start call). */
  claimToStart: number[];
  /** WorkflowExecutionStarted → first WorkflowTaskStarted (task queue to a worker poller). */
  startToFirstTask: number[];
  /** First WorkflowTaskStarted → createServer arrives (the local activities before it). */
  firstTaskToCreate: number[];
}

/** Ours, per NodeClaim: what its provisioning workflow's history held when it was read. */
export interface WorkflowCost {
  read: number;
  workflowTasks: number[];
  events: number[];
  bytes: number[];
  activities: number[];
  localActivities: number[];
  signals: number[];
  timersFired: number[];
  /** Activities scheduled by type, summed over the NodeClaims. */
  activityTypes: Record<string, number>;
  /** Histories with no close event when read. */
  running: number;
}

export interface RoundResult {
  side: Side;
  workload: string;
  kind: Workload['kind'];
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
  /** Ours: each process's own peak, `worker 700 + watcher 230` (MiB); empty for Karpenter's one process. */
  peakRssEach: string;
  cpuSeconds: number;
  temporalPeakRssBytes: number;
  temporalCpuSeconds: number;
  /** Ours only. */
  stages: Stages | undefined;
  workflows: WorkflowCost | undefined;
  /** Calls of the product's SDK through the recording proxy in the round's window (ours; Karpenter makes none). */
  scalewayCalls: number;
  scalewayByKind: Record<string, number>;
  /** Apiserver requests in the round's window: ours by component, Karpenter's own counter. */
  apiserverCalls: ApiserverCalls;
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

const pathOfDaemonSets = `/apis/apps/v1/namespaces/${DAEMONSET_NAMESPACE}/daemonsets`;

export async function runRound(ctx: RoundContext, side: Side, workload: Workload, round: number): Promise<RoundResult> {
  const { kube, seen, proxy } = ctx;
  const pool = POOL[side];
  const podObjects = workload.pods(side, round);
  const names = podObjects.map((p) => (p.metadata as { name: string }).name);
  const gpusOfPod = new Map(podObjects.map((p, i) => [names[i] ?? '', gpusOf(p)]));
  const gpusWanted = [...gpusOfPod.values()].reduce((a, b) => a + b, 0);
  const n = names.length;
  const label = workload.kind === 'burst' ? `${n} pods` : workload.name;
  if (workload.daemonSet) await kube.post(pathOfDaemonSets, daemonSet(workload.daemonSet));
  const apiBefore = await readApiserverCalls(kube, ctx.karpenterMetricsUrl);
  // This process's watches time every pod and NodeClaim: how late its event loop ran says how late they may be.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const start = Date.now();
  const mine = (): RawNodeClaim[] => (seen.claims.list() as RawNodeClaim[]).filter((c) =>
    c.metadata?.labels?.[LABEL_NODEPOOL] === pool && !c.metadata.deletionTimestamp && (seen.claimSeenAt.get(c.metadata.name ?? '') ?? 0) >= start);
  const usage = measureUsage(ctx.pids[side]);
  const temporalUsage = measureUsage(ctx.pids.temporal);
  const callsBefore = proxy.calls.length;

  await forEachLimited(podObjects, ctx.concurrency, async (body) => {
    await kube.post(`/api/v1/namespaces/${NAMESPACE}/pods`, body);
  });
  console.log(`[bench] ${side} ${label} (round ${round}): created in ${((Date.now() - start) / 1000).toFixed(1)} s`);

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
    // A pod the scheduler bound at once (room on a node that joined meanwhile) is never Unschedulable: it waits on nothing.
    const accounted = names.filter((p) => seen.unschedulableAt.has(p) || seen.bound.has(p)).length;
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      console.log(`[bench] ${side} ${label}: +${((Date.now() - start) / 1000).toFixed(1)} s (${new Date().toISOString().slice(11, 23)})  unschedulable ${unsched}/${n}  NodeClaims ${claims.length} (slots ${slots}), launched ${launched}, create calls ${created}; this process's event loop late by up to ${(loopDelay.max / 1e6).toFixed(0)} ms`);
      loopDelay.reset();
    }
    // Every pod has room: the NodeClaims' GPU requests cover the burst's, or (ours, whose planner also puts pods
    // in room left on NodeClaims made for others) each pod is nominated to one of them or already bound.
    const claimSet = new Set(claims.map((c) => c.metadata?.name ?? ''));
    const covered = (): boolean => names.every((p) => seen.bound.has(p) || claimSet.has(seen.nominatedByEvent.get(p) ?? '') || [...(seen.claimsOfPod.get(p) ?? [])].some((c) => claimSet.has(c)));
    const done = claims.length > 0 && launched === claims.length && created === claims.length && accounted === n && (slots >= gpusWanted || covered());
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
    if (Date.now() > deadline || ctx.exited(side).length > 0) break;
    await sleep(250);
  }
  const end = completed ? stableSince : Date.now();
  loopDelay.disable();
  const cost = usage.stop();
  const temporalCost = temporalUsage.stop();
  const apiserverCalls = callsBetween(apiBefore, await readApiserverCalls(kube, ctx.karpenterMetricsUrl));
  collectCreates();
  const sdkCalls = proxy.calls.slice(callsBefore).filter((c) => c.fromSdk && c.arrivedAt <= end);
  const scalewayByKind: Record<string, number> = {};
  for (const c of sdkCalls) scalewayByKind[c.kind ?? 'other'] = (scalewayByKind[c.kind ?? 'other'] ?? 0) + 1;

  // Pod → NodeClaim: exact where the product said so, else the earliest free slot (see the header).
  const claims = mine().sort((a, b) => (seen.claimSeenAt.get(a.metadata?.name ?? '') ?? 0) - (seen.claimSeenAt.get(b.metadata?.name ?? '') ?? 0));
  const claimNames = new Set(claims.map((c) => c.metadata?.name ?? ''));
  const free = new Map(claims.map((c) => [c.metadata?.name ?? '', gpuSlots(c)]));
  const claimOf = new Map<string, string>();
  for (const pod of names) {
    const exact = [...(seen.claimsOfPod.get(pod) ?? []), seen.nominatedByEvent.get(pod) ?? ''].find((c) => claimNames.has(c));
    if (exact) {
      claimOf.set(pod, exact);
      free.set(exact, (free.get(exact) ?? 0) - (gpusOfPod.get(pod) ?? 1));
    }
  }
  const mappedExactly = claimOf.size;
  const rest = names.filter((p) => !claimOf.has(p)).sort((a, b) => (seen.unschedulableAt.get(a) ?? Infinity) - (seen.unschedulableAt.get(b) ?? Infinity));
  for (const pod of rest) {
    const t0 = seen.unschedulableAt.get(pod) ?? 0;
    const want = Math.max(1, gpusOfPod.get(pod) ?? 1);
    const slot = claims.find((c) => (free.get(c.metadata?.name ?? '') ?? 0) >= want && (seen.claimSeenAt.get(c.metadata?.name ?? '') ?? 0) >= t0)
      ?? claims.find((c) => (free.get(c.metadata?.name ?? '') ?? 0) >= want);
    const name = slot?.metadata?.name;
    if (!name) continue;
    claimOf.set(pod, name);
    free.set(name, (free.get(name) ?? 0) - want);
  }
  // Ours: each NodeClaim's provisioning workflow, read back from Temporal.
  const figures = side === 'ours' && ctx.temporal
    ? await readWorkflowFigures(ctx.temporal, claims.map((c) => provisioningWorkflowId(c.metadata?.name ?? '', c.metadata?.uid ?? '')))
    : undefined;
  const figuresOf = (claim: string): ReturnType<NonNullable<typeof figures>['get']> => {
    const c = claims.find((x) => x.metadata?.name === claim);
    return figures?.get(provisioningWorkflowId(claim, c?.metadata?.uid ?? ''));
  };
  const stages: Stages = { toClaim: [], claimToStart: [], startToFirstTask: [], firstTaskToCreate: [] };
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
    const f = figures ? figuresOf(claim) : undefined;
    if (f?.startedAt !== undefined && f.firstTaskStartedAt !== undefined && seenAt !== undefined && createAt !== undefined) {
      stages.toClaim.push(seenAt - t0);
      stages.claimToStart.push(f.startedAt - seenAt);
      stages.startToFirstTask.push(f.firstTaskStartedAt - f.startedAt);
      stages.firstTaskToCreate.push(createAt - f.firstTaskStartedAt);
    }
  }
  const perClaim = figures ? [...figures.values()] : [];
  const workflows: WorkflowCost | undefined = figures ? {
    read: perClaim.length,
    workflowTasks: sortedCopy(perClaim.map((f) => f.workflowTasks)),
    events: sortedCopy(perClaim.map((f) => f.events)),
    bytes: sortedCopy(perClaim.map((f) => f.bytes)),
    activities: sortedCopy(perClaim.map((f) => f.activities)),
    localActivities: sortedCopy(perClaim.map((f) => f.localActivities)),
    signals: sortedCopy(perClaim.map((f) => f.signals)),
    timersFired: sortedCopy(perClaim.map((f) => f.timersFired)),
    activityTypes: perClaim.reduce<Record<string, number>>((acc, f) => {
      for (const [type, n] of Object.entries(f.activityTypes)) acc[type] = (acc[type] ?? 0) + n;
      return acc;
    }, {}),
    running: perClaim.filter((f) => f.running).length,
  } : undefined;
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
  const boundAtOnce = names.filter((p) => !seen.unschedulableAt.has(p) && seen.bound.has(p)).length;
  const gone = ctx.exited(side);
  const notes = [
    completed ? '' : `not complete after ${ctx.timeoutMs / 60_000} min (${launched}/${claims.length} launched)`,
    gone.length ? `exited during the round: ${gone.join(', ')}` : '',
    unpriced ? `${unpriced} NodeClaims without a known offering` : '',
    boundAtOnce ? `${boundAtOnce} pods bound without being Unschedulable (not in the latencies)` : '',
  ].filter(Boolean);
  const heaps = side === 'ours' ? await Promise.all(ctx.oursMetricsUrls.map(heapOf)) : [];
  const result: RoundResult = {
    side, workload: workload.name, kind: workload.kind, pods: n, round, completed, note: notes.join('; '),
    wallSeconds: (end - start) / 1000,
    toClaim: sortedCopy(toClaim), toCreate: sortedCopy(toCreate), toProviderId: sortedCopy(toProviderId),
    mappedExactly, mappedBySlot: claimOf.size - mappedExactly, neverNominated: n - claimOf.size,
    nodeClaims: claims.length, launched, fleetEurPerHour: fleet,
    instanceTypes: [...types].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${k}× ${t}`).join(', '),
    peakRssBytes: cost.peakRssBytes, cpuSeconds: cost.cpuSeconds,
    peakRssEach: side === 'ours' ? cost.peakRssBytesEach.map((b, i) => `${ctx.oursNames[i] ?? '?'} ${(b / 2 ** 20).toFixed(0)}${heaps[i] ? ` [${heaps[i]}]` : ''}`).join(' + ') : '',
    temporalPeakRssBytes: temporalCost.peakRssBytes, temporalCpuSeconds: temporalCost.cpuSeconds,
    stages: figures ? { toClaim: sortedCopy(stages.toClaim), claimToStart: sortedCopy(stages.claimToStart), startToFirstTask: sortedCopy(stages.startToFirstTask), firstTaskToCreate: sortedCopy(stages.firstTaskToCreate) } : undefined,
    workflows,
    scalewayCalls: sdkCalls.length,
    scalewayByKind,
    apiserverCalls,
  };
  console.log(`[bench] ${side} ${label} (round ${round}): to NodeClaim p50 ${(pct(result.toClaim, 50) / 1000).toFixed(2)} s p99 ${(pct(result.toClaim, 99) / 1000).toFixed(2)} s; to create p50 ${(pct(result.toCreate, 50) / 1000).toFixed(2)} s p99 ${(pct(result.toCreate, 99) / 1000).toFixed(2)} s; ${result.nodeClaims} NodeClaims (${result.instanceTypes}) €${fleet.toFixed(3)}/h; peak RSS ${(cost.peakRssBytes / 2 ** 20).toFixed(0)} MiB${result.peakRssEach ? ` (${result.peakRssEach})` : ''}, CPU ${cost.cpuSeconds.toFixed(1)} s${result.note ? `; ${result.note}` : ''}`);
  await cleanUp(ctx, side, names, workload.daemonSet !== undefined);
  return result;
}

/**
 * A process's V8 heap at the round's end, from its prom-client default metrics: `heap 210 used of 300, external 40,
 * RSS 650` (MiB). What its RSS holds beyond the heap is native (Temporal's core, buffers, code); heap
 * allocated but unused is garbage V8 has not collected yet.
 */
async function heapOf(metricsUrl: string): Promise<string> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
    const value = (name: string): string => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
      return m ? (Number(m[1]) / 2 ** 20).toFixed(0) : '?';
    };
    return `heap ${value('nodejs_heap_size_used_bytes')} used of ${value('nodejs_heap_size_total_bytes')}, external ${value('nodejs_external_memory_bytes')}, RSS now ${value('process_resident_memory_bytes')}`;
  } catch {
    return '';
  }
}

/** Runs `each` over `items`, `concurrency` at a time; errors are the caller's to ignore inside `each`. */
async function forEachLimited<T>(items: readonly T[], concurrency: number, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await each(items[next++] as T);
  }));
}

/**
 * Deletes the round's pods, its DaemonSet and its pool's NodeClaims and waits until they are gone (their
 * Nodes too). One DELETE per object, a few at a time: a delete-collection of 1000 pods outlasts the
 * client's 30 s timeout. What is still there is deleted again every 30 s. Five minutes, or 0.6 s per pod
 * for big bursts (500 termination workflows at once take a while), then the finalizers are removed.
 */
async function cleanUp(ctx: RoundContext, side: Side, names: readonly string[], withDaemonSet: boolean): Promise<void> {
  const { kube } = ctx;
  const pool = POOL[side];
  const timeoutMs = Math.max(300_000, names.length * 600);
  const started = Date.now();
  const selector = encodeURIComponent(`${LABEL_NODEPOOL}=${pool}`);
  const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods`;
  const quietly = (p: Promise<unknown>): Promise<void> => p.then(() => undefined, () => undefined);
  const deleteAll = async (claims: readonly RawNodeClaim[], pods: readonly string[]): Promise<void> => {
    await forEachLimited(pods, ctx.concurrency, (pod) => quietly(kube.delete(`${podsPath}/${pod}?gracePeriodSeconds=0`)));
    await forEachLimited(claims.filter((c) => !c.metadata?.deletionTimestamp), ctx.concurrency, (c) => quietly(kube.delete(clusterPath(NODECLAIM_GVR, c.metadata?.name ?? ''))));
  };
  if (withDaemonSet) await quietly(kube.delete(`${pathOfDaemonSets}/${DAEMONSET_NAME}?propagationPolicy=Background`));
  let lastDelete = 0;
  for (;;) {
    const list = async <T>(path: string): Promise<T[]> => (await kube.get<{ items: T[] }>(path).catch(() => ({ items: [] as T[] }))).items;
    const claims = await list<RawNodeClaim>(`${clusterPath(NODECLAIM_GVR)}?labelSelector=${selector}`);
    const nodes = await list<KubernetesObject>(`/api/v1/nodes?labelSelector=${selector}`);
    const pods = await list<KubernetesObject>(`${podsPath}?labelSelector=${encodeURIComponent(`side=${side}`)}`);
    const daemonSetLeft = withDaemonSet && (await kube.getOrUndefined(`${pathOfDaemonSets}/${DAEMONSET_NAME}`).catch(() => undefined)) !== undefined;
    if (claims.length === 0 && nodes.length === 0 && pods.length === 0 && !daemonSetLeft) break;
    if (Date.now() - lastDelete > 30_000) {
      lastDelete = Date.now();
      await deleteAll(claims, pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? ''));
    }
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
