// The Temporal worker: the provisioning and termination workflows and their
// activities, bound to one Scaleway adapter, one apiserver client and the
// process-wide caches.
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { temporalDataConverter } from '../runtime/payload-codec.ts';
import { createActivities } from '../activities/index.ts';
import type { ActivityDeps } from '../activities/deps.ts';
import { CatalogCache, ImageCache, UnavailableOfferings } from '../scaleway/caches.ts';
import { ServerStateReads } from '../scaleway/server-state-reads.ts';
import type { ScalewayCloud } from '../scaleway/cloud.ts';
import type { KubeRest } from '../kube/rest.ts';
import { gcScheduleId, TASK_QUEUE } from '../workflows/contract.ts';
import { warmCatalogs } from '../scaleway/catalog-warmup.ts';
import { clusterPath } from '../kube/objects.ts';
import { SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';
import type { GarbageCollectionSettings } from '../runtime/config.ts';
import type { TemporalConnectionOptions } from '../runtime/temporal-connection.ts';
import { upsertGarbageCollectionSchedule } from './gc-schedule.ts';
import { installTemporalRuntime } from '../runtime/temporal-runtime.ts';
import { instrumentActivities } from '../activities/instrumentation.ts';
import { SharedReads } from '../activities/shared-reads.ts';
import { errorMessage, log } from '../runtime/log.ts';

const logger = log.child({ logger: 'worker' });
import { workflowCode } from './workflow-code.ts';


/**
 * Task slots. Each provisioning holds an activity slot for the whole boot of
 * its server (a wait, ~20 s, nearly all of it idle), so the SDK's default of
 * 100 would let a 500-pod burst's later createServer calls queue behind the
 * waits of the first. Activities here are I/O: a slot is a pending promise.
 * Workflow tasks are not: a task holds its slot through its local activities
 * (the create call included), and past 100 at once the one workflow thread
 * falls behind the 10 s task timeout. Measured in a 1000-pod burst with 1000
 * slots: 1742 tasks timed out on the server and were run again, their creates
 * found by the retry instead of made. Tasks beyond the slots wait on the
 * server, where waiting costs nothing. One workflow thread, as the SDK has it
 * with a reused V8 context: 4 threads cut the create call's p50 in that burst
 * from 41 to 37 s for 450 MiB more RSS (WORKER_WORKFLOW_THREADS).
 */
export const WORKER_CAPACITY = {
  maxConcurrentActivityTaskExecutions: 2_000,
  maxConcurrentLocalActivityExecutions: 200,
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentWorkflowTaskPolls: 20,
  maxConcurrentActivityTaskPolls: 20,
  workflowThreadPoolSize: 1,
} as const;

export interface WorkerOptions {
  temporalAddress: string;
  /** TLS, API key and gRPC metadata (runtime/temporal-connection.ts); its address wins over temporalAddress. */
  temporalConnection?: TemporalConnectionOptions;
  /** Task slots and workflow threads over WORKER_CAPACITY (WORKER_MAX_CONCURRENT_* and WORKER_WORKFLOW_THREADS settings). */
  capacity?: Partial<Record<keyof typeof WORKER_CAPACITY, number>>;
  namespace: string;
  taskQueue?: string;
  cloud: ScalewayCloud;
  kube: KubeRest;
  clusterName: string;
  /** How often waits poll (servers starting, pods draining). */
  pollIntervalMs?: number;
  /** Name for this worker in the Web UI's task queue view. */
  identity?: string;
  /** Encrypts every payload (runtime/payload-codec.ts); none: plain text. */
  payloadCodec?: PayloadCodec | undefined;
  /** Creates or updates the cluster's garbage collection Schedule at start; none: leaves it as it is. */
  garbageCollection?: GarbageCollectionSettings | undefined;
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
  const connectionOptions = options.temporalConnection ?? { address: options.temporalAddress };
  // Our logger and the SDK's metrics exporter, before the first NativeConnection (a no-op when main.ts did it).
  await installTemporalRuntime();
  const nativeConnection = await NativeConnection.connect(connectionOptions);
  const connection = await Connection.connect(connectionOptions);
  const dataConverter = temporalDataConverter(options.payloadCodec);
  const client = new Client({ connection, namespace: options.namespace, dataConverter });
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const serverStates = new ServerStateReads(options.cloud, pollIntervalMs);
  const deps: ActivityDeps = {
    cloud: options.cloud,
    kube: options.kube,
    catalog: new CatalogCache(options.cloud),
    images: new ImageCache(options.cloud),
    unavailable: new UnavailableOfferings(),
    serverStates,
    clusterName: options.clusterName,
    temporal: client,
    reads: new SharedReads(),
    pollIntervalMs,
    now: () => new Date(),
  };
  options.kube.get<{ items?: unknown[] }>(clusterPath(SCALEWAY_NODECLASS_GVR)).then(
    (list) => warmCatalogs(deps.catalog, list.items ?? [], 'worker'),
    (err: unknown) => logger.warn('listing NodeClasses to read their catalogs ahead', { error: errorMessage(err) }),
  );
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...workflowCode(),
    activities: createActivities(deps),
    dataConverter,
    interceptors: { activity: [instrumentActivities] },
    ...WORKER_CAPACITY,
    ...options.capacity,
    ...(options.identity ? { identity: options.identity } : {}),
  });
  if (options.garbageCollection) {
    // Provisioning does not depend on it: a worker that cannot write the Schedule says so and still serves.
    try {
      const how = await upsertGarbageCollectionSchedule(client, { clusterName: options.clusterName, taskQueue: options.taskQueue ?? TASK_QUEUE, settings: options.garbageCollection });
      logger.info(`garbage collection Schedule ${how}`, { scheduleId: gcScheduleId(options.clusterName), ...options.garbageCollection });
    } catch (err) {
      logger.error('creating the garbage collection Schedule', { scheduleId: gcScheduleId(options.clusterName), error: errorMessage(err) });
    }
  }
  const done = worker.run().finally(async () => {
    serverStates.close();
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
