// scw-karpenter itself on the sandbox's parts: the worker, the watcher and a
// simulated kubelet that turns running simulated servers into Nodes. The worker
// and the watcher run in this process but authenticate as their ServiceAccounts
// (TokenRequest tokens bound to the chart's roles), as their Deployments do, so
// a call the chart does not grant fails here as it would in a cluster. The
// sandbox's own parts (CRDs, kubeadm-init objects, RBAC, the simulated kubelet)
// and the tests' own reads and writes keep the admin certificate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';
import type { TemporalDevServer } from './temporal-dev-server.ts';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec, temporalDataConverter } from '../runtime/payload-codec.ts';
import { generateCodecKeys } from '../runtime/codec-key.ts';
import type { Simulator } from '../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../scaleway/simulator/testing.ts';
import { createScalewayCloud, type ScalewayCloud } from '../scaleway/cloud.ts';
import { createKubeRest, type KubeRest } from '../kube/rest.ts';
import { loadKubeCredentials } from '../kube/credentials.ts';
import { startWorker, type RunningWorker } from '../worker/worker.ts';
import type { GarbageCollectionSettings } from '../runtime/config.ts';
import { startWatcher, type RunningWatcher, type WatcherOptions } from '../watcher/watcher.ts';
import { leaderIdentity, startLeaderElection, type LeaderElection } from '../watcher/leader-election.ts';
import { componentIdentity, installRbac, RELEASE_NAMESPACE } from './service-accounts.ts';
import { startKubeletSimulator, type KubeletSimulator, type SimulatedServer } from './kubelet-simulator.ts';
import { simulatorServers } from './simulated-servers.ts';
import { installCrds } from './install-crds.ts';
import { kubeadmInit } from './kubeadm-init.ts';

export interface ProductOptions {
  controlPlane: ControlPlane;
  temporal: TemporalDevServer;
  simulator: Simulator;
  clusterName?: string;
  taskQueue?: string;
  pollIntervalMs?: number;
  devicePluginDelayMs?: number;
  refuseToJoin?: (server: SimulatedServer) => boolean;
  /** Encrypts every payload; default: a key generated for this one sandbox, shared by its worker and watcher. */
  payloadCodec?: PayloadCodec;
  /** Keep the garbage collection Schedule (npm start: from GC_* in the environment); none: no Schedule, as most tests want. */
  garbageCollection?: GarbageCollectionSettings;
  /** Start no watcher (tests that drive workflows directly). */
  withoutWatcher?: boolean;
  /** Batch window, disruption pace and resync period (tests shorten them). */
  watcher?: Pick<WatcherOptions, 'batchIdleMs' | 'batchMaxMs' | 'disruptionIntervalMs' | 'resyncMs'>;
}

export interface RunningProduct {
  /** The admin kube (cluster-admin certificate): the tests' own reads and writes, never the product's. */
  adminKube: KubeRest;
  /** The same as adminKube, the name the tests have always used. */
  kube: KubeRest;
  /** As the worker's ServiceAccount (scw-karpenter/scw-karpenter-worker): what the worker's calls run on. */
  workerKube: KubeRest;
  /** As the watcher's ServiceAccount (scw-karpenter/scw-karpenter-watcher): what the watcher's and the election's calls run on. */
  watcherKube: KubeRest;
  /** Where the watcher's leader Lease lives: the release namespace, as in a cluster (the Pod's POD_NAMESPACE). */
  leaseNamespace: string;
  cloud: ScalewayCloud;
  worker: RunningWorker;
  watcher: RunningWatcher | undefined;
  kubelet: KubeletSimulator;
  /** The codec of every client and worker here: a test's own Client must use it to read results. */
  payloadCodec: PayloadCodec;
  /** Stops the worker (as a crash or a rollout would) and starts a new one. */
  restartWorker(): Promise<void>;
  restartWatcher(): Promise<void>;
  stop(): Promise<void>;
}

/** What a cluster's operator sets up before installing scw-karpenter: the CRDs and the kubeadm-init objects. The admin kube. */
export async function prepareCluster(controlPlane: ControlPlane): Promise<KubeRest> {
  const kube = createKubeRest(loadKubeCredentials(controlPlane.kubeconfig));
  await installCrds(kube);
  await kubeadmInit(kube, { server: controlPlane.server, caFile: controlPlane.pki.caCert });
  return kube;
}

