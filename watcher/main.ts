// The watcher Deployment's entry point.
import { Client, Connection } from '@temporalio/client';
import { createScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest, loadKubeConfig } from '../kube/rest.ts';
import { describeConfig, loadConfig } from '../runtime/config.ts';
import { startWatcher } from './watcher.ts';

const config = loadConfig();
console.log('scw-karpenter watcher starting', describeConfig(config));
const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
const watcher = await startWatcher({
  kube: createKubeRest(loadKubeConfig(config.KUBECONFIG)),
  temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }),
  cloud: createScalewayCloud({
    accessKey: config.SCW_ACCESS_KEY,
    secretKey: config.SCW_SECRET_KEY,
    projectId: config.SCW_DEFAULT_PROJECT_ID,
    ...(config.SCW_API_URL ? { apiUrl: config.SCW_API_URL } : {}),
  }),
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  temporalUiUrl: config.TEMPORAL_UI_URL,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void watcher.stop().then(() => connection.close()).then(() => process.exit(0));
  });
}
