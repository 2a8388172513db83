// One chaos run, start to end: the real stack (control plane with its
// controllers, a Temporal dev server persisting to disk, the Scaleway simulator
// and the simulated kubelets in this process; the worker and the watcher as
// their own processes), the seeded plan played against it with faults on, a
// settle period with faults off, then the invariants and the secret scan.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { startControlPlane, type ControlPlane } from '../sandbox/control-plane.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../sandbox/temporal-dev-server.ts';
import { startKubeletSimulator, type KubeletFaults, type KubeletSimulator } from '../sandbox/kubelet-simulator.ts';
import { prepareCluster } from '../sandbox/product.ts';
import { componentIdentity, installRbac, RELEASE_NAMESPACE, type ServiceAccountIdentity } from '../sandbox/service-accounts.ts';
import { simulatorServers } from '../sandbox/simulated-servers.ts';
import { startSimulator, type Simulator } from '../scaleway/simulator/index.ts';
import { mulberry32, type ChaosFaultKind, type ChaosRates } from '../scaleway/simulator/faults.ts';
import { TEST_CREDENTIALS } from '../scaleway/simulator/testing.ts';
import { isAlreadyExists, isNotFound, type KubeRest } from '../kube/rest.ts';
import { clusterPath } from '../kube/objects.ts';
import { NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';
import { parseDuration } from '../kube/api/duration.ts';
import { codecKeysEnv, generateCodecKeys } from '../runtime/codec-key.ts';
import { AesGcmPayloadCodec, temporalDataConverter } from '../runtime/payload-codec.ts';
import { checkListing, countViolations, serverNodeClaimUid, volumeNodeClaimUid, type Deadlines, type NodeClaimFacts, type Violation, type ViolationKind } from './checks.ts';
import { readCloud, readListing, readNodeClaims, readNodes, readTokens } from './listing.ts';
import { directNodeClaim, gpuPod, NODECLASS, nodeClass, nodePool, POD_LABEL, type Timeouts } from './objects.ts';
import { derivedSeed, describeAction, KILL_TARGETS, makePlan, pickAt, type KillTarget, type PlanAction } from './plan.ts';
import { productProcess, type ProductProcess } from './processes.ts';
import { runSecrets, scanRun } from './secrets.ts';

export const KUBELET_FAULT_KINDS = ['never_joins', 'not_ready', 'no_gpu'] as const;
export type KubeletFaultKind = (typeof KUBELET_FAULT_KINDS)[number];

export interface ChaosRunOptions {
  provisionings: number;
  seed: number;
  /** Run folder: logs, the Temporal database, etcd, report.json. */
  dir: string;
  /** Scale of the simulator's recorded latencies. */
  timeScale: number;
  timeouts: Timeouts;
  /** Longest wait, faults off, for everything to end Ready or gone. */
  settleMaxMs: number;
  rates: ChaosRates;
  kubeletRates: Partial<Record<KubeletFaultKind, number>>;
  /** GC settings given to the worker. */
  gcInterval: string;
  gcGracePeriod: string;
  log: (line: string) => void;
  /**
   * Aborted when the run must end now (SIGTERM, a test's timeout): the run logs the phase it
   * was in and what was still in flight, stops every process it started, then calls onInterrupted.
   */
  signal?: AbortSignal;
  onInterrupted?: () => void;
}

export interface ChaosFigures {
  seed: number;
  planned: number;
  /** NodeClaims seen (each one provisioning), Ready at some point, deleted by the plan. */
  nodeClaims: number;
  /** Of those, made while faults were on (the others come from the settle period's re-planning). */
  nodeClaimsDuringFaults: number;
  reachedReady: number;
  deletedByPlan: number;
  podsCreated: number;
  podsPendingAtEnd: number;
  scalewayFaults: Record<ChaosFaultKind, number>;
  kubeletFaults: Record<KubeletFaultKind, number>;
  kills: Record<KillTarget, number>;
  crashes: { worker: number; watcher: number };
  violations: Record<ViolationKind, number>;
  secretsFound: number;
  secretsSearched: string;
  workflows: Record<string, number>;
  timeMs: { total: number; stack: number; plan: number; settle: number; checks: number };
  settled: boolean;
}

export interface ChaosReport {
  figures: ChaosFigures;
  violations: Violation[];
  secretFindings: string[];
  /** Things to look at that break no invariant (pods left pending). */
  notes: string[];
  ok: boolean;
}

export const CLUSTER_NAME = 'chaos';
/** Margin on top of the NodeClass timeouts before a NodeClaim counts as stuck (retries, backoff, a restart). */
const STUCK_MARGIN_MS = 90_000;
/** Deletion to gone: drain (grace 0), release with locks and slow detaches (30 s each at most), retries. */
const DELETION_LIMIT_MS = 180_000;
const OBSERVE_EVERY_MS = 2_000;
const SETTLE_POLL_MS = 3_000;
/** Converged this many polls in a row before the settle ends early. */
const SETTLED_POLLS = 2;
/** Pods still pending once nothing else moves: the provisioner retries within 30 s and batches for 10 s at most. */
const PENDING_PODS_GRACE_MS = 60_000;
const POD_SELECTOR = Object.entries(POD_LABEL).map(([k, v]) => `${k}=${v}`).join(',');

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** The suite's own calls ride out an apiserver restart. */
async function retrying<T>(what: string, fn: () => Promise<T>, log: (line: string) => void, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      if (attempt === 3) log(`  (${what} still failing: ${err instanceof Error ? err.message : String(err)}; retrying)`);
      await sleep(Math.min(2_000, 250 * attempt));
    }
  }
}

