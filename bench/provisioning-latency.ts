// Pending pod → Scaleway createServer call, and Scaleway calls per provisioned
// node, for bursts of one-GPU pods on the whole stack: a real control plane
// (kube-scheduler marks the pods Unschedulable), a real Temporal dev server,
// the product (worker, watcher, simulated kubelet) and the Scaleway simulator
// on its `recorded` latency profile at timeScale 1.
//
// Run: node --import tsx bench/provisioning-latency.ts --bursts 50,200,500
//      (writes bench/results/provisioning-latency.md)
// Options: --bursts N,N,...  --timeout-min 10  --poll-ms 2000  --concurrency 32
//
// Each burst runs on a fresh stack (new etcd, apiserver, Temporal, simulator):
// no NodeClaims, servers or catalog caches carry over from the previous burst.
//
// What is measured, per pod:
//   t0 = the moment this process's watch first saw the pod with PodScheduled=False,
//        reason Unschedulable (set by the real kube-scheduler), in ms;
//   t1 = the moment the first createServer request for the NodeClaim the pod was
//        nominated to ARRIVED at the simulator. The simulator records only when it
//        answered (RecordedRequest.at, after its 2.4-2.8 s createServer delay), so the
//        product talks to the simulator through a recording pass-through proxy in this
//        process that stamps each request when its headers arrive and reads the
//        server name (= NodeClaim name) from the request body.
// The pod → NodeClaim mapping is the NodeClaim's karpenter.scaleway.com/nominated-pods
// annotation (any NodeClaim the pod was ever listed on), else the pod's Nominated Event.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import type { ControlPlane } from '../sandbox/control-plane.ts';
import type { TemporalDevServer } from '../sandbox/temporal-dev-server.ts';
import { startProduct, type RunningProduct } from '../sandbox/product.ts';
import type { Simulator } from '../scaleway/simulator/index.ts';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';
import { startBenchStack } from './stack.ts';
import { pct, sec } from './stats.ts';
import { watchCollection, type WatchedCollection } from '../watcher/informer.ts';
import { ANNOTATION_NOMINATED_PODS, NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';
import { clusterPath } from '../kube/objects.ts';
import type { KubeRest } from '../kube/rest.ts';

const TARGET_P50_MS = 1_500;
const TARGET_P99_MS = 3_000;
const TARGET_CALLS_PER_NODE = 4;
const NAMESPACE = 'default';
/** Reads of the server-type catalog and availability: one per zone per TTL, shared by the whole burst. */
const CATALOG_KINDS: ReadonlySet<string> = new Set(['listServersTypes', 'getServerTypesAvailability']);

const { values: args } = parseArgs({
  options: {
    bursts: { type: 'string', default: '50,200,500' },
    'timeout-min': { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
  },
});
const bursts = args.bursts.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const timeoutMs = Number(args['timeout-min']) * 60_000;
const pollIntervalMs = Number(args['poll-ms']);
const concurrency = Number(args.concurrency);

// ---------------------------------------------------------------- objects

const nodeClass = {
  apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion,
  kind: SCALEWAY_NODECLASS_GVR.kind,
  metadata: { name: 'gpu' },
  spec: { bootstrap: { mode: 'kubeadm' }, zones: ['fr-par-1', 'fr-par-2'] },
};

function nodePool(): Record<string, unknown> {
  const pool = parseYaml(readFileSync(new URL('../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')) as {
    spec: { limits: Record<string, string>; disruption: Record<string, string> };
  };
  pool.spec.limits = { 'nvidia.com/gpu': '5000' };
  // Nothing is consolidated while the burst launches (nodes can be briefly empty before their pods bind).
  pool.spec.disruption.consolidateAfter = '1h';
  return pool;
}

const gpuPod = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { bench: 'provisioning-latency' } },
  spec: {
    tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: { cpu: '100m', memory: '256Mi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }],
  },
});

// ---------------------------------------------------------------- measurement

interface RawPod extends KubernetesObject {
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; lastTransitionTime?: string }[] };
}
interface RawNodeClaim extends KubernetesObject {
  status?: { providerID?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const median = (xs: readonly number[]): number => pct([...xs].sort((a, b) => a - b), 50);

interface BurstResult {
  pods: number;
  completed: boolean;
  note: string;
  wallSeconds: number;
  /** Pods with both t0 and t1. */
  measured: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  /** Same, with t0 = the condition's lastTransitionTime (1 s precision). */
  p50Condition: number;
  p99Condition: number;
  /** Stage medians (ms): t0 → NodeClaim seen by this process's watch, NodeClaim seen → createServer arrival. */
  stageToClaim: number;
  stageClaimToCreate: number;
  stageClaimToCreateP99: number;
  /** Pod created (POST answered) → t0, median ms. */
  stageCreateToUnschedulable: number;
  nodeClaims: number;
  launched: number;
  instanceTypes: string;
  createAttempts: number;
  createFailures: number;
  /** Calls in the window from the first pod POST until every NodeClaim is Launched. */
  sdkCalls: number;
  kubeletCalls: number;
  simRecorded: number;
  byKind: [string, number][];
  catalogCalls: number;
  /** createServer answered − arrived, to check the proxy against the profile's 2.4-2.8 s. */
  createResponseMedian: number;
  allLaunchedAfterMs: number;
  unnominated: number;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

async function withTimeout(what: string, work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch((err: unknown) => console.warn(`[bench] ${what}: ${err instanceof Error ? err.message : String(err)}`)),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        console.warn(`[bench] ${what}: still running after ${ms / 1000} s, moving on`);
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

async function runBurst(n: number): Promise<BurstResult> {
  const dir = mkdtempSync(join(tmpdir(), `scwk-bench-${n}-`));
  let controlPlane: ControlPlane | undefined;
  let temporal: TemporalDevServer | undefined;
  let simulator: Simulator | undefined;
  let proxy: RecordingProxy | undefined;
  let product: RunningProduct | undefined;
  const watches: WatchedCollection<KubernetesObject>[] = [];
  try {
    console.log(`[bench] burst ${n}: starting a fresh stack in ${dir}`);
    [controlPlane, temporal, simulator] = await startBenchStack(dir);
    proxy = await startRecordingProxy(simulator.url);
    // The product (SDK and simulated kubelet) sees the proxy's URL; servers() etc. are the simulator's own.
    const proxied: Simulator = { ...simulator, url: proxy.url };
    product = await startProduct({ controlPlane, temporal, simulator: proxied, pollIntervalMs });
    const kube: KubeRest = product.kube;

    await kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClass);
    await kube.post(clusterPath(NODEPOOL_GVR), nodePool());
    await waitFor('the ScalewayNodeClass Ready', async () => {
      const nc = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, 'gpu'));
      return nc.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    }, 120_000);
    // As in a running cluster, the worker was deployed after the NodeClass existed: it starts with the
    // catalogs of the NodeClass's zones read (worker/warm-caches.ts), as the watcher's are.
    await product.restartWorker();
    await sleep(2_000); // the watcher's NodePool and NodeClass caches catch up, the worker's catalogs are read

    // Watches of this process: when each pod went Unschedulable, when each NodeClaim appeared and launched.
    const unschedulableSeen = new Map<string, number>();
    const unschedulableCondition = new Map<string, number>();
    const claimSeen = new Map<string, number>();
    const claimLaunched = new Map<string, number>();
    const claimsOfPod = new Map<string, Set<string>>();
    const claimFailures = new Map<string, string>();
    watches.push(await watchCollection<KubernetesObject>(kube, `/api/v1/namespaces/${NAMESPACE}/pods`, (obj, event) => {
      if (event === 'delete') return;
      const pod = obj as RawPod;
      const name = pod.metadata?.name ?? '';
      if (unschedulableSeen.has(name) || pod.spec?.nodeName) return;
      const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
      if (!cond) return;
      unschedulableSeen.set(name, Date.now());
      if (cond.lastTransitionTime) unschedulableCondition.set(name, Date.parse(cond.lastTransitionTime));
    }, { name: 'bench pods' }));
    watches.push(await watchCollection<KubernetesObject>(kube, clusterPath(NODECLAIM_GVR), (obj, event) => {
      if (event === 'delete') return;
      const claim = obj as RawNodeClaim;
      const name = claim.metadata?.name ?? '';
      if (!claimSeen.has(name)) claimSeen.set(name, Date.now());
      for (const key of (claim.metadata?.annotations?.[ANNOTATION_NOMINATED_PODS] ?? '').split(',')) {
        if (!key) continue;
        const pod = key.slice(key.indexOf('/') + 1);
        claimsOfPod.set(pod, (claimsOfPod.get(pod) ?? new Set()).add(name));
      }
      if (claim.status?.providerID && !claimLaunched.has(name)) claimLaunched.set(name, Date.now());
      const launchedFalse = claim.status?.conditions?.find((c) => c.type === 'Launched' && c.status === 'False');
      if (launchedFalse) claimFailures.set(name, `${launchedFalse.reason ?? ''}: ${launchedFalse.message ?? ''}`);
    }, { name: 'bench nodeclaims' }));

    // The burst: every pod POSTed as fast as the apiserver takes them.
    const names = Array.from({ length: n }, (_, i) => `gpu-${String(i).padStart(4, '0')}`);
    const createdAt = new Map<string, number>();
    const start = Date.now();
    const callsBefore = proxy.calls.length;
    const simBefore = simulator.requests.length;
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < names.length) {
        const name = names[next++] ?? '';
        await kube.post(`/api/v1/namespaces/${NAMESPACE}/pods`, gpuPod(name));
        createdAt.set(name, Date.now());
      }
    }));
    console.log(`[bench] burst ${n}: ${n} pods created in ${sec(Date.now() - start)} s`);

    // Until every pod is nominated to a NodeClaim and every NodeClaim has a providerID (Launched).
    const deadline = start + timeoutMs;
    let completed = false;
    let lastLog = 0;
    let nominatedByEvent = new Map<string, string>();
    let allLaunchedAt = NaN;
    for (;;) {
      const claims = (await kube.get<{ items: RawNodeClaim[] }>(clusterPath(NODECLAIM_GVR))).items;
      const live = claims.filter((c) => !c.metadata?.deletionTimestamp);
      const launched = live.filter((c) => c.status?.providerID).length;
      const nominated = names.filter((p) => claimsOfPod.has(p)).length;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        console.log(`[bench] burst ${n}: +${sec(Date.now() - start)} s  unschedulable ${unschedulableSeen.size}/${n}  nominated ${nominated}/${n}  NodeClaims ${live.length}, launched ${launched}  createServer calls ${proxy.calls.filter((c) => c.kind === 'createServer').length}`);
      }
      if (live.length > 0 && launched === live.length) {
        if (nominated < n) {
          // Pods placed on room left on an earlier NodeClaim are told so by an Event only.
          const events = (await kube.get<{ items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>(`/api/v1/namespaces/${NAMESPACE}/events?fieldSelector=${encodeURIComponent('reason=Nominated')}`)).items;
          nominatedByEvent = new Map(events.flatMap((e) => {
            const m = /nodeclaim\/(\S+)/.exec(e.message);
            return e.involvedObject.kind === 'Pod' && m?.[1] ? [[e.involvedObject.name, m[1]] as [string, string]] : [];
          }));
        }
        if (names.every((p) => claimsOfPod.has(p) || nominatedByEvent.has(p))) {
          completed = true;
          allLaunchedAt = Date.now();
          break;
        }
      }
      if (Date.now() > deadline) {
        allLaunchedAt = Date.now();
        break;
      }
      await sleep(500);
    }
    const wallSeconds = (allLaunchedAt - start) / 1000;

    // t1 per NodeClaim: the first createServer request carrying its name.
    const creates = proxy.calls.filter((c) => c.kind === 'createServer');
    const firstCreate = new Map<string, number>();
    for (const c of creates) if (c.serverName && !firstCreate.has(c.serverName)) firstCreate.set(c.serverName, c.arrivedAt);

    const latencies: number[] = [];
    const latenciesCondition: number[] = [];
    const toClaim: number[] = [];
    const createToUnsched: number[] = [];
    let unnominated = 0;
    for (const pod of names) {
      const t0 = unschedulableSeen.get(pod);
      const claimNames = [...(claimsOfPod.get(pod) ?? []), ...(nominatedByEvent.has(pod) ? [nominatedByEvent.get(pod) ?? ''] : [])];
      if (claimNames.length === 0) unnominated++;
      const t1s = claimNames.flatMap((c) => (firstCreate.has(c) ? [firstCreate.get(c) ?? NaN] : []));
      const t1 = t1s.length ? Math.min(...t1s) : undefined;
      const created = createdAt.get(pod);
      if (t0 !== undefined && created !== undefined) createToUnsched.push(t0 - created);
      if (t0 === undefined || t1 === undefined) continue;
      latencies.push(t1 - t0);
      const tc = unschedulableCondition.get(pod);
      if (tc !== undefined) latenciesCondition.push(t1 - tc);
      const seen = claimNames.flatMap((c) => (claimSeen.has(c) ? [claimSeen.get(c) ?? NaN] : []));
      if (seen.length) toClaim.push(Math.min(...seen) - t0);
    }
    const claimToCreate = [...firstCreate].flatMap(([claim, at]) => (claimSeen.has(claim) ? [at - (claimSeen.get(claim) ?? NaN)] : [])).sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    latenciesCondition.sort((a, b) => a - b);

    const window = proxy.calls.slice(callsBefore).filter((c) => c.arrivedAt <= allLaunchedAt);
    const sdk = window.filter((c) => c.fromSdk);
    const byKind = new Map<string, number>();
    for (const c of sdk) byKind.set(c.kind ?? `${c.method} ${c.path}`, (byKind.get(c.kind ?? `${c.method} ${c.path}`) ?? 0) + 1);
    const claims = (await kube.get<{ items: (RawNodeClaim & { metadata: { labels?: Record<string, string> } })[] }>(clusterPath(NODECLAIM_GVR))).items;
    const launched = claims.filter((c) => c.status?.providerID);
    const types = new Map<string, number>();
    for (const c of claims) {
      const t = c.metadata.labels?.['node.kubernetes.io/instance-type'] ?? '?';
      types.set(t, (types.get(t) ?? 0) + 1);
    }
    const note = completed ? '' : `not complete after ${timeoutMs / 60_000} min: ${launched.length}/${claims.length} NodeClaims launched, ${unschedulableSeen.size}/${n} pods seen Unschedulable`;
    if (claimFailures.size) console.log(`[bench] burst ${n}: Launched=False on ${claimFailures.size} NodeClaims, e.g. ${[...claimFailures].slice(0, 3).map(([k, v]) => `${k} ${v}`).join('; ')}`);
    return {
      pods: n,
      completed,
      note,
      wallSeconds,
      measured: latencies.length,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      max: latencies.at(-1) ?? NaN,
      min: latencies[0] ?? NaN,
      p50Condition: pct(latenciesCondition, 50),
      p99Condition: pct(latenciesCondition, 99),
      stageToClaim: median(toClaim),
      stageClaimToCreate: pct(claimToCreate, 50),
      stageClaimToCreateP99: pct(claimToCreate, 99),
      stageCreateToUnschedulable: median(createToUnsched),
      nodeClaims: claims.length,
      launched: launched.length,
      instanceTypes: [...types].sort((a, b) => b[1] - a[1]).map(([t, k]) => `${k}× ${t}`).join(', '),
      createAttempts: creates.length,
      createFailures: creates.filter((c) => c.status !== undefined && c.status >= 400).length,
      sdkCalls: sdk.length,
      kubeletCalls: window.length - sdk.length,
      simRecorded: simulator.requests.slice(simBefore).filter((r) => r.at <= allLaunchedAt).length,
      byKind: [...byKind].sort((a, b) => b[1] - a[1]),
      catalogCalls: sdk.filter((c) => CATALOG_KINDS.has(c.kind ?? '')).length,
      createResponseMedian: median(creates.flatMap((c) => (c.answeredAt ? [c.answeredAt - c.arrivedAt] : []))),
      allLaunchedAfterMs: allLaunchedAt - start,
      unnominated,
    };
  } finally {
    console.log(`[bench] burst ${n}: stopping the stack`);
    for (const w of watches) await withTimeout('stopping a watch', w.stop(), 10_000);
    if (product) await withTimeout('stopping the product', product.stop(), 60_000);
    if (proxy) await withTimeout('stopping the proxy', proxy.close(), 10_000);
    if (simulator) await withTimeout('stopping the simulator', simulator.close(), 10_000);
    if (temporal) await withTimeout('stopping Temporal', temporal.stop(), 30_000);
    if (controlPlane) await withTimeout('stopping the control plane', controlPlane.stop(), 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

function report(results: BurstResult[], failures: string[]): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const ok = (v: number, target: number): string => (Number.isFinite(v) ? (v <= target ? ' ✓' : ' ✗') : '');
  const lines = [
    '# Pending pod → Scaleway create call, and Scaleway calls per node',
    '',
    `Date: ${new Date().toISOString()}. Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}.`,
    `Command: \`node --import tsx bench/provisioning-latency.ts --bursts ${bursts.join(',')}\` (timeout ${timeoutMs / 60_000} min per burst, worker poll interval ${pollIntervalMs} ms, ${concurrency} concurrent pod POSTs).`,
    '',
    'Stack: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler; Temporal dev server (in memory, one task-queue partition); the product (worker, watcher with the default 1 s idle / 10 s max batch, simulated kubelet) in the benchmark process, the worker restarted once the NodeClass is Ready so that it starts with its catalogs read, as a long-running one has them; Scaleway simulator on the `recorded` profile at timeScale 1 (createServer answers after 2.4-2.8 s, GPU servers run 17.6 s after poweron). A fresh stack per burst. ScalewayNodeClass kubeadm, zones fr-par-1 + fr-par-2; NodePool = examples/nodepool-gpu.yaml with `nvidia.com/gpu: "5000"`. Pods: 1 GPU, 100m CPU, 256Mi, tolerate the pool taint, no node selector.',
    '',
    '**Latency** = t1 − t0 per pod. t0: this process\'s pod watch first saw PodScheduled=False/Unschedulable (set by kube-scheduler). t1: the first createServer request for the NodeClaim whose `karpenter.scaleway.com/nominated-pods` lists the pod (or its Nominated Event names) **arrived** at the simulator — stamped by a pass-through proxy in front of the simulator, because the simulator records only when it answered. The "condition" columns use the condition\'s lastTransitionTime (1 s precision, truncated) as t0 instead.',
    '',
    `Targets: p50 ≤ ${TARGET_P50_MS / 1000} s, p99 ≤ ${TARGET_P99_MS / 1000} s; Scaleway calls per provisioned node ≤ ${TARGET_CALLS_PER_NODE}, amortized.`,
    '',
    '| pods | done | pods measured | p50 s | p99 s | max s | min s | p50 s (condition t0) | p99 s (condition t0) | NodeClaims (launched) | all launched after s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.pods} | ${r.completed ? 'yes' : 'no'} | ${r.measured} | ${sec(r.p50)}${ok(r.p50, TARGET_P50_MS)} | ${sec(r.p99)}${ok(r.p99, TARGET_P99_MS)} | ${sec(r.max)} | ${sec(r.min)} | ${sec(r.p50Condition)} | ${sec(r.p99Condition)} | ${r.nodeClaims} (${r.launched}) | ${sec(r.allLaunchedAfterMs)} |`),
    '',
    'Where the time goes (medians, s): pod POST answered → seen Unschedulable; t0 → its NodeClaim seen by the watch (batching + planning + NodeClaim POSTs); NodeClaim seen → createServer arrives (workflow start and the activities before the create).',
    '',
    '| pods | POST → Unschedulable | t0 → NodeClaim | NodeClaim → createServer (p50 / p99) | createServer answer time | instance types |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.pods} | ${sec(r.stageCreateToUnschedulable)} | ${sec(r.stageToClaim)} | ${sec(r.stageClaimToCreate)} / ${sec(r.stageClaimToCreateP99)} | ${sec(r.createResponseMedian)} | ${r.instanceTypes} |`),
    '',
    '**Scaleway calls per provisioned node**: every call the product (scaleway-sdk-js) made, from the first pod POST until every NodeClaim had a providerID (Launched), divided by the launched NodeClaims. Catalog reads (listServersTypes, getServerTypesAvailability: one per zone per 60 s cache TTL, shared by the burst) are shown apart; the watcher and the worker read them ahead (a NodeClass seen, a worker started), so a burst within a minute of that has none in its window: count 6 more reads per zone per process for each minute of activity (3 pages of types, 3 of availability). The simulated kubelet\'s own reads of cloud-init are not the product\'s and are excluded.',
    '',
    '| pods | SDK calls | per node | per node without catalog reads | createServer attempts (failed) | kubelet reads | simulator log, all |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => {
      const per = r.sdkCalls / Math.max(1, r.launched);
      const perNoCat = (r.sdkCalls - r.catalogCalls) / Math.max(1, r.launched);
      return `| ${r.pods} | ${r.sdkCalls} | ${per.toFixed(2)}${ok(per, TARGET_CALLS_PER_NODE)} | ${perNoCat.toFixed(2)} | ${r.createAttempts} (${r.createFailures}) | ${r.kubeletCalls} | ${r.simRecorded} |`;
    }),
    '',
    'By kind (calls; per launched node):',
    '',
    ...results.map((r) => `- ${r.pods} pods: ${r.byKind.map(([k, v]) => `${k} ${v} (${(v / Math.max(1, r.launched)).toFixed(2)})${CATALOG_KINDS.has(k) ? ' [catalog, one-off]' : ''}`).join(', ')}`),
    '',
    ...results.filter((r) => r.note || r.unnominated).map((r) => `- ${r.pods} pods: ${r.note}${r.unnominated ? ` ${r.unnominated} pods never nominated.` : ''}`),
    ...failures.map((f) => `- ${f}`),
    '',
  ];
  return lines.join('\n');
}

