// The worker Deployment's entry point (`scw-karpenter worker`): configuration
// from the environment, the Temporal Runtime (SDK logs and metrics through
// ours), /metrics and probes, then the worker until SIGTERM.
import { createScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest } from '../kube/rest.ts';
import { loadKubeCredentials } from '../kube/credentials.ts';
import { describeConfig, garbageCollectionSettings, loadConfigOrExit, observabilityPorts, scalewayCredentials, workerTunables } from '../runtime/config.ts';
import { payloadCodecFromSettings } from '../runtime/codec-key.ts';
import { configureLogging, errorMessage, log } from '../runtime/log.ts';
import { installTemporalRuntime, temporalMetricsUrl } from '../runtime/temporal-runtime.ts';
import { startObservabilityServer } from '../runtime/observability-server.ts';
import { packageVersion } from '../cli/version.ts';
import { startWorker, type RunningWorker } from './worker.ts';

/** A readiness probe asks every few seconds: one round trip to Temporal per this period at most. */
const TEMPORAL_PROBE_CACHE_MS = 5_000;
const TEMPORAL_PROBE_TIMEOUT_MS = 3_000;

const logger = log.child({ logger: 'worker' });

const config = loadConfigOrExit('worker', (message, fields) => logger.error(message, fields));
configureLogging({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
logger.info('scw-karpenter worker starting', { version: packageVersion(), config: describeConfig(config) });

let running: RunningWorker | undefined;
let stopping = false;
let probe: { at: number; ok: Promise<boolean> } | undefined;
/** Whether the frontend answered lately: a worker that cannot reach Temporal polls nothing. */
function temporalReachable(worker: RunningWorker): Promise<boolean> {
  if (probe && Date.now() - probe.at < TEMPORAL_PROBE_CACHE_MS) return probe.ok;
  const { connection } = worker.client;
  const ok = connection.withDeadline(Date.now() + TEMPORAL_PROBE_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({})).then(() => true, (err: unknown) => {
    logger.warn('Temporal did not answer the readiness probe', { address: config.temporal.connection.address, error: errorMessage(err) });
    return false;
  });
  probe = { at: Date.now(), ok };
  return ok;
}

await installTemporalRuntime();
const observability = await startObservabilityServer({
  component: 'worker',
  ...observabilityPorts(config),
  temporalMetricsUrl,
  ready: () => (!stopping && running?.worker.getState() === 'RUNNING' ? temporalReachable(running) : false),
});

try {
  const kube = createKubeRest(loadKubeCredentials(config.KUBECONFIG));
  const payloadCodec = await payloadCodecFromSettings(config, () => kube, 'worker');
  const tunables = workerTunables(config);
  running = await startWorker({
    temporalAddress: config.temporal.connection.address,
    temporalConnection: config.temporal.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    cloud: createScalewayCloud(scalewayCredentials(config.scaleway)),
    kube,
    clusterName: config.CLUSTER_NAME,
    garbageCollection: garbageCollectionSettings(config),
    payloadCodec,
    pollIntervalMs: tunables.pollIntervalMs,
    capacity: tunables.capacity,
    ...(config.POD_NAME ? { identity: config.POD_NAME } : {}),
  });
} catch (err) {
  logger.error('scw-karpenter worker cannot start', { error: errorMessage(err) });
  await observability.close();
  process.exit(1);
}
const worker = running;
logger.info('polling', { taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.temporal.namespace, address: config.temporal.connection.address });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // The SDK lets running activities finish (shutdownGraceTime) before the worker's `done` resolves.
    logger.info('stopping', { signal });
    void worker.shutdown();
  });
}
try {
  await worker.done;
  await observability.close();
  logger.info('stopped');
  process.exit(0);
} catch (err) {
  logger.error('the worker stopped on an error', { error: errorMessage(err) });
  await observability.close();
  process.exit(1);
}