export async function runChaos(options: ChaosRunOptions): Promise<ChaosReport> {
  const { log } = options;
  const started = Date.now();
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((err: unknown) => log(`stopping: ${String(err)}`));
  };
  let phase = 'starting the stack';
  const pending = new Set<string>();
  const onAbort = (): void => {
    const inFlight = pending.size > 0 ? `; still in flight: ${[...pending].join('; ')}` : '';
    log(`interrupted ${((Date.now() - started) / 1000).toFixed(0)} s in, while ${phase}${inFlight}; stopping every process`);
    void stopAll().finally(() => options.onInterrupted?.());
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    mkdirSync(options.dir, { recursive: true });
    // --- the stack -------------------------------------------------------------------------------
    log(`stack: control plane, Temporal (persisted), simulator, worker and watcher processes in ${options.dir}`);
    const [controlPlane, temporal] = await Promise.all([
      startControlPlane({ dir: join(options.dir, 'kube'), withControllers: true }),
      (async (): Promise<TemporalDevServer> => {
        mkdirSync(join(options.dir, 'temporal'), { recursive: true });
        return startTemporalDevServer({ dir: join(options.dir, 'temporal'), headless: true, persist: true });
      })(),
    ]);
    stops.push(() => controlPlane.stop(), () => temporal.stop());
    const sim = await startSimulator({ profile: 'recorded', timeScale: options.timeScale, secretKey: TEST_CREDENTIALS.secretKey });
    stops.push(() => sim.close());
    const kube = await prepareCluster(controlPlane);
    // The processes authenticate as their ServiceAccounts, bound to the chart's roles, as their Deployments do.
    await installRbac(kube);
    const identities: Record<'worker' | 'watcher', ServiceAccountIdentity> = {
      worker: await componentIdentity(kube, controlPlane, 'worker', join(options.dir, 'identities', 'worker')),
      watcher: await componentIdentity(kube, controlPlane, 'watcher', join(options.dir, 'identities', 'watcher')),
    };
    const asServiceAccount = (component: 'worker' | 'watcher'): NodeJS.ProcessEnv => ({
      KUBECONFIG: identities[component].kubeconfig,
      POD_NAMESPACE: RELEASE_NAMESPACE,
      POD_NAME: `scw-karpenter-${component}-chaos`,
    });

    const codecKeys = generateCodecKeys();
    const codec = new AesGcmPayloadCodec(codecKeys);
    const env: NodeJS.ProcessEnv = {
      ...codecKeysEnv(codecKeys),
      PAYLOAD_CODEC_REQUIRED: 'true',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_UI_URL: temporal.uiUrl,
      SCW_ACCESS_KEY: TEST_CREDENTIALS.accessKey,
      SCW_SECRET_KEY: TEST_CREDENTIALS.secretKey,
      SCW_DEFAULT_PROJECT_ID: TEST_CREDENTIALS.projectId,
      SCW_API_URL: sim.url,
      CLUSTER_NAME,
      GC_INTERVAL: options.gcInterval,
      GC_GRACE_PERIOD: options.gcGracePeriod,
      // Each process (and each restart of it) on free ports: here they share one host, pods would not.
      METRICS_PORT: '0',
      HEALTH_PROBE_PORT: '0',
    };
    const products: Record<'worker' | 'watcher', ProductProcess> = {
      worker: productProcess('worker', { ...env, ...asServiceAccount('worker') }, join(options.dir, 'worker.log'), log),
      watcher: productProcess('watcher', { ...env, ...asServiceAccount('watcher') }, join(options.dir, 'watcher.log'), log),
    };
    for (const p of Object.values(products)) {
      p.start();
      stops.push(() => p.stop());
    }

    // The NodeClass and the NodePool once a watcher leads, as a user applies them to a running
    // controller; the plan starts when the NodeClass is Ready.
    await waitFor('a watcher holding the leader Lease', async () => {
      const lease = await kube.getOrUndefined<{ spec?: { holderIdentity?: string } }>(`/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NAMESPACE}/leases/scw-karpenter-watcher`);
      return Boolean(lease?.spec?.holderIdentity);
    }, 120_000);
    await kube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClass(options.timeouts));
    await kube.post(clusterPath(NODEPOOL_GVR), nodePool());
    await waitFor(`ScalewayNodeClass ${NODECLASS} Ready`, async () => {
      const nc = await kube.getOrUndefined<{ status?: { conditions?: { type: string; status: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, NODECLASS));
      return nc?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    }, 120_000);

    const kubelet = startChaosKubelet({ sim, kube, controlPlane, seed: derivedSeed(options.seed, 'kubelet'), rates: options.kubeletRates, logFile: join(options.dir, 'kubelet.log') });
    stops.push(() => kubelet.simulator.stop());
    const stackMs = Date.now() - started;
    log(`stack up in ${(stackMs / 1000).toFixed(1)} s`);

    // --- the plan, faults on ---------------------------------------------------------------------
    const plan = makePlan({ seed: options.seed, provisionings: options.provisionings });
    const seen = new Map<string, { name: string; ready: boolean; duringFaults: boolean }>();
    let faultsOn = true;
    const observe = (claims: readonly NodeClaimFacts[]): void => {
      for (const c of claims) {
        const entry = seen.get(c.uid) ?? { name: c.name, ready: false, duringFaults: faultsOn };
        entry.ready ||= c.conditions.some((x) => x.type === 'Ready' && x.status === 'True');
        seen.set(c.uid, entry);
      }
    };
    let observing = true;
    const observer = (async () => {
      while (observing) {
        await readNodeClaims(kube).then(observe, () => undefined);
        await sleep(OBSERVE_EVERY_MS);
      }
    })();

    sim.faults.chaos({ seed: derivedSeed(options.seed, 'scaleway'), rates: options.rates });
    const kills = Object.fromEntries(KILL_TARGETS.map((t) => [t, 0])) as Record<KillTarget, number>;
    const targetBusy = new Map<KillTarget, Promise<void>>();
    let podsCreated = 0;
    let deletedByPlan = 0;
    const planStart = Date.now();
    const stamp = (): string => `+${((Date.now() - planStart) / 1000).toFixed(1)}s`;

    const kill = async (target: KillTarget, downMs: number): Promise<void> => {
      kills[target] += 1;
      if (target === 'worker' || target === 'watcher') {
        await products[target].kill();
        await sleep(downMs);
        products[target].start();
      } else if (target === 'temporal') {
        await temporal.restart({ kill: true, downMs });
      } else {
        await controlPlane.restartApiserver({ kill: true, downMs });
      }
      log(`${stamp()}   ${target} back`);
    };
    const act = async (action: PlanAction): Promise<void> => {
      switch (action.kind) {
        case 'pods': {
          for (let i = 0; i < action.count; i++) {
            const name = `chaos-pod-${++podsCreated}`;
            await retrying(`creating pod ${name}`, async () => {
              await kube.post('/api/v1/namespaces/default/pods', gpuPod(name)).catch((err: unknown) => {
                if (!isAlreadyExists(err)) throw err;
              });
            }, log);
          }
          return;
        }
        case 'delete-pods': {
          const pods = await retrying('listing pods', () => kube.get<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(
            `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(POD_SELECTOR)}`), log);
          const names = pods.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
          const first = pickAt(names.map((_, i) => i), action.pick) ?? 0;
          for (const name of names.slice(first, first + action.count)) {
            log(`${stamp()}   deleting pod ${name}`);
            await retrying(`deleting pod ${name}`, () => kube.delete(`/api/v1/namespaces/default/pods/${name}`, { gracePeriodSeconds: 0 }).catch((err: unknown) => {
              if (!isNotFound(err)) throw err;
            }), log);
          }
          return;
        }
        case 'nodeclaim':
          await retrying(`creating NodeClaim ${action.name}`, () => kube.post(clusterPath(NODECLAIM_GVR), directNodeClaim(action.name)).catch((err: unknown) => {
            if (!isAlreadyExists(err)) throw err;
          }), log);
          return;
        case 'delete-nodeclaim': {
          let name = action.name;
          if (!name) {
            const claims = await retrying('listing NodeClaims', () => readNodeClaims(kube), log);
            const provisioning = claims.filter((c) => c.deletingSince === undefined && !c.conditions.some((x) => x.type === 'Ready' && x.status === 'True')).map((c) => c.name).sort();
            name = pickAt(provisioning, action.pick);
          }
          if (!name) {
            log(`${stamp()}   no NodeClaim provisioning: nothing to delete`);
            return;
          }
          const target = name;
          const deleted = await retrying(`deleting NodeClaim ${target}`, () => kube.delete(clusterPath(NODECLAIM_GVR, target)).then(() => true, (err: unknown) => {
            if (isNotFound(err)) return false;
            throw err;
          }), log);
          if (deleted) {
            deletedByPlan += 1;
            log(`${stamp()}   deleted NodeClaim ${target}`);
          }
          return;
        }
        case 'faults-off':
          return;
        case 'kill': {
          // A target still down from the last kill is killed again once it is back.
          const previous = targetBusy.get(action.target) ?? Promise.resolve();
          const next = previous.then(() => kill(action.target, action.downMs));
          targetBusy.set(action.target, next.catch(() => undefined));
          await next;
          return;
        }
      }
    };

    log(`plan: ${plan.length} steps for ${options.provisionings} provisionings, seed ${options.seed}`);
    phase = 'running the plan';
    const inFlight: Promise<void>[] = [];
    for (const step of plan) {
      await sleep(Math.max(0, planStart + step.atMs - Date.now()));
      const what = describeAction(step.action);
      const entry = `${stamp()} ${what}`;
      log(entry);
      pending.add(entry);
      inFlight.push(act(step.action)
        .catch((err: unknown) => log(`${stamp()}   failed: ${what}: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => pending.delete(entry)));
    }
    phase = "waiting for the plan's last actions";
    await Promise.all(inFlight);
    const planMs = Date.now() - planStart;

    // --- settle, faults off ----------------------------------------------------------------------
    sim.faults.chaosOff();
    kubelet.stopFaults();
    await readNodeClaims(kube).then(observe, () => undefined);
    faultsOn = false;
    for (const p of Object.values(products)) p.start();
    log(`${stamp()} plan done; faults off, every process up; settling (at most ${options.settleMaxMs / 1000} s)`);
    phase = 'settling';
    const deadlines = deadlinesOf(options.timeouts);
    const settleStart = Date.now();
    let settled = false;
    let convergedPolls = 0;
    let convergedSince = 0;
    let lastLine = '';
    while (Date.now() - settleStart < options.settleMaxMs) {
      await sleep(SETTLE_POLL_MS);
      const state = await settleState(kube, sim).catch((err: unknown): SettleState => ({ blocking: [`unreadable: ${String(err)}`], podsNotRunning: 0 }));
      const line = [...state.blocking, state.podsNotRunning ? `${state.podsNotRunning} pod(s) not Running` : ''].filter(Boolean).join(', ');
      if (line !== lastLine) log(`${stamp()}   ${line || 'converged'}`);
      lastLine = line;
      if (state.blocking.length > 0) {
        convergedPolls = 0;
        continue;
      }
      if (convergedPolls++ === 0) convergedSince = Date.now();
      // Pods left pending with nothing in flight: give the provisioner its retry and batch time, then stop waiting.
      if (convergedPolls >= SETTLED_POLLS && (state.podsNotRunning === 0 || Date.now() - convergedSince >= PENDING_PODS_GRACE_MS)) {
        settled = true;
        break;
      }
    }
    const settleMs = Date.now() - settleStart;
    observing = false;
    await observer;

    // --- the checks ------------------------------------------------------------------------------
    phase = 'checking the invariants';
    const checksStart = Date.now();
    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace, dataConverter: temporalDataConverter(codec) });
    const { listing, eventsText } = await readListing({ sim, kube, client, clusterName: CLUSTER_NAME });
    observe(listing.nodeClaims);
    const violations = checkListing(listing, deadlines);
    const secrets = runSecrets({
      joinSecrets: kubelet.simulator.joinSecrets,
      scalewaySecretKey: TEST_CREDENTIALS.secretKey,
      codecKey: codecKeys.current.key.toString('base64'),
      keyFiles: { 'kubeconfig client key': adminKeyFile(controlPlane), 'cluster CA key': controlPlane.pki.caKey },
      tokens: Object.fromEntries(Object.values(identities).map((i) => [`${i.name} ServiceAccount token`, i.token])),
    });
    const scan = await scanRun({ secrets, client, codec, logDir: options.dir, eventsText });
    const pods = await kube.get<{ items: { metadata: { name: string }; status?: { phase?: string } }[] }>(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(POD_SELECTOR)}`);
    const notes = await pendingPodNotes(kube, pods.items.filter((p) => p.status?.phase !== 'Running').map((p) => p.metadata.name));
    const workflows: Record<string, number> = {};
    for (const w of listing.workflows) workflows[w.status] = (workflows[w.status] ?? 0) + 1;
    const checksMs = Date.now() - checksStart;

    const figures: ChaosFigures = {
      seed: options.seed,
      planned: options.provisionings,
      nodeClaims: seen.size,
      nodeClaimsDuringFaults: [...seen.values()].filter((s) => s.duringFaults).length,
      reachedReady: [...seen.values()].filter((s) => s.ready).length,
      deletedByPlan,
      podsCreated,
      podsPendingAtEnd: pods.items.filter((p) => p.status?.phase !== 'Running').length,
      scalewayFaults: sim.faults.chaosCounts(),
      kubeletFaults: kubelet.counts,
      kills,
      crashes: { worker: products.worker.crashes, watcher: products.watcher.crashes },
      violations: countViolations(violations),
      secretsFound: scan.findings.length,
      secretsSearched: scan.searched,
      workflows,
      timeMs: { total: Date.now() - started, stack: stackMs, plan: planMs, settle: settleMs, checks: checksMs },
      settled,
    };
    phase = 'stopping';
    return { figures, violations, secretFindings: scan.findings, notes, ok: violations.length === 0 && scan.findings.length === 0 };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await stopAll();
  }
}

export function deadlinesOf(timeouts: Timeouts): Deadlines {
  const ms = parseDuration;
  return { readyMs: ms(timeouts.launch) + ms(timeouts.registration) + ms(timeouts.initialization) + STUCK_MARGIN_MS, deletionMs: DELETION_LIMIT_MS };
}

/** Why each pod is still pending, from its latest Event: not an invariant of the issue, but worth routing. */
async function pendingPodNotes(kube: KubeRest, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const events = await kube.get<{ items: { involvedObject: { name?: string; kind?: string }; reason?: string; message?: string; lastTimestamp?: string; eventTime?: string }[] }>('/api/v1/namespaces/default/events');
  return names.map((name) => {
    const latest = events.items
      .filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === name)
      .sort((a, b) => (a.lastTimestamp ?? a.eventTime ?? '').localeCompare(b.lastTimestamp ?? b.eventTime ?? ''))
      .at(-1);
    return `pod ${name} not Running at the end; its last Event: ${latest ? `${latest.reason ?? ''}: ${latest.message ?? ''}` : 'none'}`;
  });
}

interface SettleState {
  /** What still moves (NodeClaims not Ready, resources without a NodeClaim); empty once converged. */
  blocking: string[];
  podsNotRunning: number;
}

async function settleState(kube: KubeRest, sim: Simulator): Promise<SettleState> {
  const claims = await readNodeClaims(kube);
  const notReady = claims.filter((c) => c.deletingSince !== undefined || !c.conditions.some((x) => x.type === 'Ready' && x.status === 'True'));
  const uids = new Set(claims.map((c) => c.uid));
  const { servers, volumes } = readCloud(sim);
  const orphanServers = servers.filter((s) => !uids.has(serverNodeClaimUid(s) ?? ''));
  const orphanVolumes = volumes.filter((v) => !uids.has(volumeNodeClaimUid(v, CLUSTER_NAME) ?? ''));
  const orphanTokens = (await readTokens(kube)).filter((t) => !uids.has(t.nodeClaimUid ?? ''));
  const names = new Set(claims.map((c) => c.name));
  const providerIds = new Set(claims.flatMap((c) => (c.providerID ? [c.providerID] : [])));
  const orphanNodes = (await readNodes(kube)).filter((n) => n.providerID?.startsWith('scaleway://') && !providerIds.has(n.providerID) && !names.has(n.name));
  const pods = await kube.get<{ items: { status?: { phase?: string } }[] }>(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(POD_SELECTOR)}`);
  const blocking = [
    notReady.length ? `${notReady.length} NodeClaim(s) not Ready or deleting` : '',
    orphanServers.length ? `${orphanServers.length} server(s) without a NodeClaim` : '',
    orphanVolumes.length ? `${orphanVolumes.length} volume(s) without a NodeClaim` : '',
    orphanTokens.length ? `${orphanTokens.length} token(s) without a NodeClaim` : '',
    orphanNodes.length ? `${orphanNodes.length} Node(s) without a NodeClaim` : '',
  ].filter(Boolean);
  return { blocking, podsNotRunning: pods.items.filter((p) => p.status?.phase !== 'Running').length };
}

function adminKeyFile(controlPlane: ControlPlane): string {
  // The admin client key sits beside its certificate (sandbox/pki.ts names them admin.crt / admin.key).
  return join(controlPlane.pki.dir, 'admin.key');
}

interface ChaosKubelet {
  simulator: KubeletSimulator;
  counts: Record<KubeletFaultKind, number>;
  stopFaults(): void;
}

/**
 * The simulated kubelets, with a fate drawn once per server (seeded, in the order servers come
 * up): joins, never joins, goes NotReady some time after joining, or never shows its GPU.
 */
function startChaosKubelet(opts: { sim: Simulator; kube: KubeRest; controlPlane: ControlPlane; seed: number; rates: Partial<Record<KubeletFaultKind, number>>; logFile: string }): ChaosKubelet {
  const random = mulberry32(opts.seed);
  const counts = Object.fromEntries(KUBELET_FAULT_KINDS.map((k) => [k, 0])) as Record<KubeletFaultKind, number>;
  const fates = new Map<string, KubeletFaultKind | 'ok'>();
  const delays = new Map<string, number>();
  let faultsOn = true;
  const fateOf = (serverId: string): KubeletFaultKind | 'ok' => {
    let fate = fates.get(serverId);
    if (fate) return fate;
    fate = 'ok';
    if (faultsOn) {
      const draw = random();
      let edge = 0;
      for (const kind of KUBELET_FAULT_KINDS) {
        edge += opts.rates[kind] ?? 0;
        if (draw < edge) {
          fate = kind;
          break;
        }
      }
      delays.set(serverId, Math.round(random() * 15_000));
    }
    if (fate !== 'ok') counts[fate] += 1;
    fates.set(serverId, fate);
    return fate;
  };
  const logStream = createWriteStream(opts.logFile, { flags: 'a' });
  const { sim } = opts;
  const simulator = startKubeletSimulator({
    ...simulatorServers(sim),
    adminKube: opts.kube,
    server: opts.controlPlane.server,
    pollIntervalMs: 500,
    devicePluginDelayMs: 1_000,
    refuseToJoin: (server) => fateOf(server.id) === 'never_joins',
    faultsFor: (server): KubeletFaults | undefined => {
      const fate = fateOf(server.id);
      if (fate === 'no_gpu') return { noGpu: true };
      if (fate === 'not_ready') return { notReadyAfterMs: delays.get(server.id) ?? 0 };
      return undefined;
    },
    log: (line) => logStream.write(`${new Date().toISOString()} ${line}\n`),
  });
  return {
    simulator,
    counts,
    stopFaults: () => {
      faultsOn = false;
    },
  };
}

export { NODECLASS };
