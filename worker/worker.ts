// The Temporal worker: the provisioning and termination workflows and their
// activities, bound to one Scaleway adapter, one apiserver client and the
// process-wide caches.
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../activities/index.ts';
import type { ActivityDeps } from '../activities/deps.ts';
import { CatalogCache, ImageCache, UnavailableOfferings } from '../scaleway/caches.ts';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import type { KubeRest } from '../kube/rest.ts';
import { TASK_QUEUE } from '../workflows/ids.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue?: string;
  cloud: ScalewayCloud;
  kube: KubeRest;
  clusterName: string;
  /** How often waits poll (servers starting, pods draining). */
  pollIntervalMs?: number;
  /** Name for this worker in the Web UI's task queue view. */
  identity?: string;
}

export interface RunningWorker {
  worker: Worker;
  client: Client;
  /** Stops polling, lets running activities finish, closes connections. */
  shutdown(): Promise<void>;
  /** Resolves when the worker stops (after shutdown, or on a fatal error). */
  done: Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const nativeConnection = await NativeConnection.connect({ address: options.temporalAddress });
  const connection = await Connection.connect({ address: options.temporalAddress });
  const client = new Client({ connection, namespace: options.namespace });
  const deps: ActivityDeps = {
    cloud: options.cloud,
    kube: options.kube,
    catalog: new CatalogCache(options.cloud),
    images: new ImageCache(options.cloud),
    unavailable: new UnavailableOfferings(),
    clusterName: options.clusterName,
    temporal: client,
    pollIntervalMs: options.pollIntervalMs ?? 2_000,
    now: () => new Date(),
  };
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(deps),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  const done = worker.run().finally(async () => {
    await connection.close();
    await nativeConnection.close();
  });
  return {
    worker,
    client,
    done,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
