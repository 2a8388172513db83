// scw-karpenter as its Deployments run it, for `npm start`: the worker and the
// watcher are the real entry points (`scw-karpenter worker|watcher`, the
// image's commands) in child processes, configured by environment variables
// only, each authenticated as its own ServiceAccount with a TokenRequest token
// bound to the chart's roles. The sandbox keeps the admin certificate for what
// a cluster's operator does: the CRDs, the kubeadm-init objects, the RBAC, and
// the simulated kubelet that turns running simulated servers into Nodes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from './control-plane.ts';
import type { TemporalDevServer } from './temporal-dev-server.ts';
import type { Simulator } from '../scaleway/simulator/index.ts';
import { TEST_CREDENTIALS } from '../scaleway/simulator/testing.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { KubeletSimulator } from './kubelet-simulator.ts';
import { prepareCluster, startSandboxKubelet } from './product.ts';
import { componentIdentity, installRbac, RELEASE_NAMESPACE, type ServiceAccountIdentity } from './service-accounts.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';
import { freePort } from './ports.ts';

const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const READY_TIMEOUT_MS = 180_000;

export type Component = 'worker' | 'watcher';

export interface ComponentProcess {
  component: Component;
  /** The process whose exit and log tail readiness watches (for a container: its `podman run`). */
  process: ManagedProcess;
  /** A graceful stop (SIGTERM, then the grace period), as a rollout gives a Pod. */
  stop(): Promise<void>;
  serviceAccount: string;
  metricsUrl: string;
  healthUrl: string;
}

export interface ProductProcessesOptions {
  dir: string;
  controlPlane: ControlPlane;
  temporal: TemporalDevServer;
  simulator: Simulator;
  /** Variables both processes get on top of the sandbox's own (codec keys, GC_*, LOG_LEVEL...). */
  env?: Record<string, string>;
}

export interface RunningProductProcesses<C extends ComponentProcess = ComponentProcess> {
  /** The admin kube, for the sandbox's own reads and the examples. */
  kube: KubeRest;
  components: C[];
  kubelet: KubeletSimulator;
  stop(): Promise<void>;
}

/** The Deployments' environment, as the chart's templates set it (minus what a pod's ServiceAccount mount gives). */
export function componentEnv(options: ProductProcessesOptions, component: Component, kubeconfig: string, ports: { metrics: number; health: number }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.SCW_KARPENTER_CACHE ? { SCW_KARPENTER_CACHE: process.env.SCW_KARPENTER_CACHE } : {}),
    KUBECONFIG: kubeconfig,
    POD_NAMESPACE: RELEASE_NAMESPACE,
    POD_NAME: `scw-karpenter-${component}-sandbox`,
    CLUSTER_NAME: 'sandbox',
    TEMPORAL_ADDRESS: options.temporal.address,
    TEMPORAL_NAMESPACE: options.temporal.namespace,
    TEMPORAL_UI_URL: options.temporal.uiUrl,
    SCW_API_URL: options.simulator.url,
    SCW_ACCESS_KEY: TEST_CREDENTIALS.accessKey,
    SCW_SECRET_KEY: TEST_CREDENTIALS.secretKey,
    SCW_DEFAULT_PROJECT_ID: TEST_CREDENTIALS.projectId,
    METRICS_PORT: String(ports.metrics),
    HEALTH_PROBE_PORT: String(ports.health),
    LOG_FORMAT: 'json',
    ...options.env,
  };
}

/** What a launcher is given for one component: its ServiceAccount identity and its free ports. */
export interface ComponentLaunch {
  component: Component;
  identity: ServiceAccountIdentity;
  ports: { metrics: number; health: number };
}

/** Starts one component (a child process, a container) and says how to stop it. */
export type LaunchComponent<C extends ComponentProcess> = (launch: ComponentLaunch) => C;

/** What every launcher reports: the ServiceAccount and the URLs its ports give. */
export function componentEndpoints({ identity, ports }: ComponentLaunch): Pick<ComponentProcess, 'serviceAccount' | 'metricsUrl' | 'healthUrl'> {
  return {
    serviceAccount: `${identity.namespace}/${identity.name}`,
    metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`,
    healthUrl: `http://127.0.0.1:${ports.health}`,
  };
}

/** The entry point in a child process of this Node, on the component's kubeconfig: what npm start runs. */
function launchChildProcess(options: ProductProcessesOptions): LaunchComponent<ComponentProcess> {
  return (launch) => {
    const { component } = launch;
    const env = componentEnv(options, component, launch.identity.kubeconfig, launch.ports);
    const child = startProcess(component, process.execPath, ['--import', 'tsx', CLI, component], join(options.dir, `${component}.log`), env);
    return { component, process: child, stop: () => child.stop(), ...componentEndpoints(launch) };
  };
}

/** Resolves once the component answers /readyz with 200, failing with its log tail if it exits first. */
export async function waitForReadyz(component: ComponentProcess, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  await waitUntilReady(component.process, `the ${component.component}`, timeoutMs, async () => (await fetch(`${component.healthUrl}/readyz`)).ok);
}

export async function startProductProcesses(options: ProductProcessesOptions): Promise<RunningProductProcesses> {
  return startProductComponents(options, launchChildProcess(options));
}

/**
 * The cluster prepared, the chart's RBAC, a TokenRequest identity and free ports for each component, the
 * worker then the watcher launched and ready, and the sandbox's kubelet: the one sequence behind npm start's
 * processes and the image's containers.
 */
export async function startProductComponents<C extends ComponentProcess>(options: ProductProcessesOptions, launch: LaunchComponent<C>): Promise<RunningProductProcesses<C>> {
  mkdirSync(options.dir, { recursive: true });
  const kube = await prepareCluster(options.controlPlane);
  await installRbac(kube);
  const components: C[] = [];
  const stopComponents = async (): Promise<void> => {
    // The watcher first, as a rollout would: it starts workflows the worker runs.
    for (const c of [...components].reverse()) await c.stop();
  };
  try {
    for (const component of ['worker', 'watcher'] as const) {
      const identity = await componentIdentity(kube, options.controlPlane, component, join(options.dir, `scw-karpenter-${component}`));
      const ports = { metrics: await freePort(), health: await freePort() };
      components.push(launch({ component, identity, ports }));
    }
    await Promise.all(components.map((c) => waitForReadyz(c)));
  } catch (err) {
    await stopComponents();
    throw err;
  }
  const kubelet = startSandboxKubelet(kube, options);
  return {
    kube,
    components,
    kubelet,
    stop: async () => {
      await kubelet.stop();
      await stopComponents();
    },
  };
}
