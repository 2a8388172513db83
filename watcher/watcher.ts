// The watcher: Kubernetes in, workflows out. Three watched collections
// (NodeClaims, Nodes, ScalewayNodeClasses), each feeding a small controller
// through a keyed work queue.
import type { Client } from '@temporalio/client';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../kube/rest.ts';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';
import { clusterPath, nodePath } from '../kube/objects.ts';
import { watchCollection, type WatchedCollection } from './informer.ts';
import { KeyedQueue } from './queue.ts';
import { reconcileNodeClaim } from './nodeclaim-lifecycle.ts';
import { signalNodeRegistration } from './node-registration.ts';
import { reconcileNodeClassStatus } from './nodeclass-status.ts';
import { TASK_QUEUE } from '../workflows/ids.ts';

/** Every object is looked at again this often, in case an event was lost. */
export const RESYNC_MS = 60_000;

export interface WatcherOptions {
  kube: KubeRest;
  temporal: Client;
  cloud: ScalewayCloud;
  namespace: string;
  taskQueue?: string;
  temporalUiUrl: string;
}

export interface RunningWatcher {
  nodeClaims: WatchedCollection<KubernetesObject>;
  /** Resolves when no reconcile is running (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWatcher(options: WatcherOptions): Promise<RunningWatcher> {
  const { kube, temporal } = options;
  const lifecycle = { kube, temporal, taskQueue: options.taskQueue ?? TASK_QUEUE, temporalUiUrl: options.temporalUiUrl, namespace: options.namespace };

  // Filled in below: each queue reads the cache of its collection once watching has started.
  const watched: { nodeClaims?: WatchedCollection<KubernetesObject>; nodes?: WatchedCollection<KubernetesObject>; nodeClasses?: WatchedCollection<KubernetesObject> } = {};

  const nodeClaimQueue = new KeyedQueue('NodeClaim', async (name) => {
    const obj = watched.nodeClaims?.get(name);
    if (obj) await reconcileNodeClaim(lifecycle, obj);
  });
  const nodeQueue = new KeyedQueue('Node', async (name) => {
    const obj = watched.nodes?.get(name);
    if (obj) await signalNodeRegistration(temporal, obj, watched.nodeClaims?.list() ?? []);
  });
  const nodeClassQueue = new KeyedQueue('ScalewayNodeClass', async (name) => {
    const obj = watched.nodeClasses?.get(name);
    if (obj) await reconcileNodeClassStatus(kube, options.cloud, obj);
  });
  const nameOf = (obj: KubernetesObject): string => obj.metadata?.name ?? '';

  const nodeClasses = await watchCollection(kube, clusterPath(SCALEWAY_NODECLASS_GVR), (obj, event) => {
    if (event !== 'delete') nodeClassQueue.add(nameOf(obj));
  }, { name: 'ScalewayNodeClass', resyncMs: RESYNC_MS });
  watched.nodeClasses = nodeClasses;
  const nodeClaims = await watchCollection(kube, clusterPath(NODECLAIM_GVR), (obj, event) => {
    if (event !== 'delete') nodeClaimQueue.add(nameOf(obj));
  }, { name: 'NodeClaim', resyncMs: RESYNC_MS });
  watched.nodeClaims = nodeClaims;
  const nodes = await watchCollection(kube, nodePath(), (obj, event) => {
    if (event !== 'delete') nodeQueue.add(nameOf(obj));
  }, { name: 'Node', resyncMs: RESYNC_MS });

  watched.nodes = nodes;

  const queues = [nodeClassQueue, nodeClaimQueue, nodeQueue];
  const collections = [nodeClasses, nodeClaims, nodes];
  return {
    nodeClaims,
    idle: async () => {
      await Promise.all(queues.map((q) => q.idle()));
    },
    stop: async () => {
      for (const c of collections) await c.stop();
      for (const q of queues) await q.close();
    },
  };
}