const results: BurstResult[] = [];
const failures: string[] = [];
// Ctrl-C or a kill: exit through process.exit so sandbox/processes.ts stops the stack's child processes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`[bench] ${signal}: stopping; bursts finished so far are in bench/results/provisioning-latency.md`);
    process.exit(130);
  });
}
for (const n of bursts) {
  try {
    const r = await runBurst(n);
    results.push(r);
    console.log(`[bench] burst ${n}: p50 ${sec(r.p50)} s, p99 ${sec(r.p99)} s, max ${sec(r.max)} s over ${r.measured} pods; ${r.nodeClaims} NodeClaims (${r.launched} launched); ${(r.sdkCalls / Math.max(1, r.launched)).toFixed(2)} Scaleway calls per node${r.note ? `; ${r.note}` : ''}`);
    console.log(`[bench]   by kind: ${r.byKind.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  } catch (err) {
    const message = `burst ${n} failed: ${err instanceof Error ? err.message : String(err)}`;
    console.error(`[bench] ${message}`);
    failures.push(message);
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/provisioning-latency.md', import.meta.url), report(results, failures));
}
console.log('[bench] wrote bench/results/provisioning-latency.md');
const bad = failures.length > 0 || results.some((r) => !r.completed || r.p50 > TARGET_P50_MS || r.p99 > TARGET_P99_MS || r.sdkCalls / Math.max(1, r.launched) > TARGET_CALLS_PER_NODE);
process.exit(bad ? 1 : 0);
