// Karpenter v1.14.1 with its KWOK cloud provider, out of cluster, on the sandbox's
// control plane: its CRDs (the release's own, installed before ours so that both
// provisioners share Karpenter's NodePool and NodeClaim definitions), then the binary
// built by tools/install-karpenter-kwok.sh with the environment /work/shared/TOOLS.md
// gives (no leader election, free metrics and health ports, our catalog as its
// instance types).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startProcess, waitUntilReady, type ManagedProcess } from '../../sandbox/processes.ts';
import { freePort } from '../../sandbox/ports.ts';
import type { KubeRest } from '../../kube/rest.ts';
import { installCustomResourceDefinitions, type CrdDocument } from '../../sandbox/install-crds.ts';

const INSTALL = fileURLToPath(new URL('../../tools/install-karpenter-kwok.sh', import.meta.url));

export interface KarpenterInstall {
  /** The folder holding `karpenter-kwok`, `crds/` and `build-seconds`. */
  dir: string;
  binary: string;
  /** How long the one-time `go install` took, when this cache built it. */
  buildSeconds: number | undefined;
}

/** Builds Karpenter once per version (a no-op when cached) and says where it is. */
export function installKarpenter(): KarpenterInstall {
  const dir = execFileSync('bash', [INSTALL], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1) ?? '';
  let buildSeconds: number | undefined;
  try {
    buildSeconds = Number(readFileSync(join(dir, 'build-seconds'), 'utf8').trim());
  } catch {
    buildSeconds = undefined;
  }
  return { dir, binary: join(dir, 'karpenter-kwok'), buildSeconds };
}

/** Posts the release's CRDs and waits until each is Established. */
export async function installKarpenterCrds(kube: KubeRest, install: KarpenterInstall, timeoutMs = 60_000): Promise<void> {
  const crdDir = join(install.dir, 'crds');
  const crds = readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
    parseAllDocuments(readFileSync(join(crdDir, f), 'utf8')).map((d) => d.toJS() as CrdDocument | null).filter((d): d is CrdDocument => Boolean(d?.metadata?.name)));
  await installCustomResourceDefinitions(kube, crds, timeoutMs);
}

export interface RunningKarpenter {
  process: ManagedProcess;
  pid: number;
  metricsUrl: string;
  stop(): Promise<void>;
}

export interface KarpenterOptions {
  install: KarpenterInstall;
  /** Admin kubeconfig: out of cluster, Karpenter runs on it. */
  kubeconfig: string;
  instanceTypesFile: string;
  logFile: string;
}

export async function startKarpenter(options: KarpenterOptions, readyTimeoutMs = 120_000): Promise<RunningKarpenter> {
  const metrics = await freePort();
  const health = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: options.kubeconfig,
    DISABLE_LEADER_ELECTION: 'true',
    METRICS_PORT: String(metrics),
    HEALTH_PROBE_PORT: String(health),
    INSTANCE_TYPES_FILE_PATH: options.instanceTypesFile,
    // Its defaults, written out: the same batch window as our watcher's (1 s idle, 10 s max).
    BATCH_IDLE_DURATION: '1s',
    BATCH_MAX_DURATION: '10s',
    LOG_LEVEL: 'info',
  };
  const child = startProcess('karpenter', options.install.binary, [], options.logFile, env);
  await waitUntilReady(child, 'Karpenter', readyTimeoutMs, async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok);
  return { process: child, pid: child.child.pid ?? 0, metricsUrl: `http://127.0.0.1:${metrics}/metrics`, stop: () => child.stop() };
}
