// The watcher Deployment's entry point. With leader election on (the default),
// every replica campaigns for the Lease and only the leader runs the watcher.
import { Client, Connection } from '@temporalio/client';
import { payloadCodecFromSettings } from '../runtime/codec-key.ts';
import { temporalDataConverter } from '../runtime/payload-codec.ts';
import { createScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest, loadKubeConfig } from '../kube/rest.ts';
import { describeConfig, loadConfig } from '../runtime/config.ts';
import { startWatcher } from './watcher.ts';
import { leaderElectionSettings, startLeaderElection } from './leader-election.ts';

const config = loadConfig();
console.log('scw-karpenter watcher starting', describeConfig(config));
const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
const kube = createKubeRest(loadKubeConfig(config.KUBECONFIG));
const dataConverter = temporalDataConverter(await payloadCodecFromSettings(config, () => kube, 'watcher'));
const start = () => startWatcher({
  kube,
  temporal: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
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

const election = leaderElectionSettings(config);
const running = election.enabled
  ? startLeaderElection({
    kube,
    namespace: election.namespace,
    name: election.name,
    identity: election.identity,
    start,
    // As controller-runtime does: a replica that lost the Lease exits at once, with its
    // controllers mid-flight, rather than act next to the new leader; the Deployment restarts it.
    onLost: () => {
      console.error(`[leader-election] ${election.identity} lost the lease: exiting`);
      process.exit(1);
    },
  })
  : await start();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // A graceful stop releases the Lease, so a rollout's new replica takes over at once.
    void running.stop().then(() => connection.close()).then(() => process.exit(0));
  });
}