/** The simulated kubelet of the sandbox: running simulated servers join as Nodes, on the admin kube. */
export function startSandboxKubelet(
  adminKube: KubeRest,
  options: Pick<ProductOptions, 'controlPlane' | 'simulator' | 'devicePluginDelayMs' | 'refuseToJoin'>,
): KubeletSimulator {
  return startKubeletSimulator({
    ...simulatorServers(options.simulator),
    adminKube,
    server: options.controlPlane.server,
    pollIntervalMs: 250,
    devicePluginDelayMs: options.devicePluginDelayMs ?? 1_000,
    ...(options.refuseToJoin ? { refuseToJoin: options.refuseToJoin } : {}),
  });
}

/** A KubeRest as the chart's ServiceAccount `scw-karpenter-<component>`, on a TokenRequest token. */
async function componentKube(adminKube: KubeRest, controlPlane: ControlPlane, component: 'worker' | 'watcher', dir: string): Promise<KubeRest> {
  const identity = await componentIdentity(adminKube, controlPlane, component, join(dir, component));
  return createKubeRest(loadKubeCredentials(identity.kubeconfig));
}

export async function startProduct(options: ProductOptions): Promise<RunningProduct> {
  const adminKube = await prepareCluster(options.controlPlane);
  await installRbac(adminKube);
  // The tokens' kubeconfigs and mounts; kept until stop, as the kube client reads the CA file on every call.
  const identitiesDir = mkdtempSync(join(tmpdir(), 'scwk-identities-'));
  const removeIdentities = (): void => rmSync(identitiesDir, { recursive: true, force: true });
  let workerKube: KubeRest;
  let watcherKube: KubeRest;
  try {
    workerKube = await componentKube(adminKube, options.controlPlane, 'worker', identitiesDir);
    watcherKube = await componentKube(adminKube, options.controlPlane, 'watcher', identitiesDir);
  } catch (err) {
    removeIdentities();
    throw err;
  }
  const cloud = createScalewayCloud({ ...TEST_CREDENTIALS, apiUrl: options.simulator.url });
  const payloadCodec = options.payloadCodec ?? new AesGcmPayloadCodec(generateCodecKeys());
  const workerOptions = {
    temporalAddress: options.temporal.address,
    namespace: options.temporal.namespace,
    cloud,
    kube: workerKube,
    clusterName: options.clusterName ?? 'sandbox',
    pollIntervalMs: options.pollIntervalMs ?? 500,
    payloadCodec,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    ...(options.garbageCollection ? { garbageCollection: options.garbageCollection } : {}),
  };
  let worker = await startWorker(workerOptions);
  // The watcher has its own connection: it outlives worker restarts, as separate Deployments do.
  const watcherConnection = await Connection.connect({ address: options.temporal.address });
  const watcherOptions = {
    kube: watcherKube,
    temporal: new Client({ connection: watcherConnection, namespace: options.temporal.namespace, dataConverter: temporalDataConverter(payloadCodec) }),
    cloud,
    namespace: options.temporal.namespace,
    temporalUiUrl: options.temporal.uiUrl,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    ...options.watcher,
  };
  // The watcher runs through leader election, as a Deployment's replicas do: it acts once it holds the Lease.
  const elect = async (): Promise<LeaderElection<RunningWatcher>> => {
    const candidate = startLeaderElection({ kube: watcherKube, namespace: RELEASE_NAMESPACE, identity: leaderIdentity({}), start: () => startWatcher(watcherOptions) });
    try {
      await candidate.leading();
    } catch (err) {
      await candidate.stop();
      throw err;
    }
    return candidate;
  };
  let election = options.withoutWatcher ? undefined : await elect();
  const kubelet = startSandboxKubelet(adminKube, options);
  return {
    adminKube,
    kube: adminKube,
    workerKube,
    watcherKube,
    leaseNamespace: RELEASE_NAMESPACE,
    cloud,
    get worker() {
      return worker;
    },
    get watcher() {
      return election?.current();
    },
    kubelet,
    payloadCodec,
    restartWorker: async () => {
      await worker.shutdown();
      worker = await startWorker(workerOptions);
    },
    restartWatcher: async () => {
      // A graceful stop releases the Lease, so the new watcher takes over at once.
      await election?.stop();
      election = await elect();
    },
    stop: async () => {
      await kubelet.stop();
      await election?.stop();
      await worker.shutdown();
      await watcherConnection.close();
      removeIdentities();
    },
  };
}
