// The worker Deployment's entry point: configuration from the environment,
// then the worker until SIGTERM.
import { createScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest, loadKubeConfig } from '../kube/rest.ts';
import { describeConfig, garbageCollectionSettings, loadConfig } from '../runtime/config.ts';
import { payloadCodecFromSettings } from '../runtime/codec-key.ts';
import { startWorker } from './worker.ts';

const config = loadConfig();
console.log('scw-karpenter worker starting', describeConfig(config));
const kube = createKubeRest(loadKubeConfig(config.KUBECONFIG));
const payloadCodec = await payloadCodecFromSettings(config, () => kube, 'worker');
const running = await startWorker({
  temporalAddress: config.TEMPORAL_ADDRESS,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  cloud: createScalewayCloud({
    accessKey: config.SCW_ACCESS_KEY,
    secretKey: config.SCW_SECRET_KEY,
    projectId: config.SCW_DEFAULT_PROJECT_ID,
    ...(config.SCW_API_URL ? { apiUrl: config.SCW_API_URL } : {}),
  }),
  kube,
  clusterName: config.CLUSTER_NAME,
  garbageCollection: garbageCollectionSettings(config),
  payloadCodec,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.shutdown());
await running.done;
