// The watcher: Kubernetes in, workflows out. Every watched object is parsed
// once as it arrives into the typed cluster state (state/cluster-state.ts),
// which the provisioner, the disruption loop, Node registration and the
// lastPodEventTime recorder read. Watched collections of NodeClaims, Nodes,
// NodePools and ScalewayNodeClasses also each feed a small controller through
// a keyed work queue.
import type { Client } from '@temporalio/client';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../kube/rest.ts';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import { isPodUnschedulable } from '../kube/api/core.ts';
import { CONDITION, NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';
import { UnavailableOfferings } from '../scaleway/caches.ts';
import { OfferingsCatalog } from '../scaleway/offerings.ts';
import { feedUnavailableOfferings } from './unavailable-offerings-feed.ts';
import { createProvisioner, type Provisioner } from './provisioner/controller.ts';
import { forgetNodePoolMetrics, reconcileNodePoolStatus } from './nodepool-status.ts';
import { startDisruptionController, type DisruptionController } from './disruption/controller.ts';
import { clusterPath, nodePath } from '../kube/objects.ts';
import { watchCollection, type WatchedCollection } from './informer.ts';
import { ClusterState } from './state/cluster-state.ts';
import { trimPod } from './state/trim.ts';
import { KeyedQueue } from './queue.ts';
import { reconcileNodeClaim, startProvisioningOfNew } from './nodeclaim-lifecycle.ts';
import { NodeRegistrationSignals } from './node-registration.ts';
import { reconcileNodeClassStatus } from './nodeclass-status.ts';
import { warmCatalogs, zonesOfNodeClasses } from '../scaleway/catalog-warmup.ts';
import { stampNodeClassHash, stampNodePoolHash } from './drift-hashes.ts';
import { createPodEventRecorder } from './pod-events.ts';
import { currentGate, RegistrationFailureInbox } from './registration-health.ts';
import { TASK_QUEUE } from '../workflows/contract.ts';
import { createPodStartupRecorder } from './pod-startup.ts';
import { CONTROLLER, podStartupDuration, withController } from '../runtime/metrics.ts';

/** Every object is looked at again this often, in case an event was lost. */
export const RESYNC_MS = 60_000;

export interface WatcherOptions {
  kube: KubeRest;
  temporal: Client;
  cloud: ScalewayCloud;
  namespace: string;
  taskQueue?: string;
  temporalUiUrl: string;
  /** Provisioning batch window (Karpenter: 1 s idle, 10 s at most). */
  batchIdleMs?: number;
  batchMaxMs?: number;
  /** How often the disruption loop looks for empty, underutilized and expired nodes. */
  disruptionIntervalMs?: number;
  /** How often every object is looked at again (RESYNC_MS; tests of the periodic backstops shorten it). */
  resyncMs?: number;
}

export interface RunningWatcher {
  nodeClaims: WatchedCollection<KubernetesObject>;
  /** The typed objects the controllers read. */
  state: ClusterState;
  provisioner: Provisioner;
  disruption: DisruptionController;
  /** Resolves when no reconcile is running (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWatcher(options: WatcherOptions): Promise<RunningWatcher> {
  const { kube, temporal } = options;
  const resyncMs = options.resyncMs ?? RESYNC_MS;
  const lifecycle = {
    kube, temporal, taskQueue: options.taskQueue ?? TASK_QUEUE, temporalUiUrl: options.temporalUiUrl, namespace: options.namespace, justStarted: new Map<string, Promise<boolean>>(),
    // The liveness backstop reads NodeClass timeouts from the watched cache (filled in below).
    nodeClass: (name: string): unknown => watched.nodeClasses?.get(name),
  };

  // Filled in below: each queue reads the cache of its collection once watching has started.
  const watched: {
    nodeClaims?: WatchedCollection<KubernetesObject>;
    nodes?: WatchedCollection<KubernetesObject>;
    nodeClasses?: WatchedCollection<KubernetesObject>;
    nodePools?: WatchedCollection<KubernetesObject>;
  } = {};
  // Offerings the launch found empty (recorded on NodeClaims) read as out of stock to the planner.
  const unavailable = new UnavailableOfferings();
  const catalog = new OfferingsCatalog(options.cloud, unavailable);
  // Each watch event below goes into the state first, then to the controllers it concerns.
  const state = new ClusterState();
  // Registration failures seen on NodeClaim events until their NodePool's annotation holds them.
  const registrationFailures = new RegistrationFailureInbox();
  const provisioner = createProvisioner({
    kube,
    catalog,
    state,
    registrationGate: (pool, nodeClass) => currentGate(pool, nodeClass, registrationFailures),
    onNodeClaimCreated: (ref) => startProvisioningOfNew(lifecycle, ref),
    ...(options.batchIdleMs !== undefined ? { batchIdleMs: options.batchIdleMs } : {}),
    ...(options.batchMaxMs !== undefined ? { batchMaxMs: options.batchMaxMs } : {}),
  });

  const nodeClaimQueue = new KeyedQueue('NodeClaim', async (name) => {
    const obj = watched.nodeClaims?.get(name);
    if (obj) await reconcileNodeClaim(lifecycle, obj);
  });
  const nodeSignals = new NodeRegistrationSignals(temporal);
  const nodeQueue = new KeyedQueue('Node', async (name) => {
    const node = state.nodes.get(name);
    if (node) await nodeSignals.onNode(node, state.nodeClaimOf(node));
  });
  const nodeClassQueue = new KeyedQueue('ScalewayNodeClass', async (name) => {
    const obj = watched.nodeClasses?.get(name);
    if (!obj) return;
    await stampNodeClassHash(kube, obj);
    await withController(CONTROLLER.nodeClassStatus, () => reconcileNodeClassStatus(kube, options.cloud, obj, new Date(), { nodePools: watched.nodePools?.list() ?? [] }));
    // The provisioner will plan with these zones' catalogs: read them now, not on the first pod.
    warmCatalogs(catalog, [obj], 'watcher');
  });
  const nodePoolQueue = new KeyedQueue('NodePool', async (name) => {
    const obj = watched.nodePools?.get(name);
    if (!obj) return;
    await stampNodePoolHash(kube, obj);
    await withController(CONTROLLER.nodePoolStatus, () => reconcileNodePoolStatus(kube, obj, state.nodeClaimsOfPool(name), new Date(), {
      offers: async (zones) => (await Promise.all(zones.map((z) => catalog.offers(z)))).flat(),
      failures: registrationFailures,
    }));
  });
  const nameOf = (obj: KubernetesObject): string => obj.metadata?.name ?? '';
  const poolOf = (obj: KubernetesObject): string | undefined => obj.metadata?.labels?.['karpenter.sh/nodepool'];

  const nodeClasses = await watchCollection(kube, clusterPath(SCALEWAY_NODECLASS_GVR), (obj, event) => {
    state.applyNodeClass(obj, event);
    if (event !== 'delete') nodeClassQueue.add(nameOf(obj));
    // A NodeClass turning Ready lets its pools plan for pods that went pending before it was:
    // without this they would wait for the next resync.
    provisioner.trigger();
  }, { name: 'ScalewayNodeClass', resyncMs });
  watched.nodeClasses = nodeClasses;
  const nodeClaims = await watchCollection(kube, clusterPath(NODECLAIM_GVR), (obj, event) => {
    state.applyNodeClaim(obj, event);
    if (event !== 'delete') nodeClaimQueue.add(nameOf(obj));
    feedUnavailableOfferings(unavailable, obj);
    // A node that never registered counts against its pool and offering (backoff), delete or not.
    if (registrationFailures.observe(obj)) provisioner.trigger();
    const pool = poolOf(obj);
    if (pool) nodePoolQueue.add(pool);
    // A NodeClaim that went away (rolled back, consolidated) may leave pods to plan for again.
    if (event === 'delete') provisioner.trigger();
  }, { name: 'NodeClaim', resyncMs });
  watched.nodeClaims = nodeClaims;
  const nodes = await watchCollection(kube, nodePath(), (obj, event) => {
    state.applyNode(obj, event);
    if (event !== 'delete') nodeQueue.add(nameOf(obj));
    else nodeSignals.forget(nameOf(obj));
  }, { name: 'Node', resyncMs });

  watched.nodes = nodes;
  // Each pool's NodeRegistrationHealthy as last seen: its NodeClass gathers them when one changes.
  const poolRegistration = new Map<string, string>();
  const nodePools = await watchCollection(kube, clusterPath(NODEPOOL_GVR), (obj, event) => {
    state.applyNodePool(obj, event);
    if (event !== 'delete') nodePoolQueue.add(nameOf(obj));
    else forgetNodePoolMetrics(nameOf(obj));
    const pool = obj as { spec?: { template?: { spec?: { nodeClassRef?: { name?: string } } } }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
    const health = pool.status?.conditions?.find((c) => c.type === CONDITION.NodeRegistrationHealthy);
    const seen = event === 'delete' ? 'deleted' : `${health?.status}/${health?.reason}/${health?.message}`;
    const nodeClassName = pool.spec?.template?.spec?.nodeClassRef?.name;
    if (nodeClassName && poolRegistration.get(nameOf(obj)) !== seen) {
      poolRegistration.set(nameOf(obj), seen);
      if (health || event === 'delete') nodeClassQueue.add(nodeClassName);
    }
    provisioner.trigger();
  }, { name: 'NodePool', resyncMs });
  watched.nodePools = nodePools;
  // DaemonSets and PDBs are read from the state at each planning round and disruption pass: watched before the pods start either.
  // A DaemonSet that comes, goes or changes its pod template changes what a new node must hold: plan pending pods again.
  // Its status changes with every pod it runs, its generation only when its spec does: only that is looked at.
  const daemonSetGenerations = new Map<string, number | undefined>();
  const daemonSets = await watchCollection(kube, '/apis/apps/v1/daemonsets', (obj, event) => {
    state.applyDaemonSet(obj, event);
    const key = obj.metadata?.uid ?? `${obj.metadata?.namespace}/${nameOf(obj)}`;
    const generation = obj.metadata?.generation;
    if (event !== 'delete' && daemonSetGenerations.has(key) && daemonSetGenerations.get(key) === generation) return;
    if (event === 'delete') daemonSetGenerations.delete(key);
    else daemonSetGenerations.set(key, generation);
    provisioner.trigger();
  }, { name: 'DaemonSet', resyncMs });
  // The disruption loop reads status.disruptionsAllowed at each pass: nothing else to do on a change.
  const podDisruptionBudgets = await watchCollection(kube, '/apis/policy/v1/poddisruptionbudgets', (obj, event) => {
    state.applyPodDisruptionBudget(obj, event);
  }, { name: 'PodDisruptionBudget', resyncMs });
  const podEvents = createPodEventRecorder({ kube, sources: state });
  const podStartup = createPodStartupRecorder((seconds) => podStartupDuration.observe(seconds));
  const disruption = startDisruptionController({
    kube,
    catalog,
    state,
    lastPodEventAt: podEvents.lastPodEventAt,
    zones: () => zonesOfNodeClasses(watched.nodeClasses?.list() ?? []),
    ...(options.disruptionIntervalMs !== undefined ? { intervalMs: options.disruptionIntervalMs } : {}),
  });
  const pods = await watchCollection(kube, '/api/v1/pods', (obj, event) => {
    const { after } = state.applyPod(obj, event);
    if (after && !after.spec.nodeName && isPodUnschedulable(after)) provisioner.trigger(after.metadata.uid ?? `${after.metadata.namespace ?? 'default'}/${after.metadata.name}`);
    // A pod arriving on or leaving a node restarts that node's consolidateAfter clock.
    podEvents.observe(obj, event);
    podStartup.observe(obj, event);
  }, { name: 'Pod', resyncMs, trim: trimPod });
  // The first list of each collection reached its queue before the collection's cache was set here, so
  // those reconciles found nothing: look at every object once more now, not at the first resync.
  for (const [collection, queue] of [[nodeClasses, nodeClassQueue], [nodeClaims, nodeClaimQueue], [nodes, nodeQueue], [nodePools, nodePoolQueue]] as const) {
    for (const obj of collection.list()) queue.add(nameOf(obj));
  }
  provisioner.trigger();

  const queues = [nodeClassQueue, nodeClaimQueue, nodeQueue, nodePoolQueue];
  const collections = [nodeClasses, nodeClaims, nodes, nodePools, daemonSets, podDisruptionBudgets, pods];
  return {
    nodeClaims,
    state,
    provisioner,
    disruption,
    idle: async () => {
      await Promise.all([...queues.map((q) => q.idle()), podEvents.idle()]);
    },
    stop: async () => {
      await provisioner.close();
      await disruption.stop();
      await podEvents.close();
      for (const c of collections) await c.stop();
      for (const q of queues) await q.close();
    },
  };
}
