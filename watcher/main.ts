// The watcher Deployment's entry point (`scw-karpenter watcher`). With leader
// election on (the default), every replica campaigns for the Lease and only the
// leader runs the watcher; a standby is ready too, as Karpenter's are, so a
// rollout does not wait on replicas that are right to stand by.
import { Client } from '@temporalio/client';
import { payloadCodecFromSettings } from '../runtime/codec-key.ts';
import { temporalDataConverter } from '../runtime/payload-codec.ts';
import { createScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest } from '../kube/rest.ts';
import { loadKubeCredentials } from '../kube/credentials.ts';
import { describeConfig, leaderElectionDurations, loadConfigOrExit, observabilityPorts, scalewayCredentials, watcherTunables } from '../runtime/config.ts';
import { connectClient } from '../runtime/temporal-connection.ts';
import { configureLogging, errorMessage, log } from '../runtime/log.ts';
import { startObservabilityServer } from '../runtime/observability-server.ts';
import { packageVersion } from '../cli/version.ts';
import { startWatcher, type RunningWatcher } from './watcher.ts';
import { leaderElectionSettings, startLeaderElection } from './leader-election.ts';

/** Under the kubelet's default 30 s grace period: past it, exit anyway rather than be SIGKILLed mid-way. */
const SHUTDOWN_TIMEOUT_MS = 25_000;

const logger = log.child({ logger: 'watcher' });

const config = loadConfigOrExit('watcher', (message, fields) => logger.error(message, fields));
configureLogging({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
logger.info('scw-karpenter watcher starting', { version: packageVersion(), config: describeConfig(config) });

const election = leaderElectionSettings(config, { POD_NAMESPACE: config.POD_NAMESPACE, POD_NAME: config.POD_NAME });
let watcher: RunningWatcher | undefined;
let leader: ReturnType<typeof startLeaderElection<RunningWatcher>> | undefined;
let campaigning = false;
let stopping = false;
const observability = await startObservabilityServer({
  component: 'watcher',
  ...observabilityPorts(config),
  // Ready: this replica's informers have synced (it leads), or it stands by in the election.
  ready: () => !stopping && (watcher !== undefined || (campaigning && !leader?.isLeader())),
});

try {
  const kube = createKubeRest(loadKubeCredentials(config.KUBECONFIG));
  const connection = await connectClient(config.temporal);
  const dataConverter = temporalDataConverter(await payloadCodecFromSettings(config, () => kube, 'watcher'));
  const start = async (): Promise<RunningWatcher> => {
    const running = await startWatcher({
      kube,
      temporal: new Client({ connection, namespace: config.temporal.namespace, dataConverter }),
      cloud: createScalewayCloud(scalewayCredentials(config.scaleway)),
      namespace: config.temporal.namespace,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      ...watcherTunables(config),
    });
    watcher = running;
    logger.info('watching NodeClaims, Nodes, NodePools, ScalewayNodeClasses, pods, DaemonSets and PodDisruptionBudgets', { identity: election.identity });
    return {
      ...running,
      stop: async () => {
        watcher = undefined;
        await running.stop();
      },
    };
  };
  let stopRunning: () => Promise<void>;
  if (election.enabled) {
    logger.info('campaigning for the leader Lease', { namespace: election.namespace, lease: election.name, identity: election.identity });
    leader = startLeaderElection({
      // Its own connections: a renewal must not wait for a socket behind a burst's writes on the watcher's.
      kube: createKubeRest(kube.credentials),
      namespace: election.namespace,
      name: election.name,
      identity: election.identity,
      ...leaderElectionDurations(config),
      start,
      // As controller-runtime does: a replica that lost the Lease exits at once, with its
      // controllers mid-flight, rather than act next to the new leader; the Deployment restarts it.
      onLost: () => {
        logger.error('lost the leader Lease: exiting', { identity: election.identity, lease: election.name });
        process.exit(1);
      },
    });
    campaigning = true;
    const campaign = leader;
    stopRunning = () => campaign.stop();
  } else {
    const running = await start();
    stopRunning = () => running.stop();
  }

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    setTimeout(() => {
      logger.error('graceful stop took too long: exiting', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // A graceful stop releases the Lease, so a rollout's new replica takes over at once.
    await stopRunning();
    await connection.close();
    await observability.close();
    logger.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      shutdown(signal).catch((err: unknown) => {
        logger.error('stopping', { error: errorMessage(err) });
        process.exit(1);
      });
    });
  }
} catch (err) {
  logger.error('scw-karpenter watcher cannot start', { error: errorMessage(err) });
  await observability.close();
  process.exit(1);
}
