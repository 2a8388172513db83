// scw-karpenter's image run as a cluster runs it: the oci-archive of
// `npm run image` loaded into podman, and the worker and the watcher started
// from it as a kubelet would start their Pods (the ServiceAccount token and CA
// mounted, KUBERNETES_SERVICE_HOST/PORT, no kubeconfig, the chart's restricted
// securityContext), against the sandbox's apiserver, Temporal and simulator.
// Podman runs as root with vfs storage, cgroupfs and runc: the combination
// that works on these machines (crun fails on their hybrid cgroups).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { componentEndpoints, componentEnv, startProductComponents, type Component, type ComponentProcess, type LaunchComponent, type ProductProcessesOptions, type RunningProductProcesses } from './product-processes.ts';
import { startProcess, type ManagedProcess } from './processes.ts';

const execFileAsync = promisify(execFile);

const REPO = fileURLToPath(new URL('../', import.meta.url));
export const IMAGE_ARCHIVE = join(REPO, '.image', 'scw-karpenter-oci.tar');
const BUILD_SCRIPT = join(REPO, 'tools', 'image', 'build.sh');
/** Where a kubelet mounts a Pod's ServiceAccount token, CA and namespace, and where @kubernetes/client-node's in-cluster config reads them. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The image's user (tools/image/passwd, the chart's runAsUser). */
const IMAGE_USER = '65532:65532';
/** Every container the sandbox starts carries the pid of the process that started it, so a later run can remove those a killed run left. */
const OWNER_LABEL = 'io.scw-karpenter.sandbox.owner-pid';
/** SIGTERM, then this long for a graceful shutdown, as a Pod's terminationGracePeriodSeconds. */
const STOP_GRACE_SECONDS = 10;
/**
 * Podman's default limits (the host's maximum) are refused here: runc's init cannot set an nproc limit
 * above what it inherits ("error setting rlimit type 6: operation not permitted"). These are ample for Node.
 */
const ULIMITS = ['nofile=20000:20000', 'nproc=4096:4096'];

function cacheRoot(): string {
  return process.env.SCW_KARPENTER_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'scw-karpenter');
}

/**
 * Podman's global flags. The run root must stay the same for one storage root (podman's database records
 * it and refuses another), hence a fixed path rather than a temp folder.
 */
export function podmanGlobalArgs(): string[] {
  return [
    '--root', join(cacheRoot(), 'podman', 'storage'),
    '--runroot', '/tmp/scw-karpenter-podman-run',
    '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs',
    '--runtime', 'runc',
    '--events-backend', 'file',
  ];
}

async function podman(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('podman', [...podmanGlobalArgs(), ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

const commandExists = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

export type ContainerSupport = { ok: true } | { ok: false; reason: string };

/**
 * Whether this machine can run the image's containers, and if not, why. It checks what podman and runc
 * need (Linux on x86-64, root, namespaces it may create, a writable cgroup hierarchy) and that podman and
 * runc are installed or can be (apt-get as root): tools/install-container-tools.sh installs them when
 * the image is built.
 */
export function containerSupport(): ContainerSupport {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, reason: `the image is linux/amd64; this is ${process.platform}/${process.arch}` };
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: 'not root: the sandbox runs podman as root (rootless podman needs /etc/subuid ranges and cgroup delegation, which this project does not set up)' };
  }
  const namespaces = spawnSync('unshare', ['--mount', '--pid', '--fork', '--uts', '--ipc', '--net', 'true'], { encoding: 'utf8' });
  if (namespaces.status !== 0) {
    return { ok: false, reason: `cannot create mount, PID, UTS, IPC and network namespaces (unshare: ${(namespaces.stderr || namespaces.error?.message || `exit ${namespaces.status}`).trim()}): is this an unprivileged container?` };
  }
  const cgroups = '/sys/fs/cgroup';
  // cgroup v1 (or hybrid) has one hierarchy per controller; v2 one unified tree. Podman's cgroupfs manager writes into them.
  const writable = existsSync(join(cgroups, 'pids')) ? join(cgroups, 'pids') : cgroups;
  try {
    if (readdirSync(cgroups).length === 0) return { ok: false, reason: `${cgroups} is empty: no cgroup hierarchy mounted` };
    accessSync(writable, constants.W_OK);
  } catch (err) {
    return { ok: false, reason: `${writable} is not writable (${(err as Error).message}): containers cannot get cgroups here` };
  }
  const missing = ['podman', 'runc'].filter((tool) => !commandExists(tool));
  if (missing.length > 0 && !commandExists('apt-get')) {
    return { ok: false, reason: `${missing.join(' and ')} missing and no apt-get to install them (tools/install-container-tools.sh installs Debian's packages)` };
  }
  return { ok: true };
}

/**
 * `npm run image`: builds .image/scw-karpenter-oci.tar, or does nothing when its inputs have not changed.
 * On a fresh machine it also installs podman, runc, umoci and skopeo, which takes minutes.
 */
export async function buildImage(timeoutMs = 30 * 60_000): Promise<{ seconds: number; output: string }> {
  const started = Date.now();
  try {
    const { stderr, stdout } = await execFileAsync('bash', [BUILD_SCRIPT], { cwd: REPO, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { seconds: (Date.now() - started) / 1000, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`building the image (tools/image/build.sh) failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** The part of an OCI image config that says how the image runs. */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
}

function archiveMember(archive: string, name: string): string {
  return execFileSync('tar', ['-xOf', archive, name], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
}

/** The archive's image: its ID as podman names it (the digest of its config) and its run config. */
export function readImageArchive(archive = IMAGE_ARCHIVE): { id: string; config: ImageConfig } {
  const index = JSON.parse(archiveMember(archive, 'index.json')) as { manifests: { digest: string }[] };
  const manifestDigest = index.manifests[0]?.digest;
  if (!manifestDigest) throw new Error(`${archive}: index.json lists no manifest`);
  const manifest = JSON.parse(archiveMember(archive, `blobs/${manifestDigest.replace(':', '/')}`)) as { config: { digest: string } };
  const { config } = JSON.parse(archiveMember(archive, `blobs/${manifest.config.digest.replace(':', '/')}`)) as { config: ImageConfig };
  return { id: manifest.config.digest, config };
}

/** Loads the archive into podman's storage unless that exact image is there already; resolves to its ID. */
export async function loadImage(archive = IMAGE_ARCHIVE): Promise<string> {
  const { id } = readImageArchive(archive);
  const present = async (): Promise<boolean> => podman(['image', 'exists', id]).then(() => true, () => false);
  if (!(await present())) {
    await podman(['load', '--quiet', '--input', archive], 10 * 60_000);
    if (!(await present())) throw new Error(`podman load ${archive} did not store image ${id}`);
    // The build the tag pointed at before is now untagged; vfs keeps a full copy of every layer (about 650 MB
    // an image), so untagged images go. Those a container still uses stay.
    await podman(['image', 'prune', '--force']);
  }
  return id;
}

/** Removes the sandbox's containers whose owner process is gone (a run killed before its teardown). */
export async function removeOrphanedContainers(): Promise<string[]> {
  const listing = await podman(['ps', '--all', '--filter', `label=${OWNER_LABEL}`, '--format', `{{.Names}} {{index .Labels "${OWNER_LABEL}"}}`]);
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const orphans = listing.split('\n').map((line) => line.trim().split(' ')).filter(([name, pid]) => name && !alive(Number(pid))).map(([name]) => name as string);
  for (const name of orphans) await podman(['rm', '--force', '--ignore', name]);
  return orphans;
}

export interface ContainerSpec {
  name: string;
  /** An image ID or reference in podman's storage (never pulled). */
  image: string;
  /** The arguments after the image: its Cmd. */
  args: readonly string[];
  env: Record<string, string>;
  /** Bind mounts, read-only: a kubelet mounts Secrets and projected tokens read-only. */
  readOnlyMounts: { source: string; target: string }[];
  /** Writable scratch folders, as the chart's emptyDir volumes (the root filesystem is read-only). */
  tmpfs: readonly string[];
  hostname: string;
  /** Where the env file goes (0600: it holds credentials) and the container's output. */
  dir: string;
}

export interface RunningContainer {
  readonly name: string;
  /** `podman run`, attached: its output is the container's stdout and stderr, its exit the container's. */
  readonly process: ManagedProcess;
  logs(): string;
  /** `podman inspect`'s record of the container. */
  inspect(): Promise<ContainerInspection>;
  /** SIGTERM, STOP_GRACE_SECONDS, SIGKILL, then the container removed; idempotent. */
  stop(): Promise<void>;
}

export interface ContainerInspection {
  State: { Pid: number; Running: boolean };
  Config: { User: string; Env: string[] };
  HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null; CapAdd: string[] | null; SecurityOpt: string[] | null; NetworkMode: string };
  Mounts: { Destination: string; Source: string; RW: boolean }[];
}

/**
 * Runs a container with the chart's restricted securityContext: user 65532, read-only root filesystem,
 * every capability dropped, no privilege escalation, podman's default seccomp profile (RuntimeDefault).
 * Host network: the sandbox's apiserver, Temporal and simulator listen on 127.0.0.1.
 */
export function runContainer(spec: ContainerSpec): RunningContainer {
  mkdirSync(spec.dir, { recursive: true });
  const envFile = join(spec.dir, `${spec.name}.env`);
  const lines = Object.entries(spec.env).map(([key, value]) => {
    if (/[\n\r]/.test(value)) throw new Error(`${key}: an env file cannot carry a value with a line break`);
    return `${key}=${value}`;
  });
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  const args = [
    ...podmanGlobalArgs(), 'run',
    '--name', spec.name,
    '--label', `${OWNER_LABEL}=${process.pid}`,
    '--rm', '--pull', 'never',
    '--network', 'host', '--hostname', spec.hostname,
    '--user', IMAGE_USER,
    '--read-only', '--read-only-tmpfs=false',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    ...ULIMITS.flatMap((u) => ['--ulimit', u]),
    ...spec.tmpfs.flatMap((path) => ['--tmpfs', `${path}:rw,nosuid,nodev,mode=1777`]),
    ...spec.readOnlyMounts.flatMap((m) => ['--volume', `${m.source}:${m.target}:ro`]),
    '--env-file', envFile,
    spec.image, ...spec.args,
  ];
  const child = startProcess(spec.name, 'podman', args, join(spec.dir, `${spec.name}.log`));
  let stopped: Promise<void> | undefined;
  return {
    name: spec.name,
    process: child,
    logs: () => readFileSync(child.logFile, 'utf8'),
    inspect: async () => {
      const [record] = JSON.parse(await podman(['container', 'inspect', spec.name])) as ContainerInspection[];
      if (!record) throw new Error(`podman inspect ${spec.name}: no such container`);
      return record;
    },
    stop: () => {
      stopped ??= (async () => {
        // podman rm --force --time stops the container gracefully first; the attached `podman run` then exits.
        try {
          await podman(['rm', '--force', '--ignore', '--time', String(STOP_GRACE_SECONDS), spec.name], (STOP_GRACE_SECONDS + 60) * 1000);
        } finally {
          await child.stop();
        }
      })();
      return stopped;
    },
  };
}

export interface ComponentContainer extends ComponentProcess {
  container: RunningContainer;
}

export interface ProductContainersOptions extends ProductProcessesOptions {
  /** The image ID (loadImage). */
  image: string;
}

export type RunningProductContainers = RunningProductProcesses<ComponentContainer>;

/**
 * What a Pod of the chart's Deployment gets: the sandbox's Deployment environment (componentEnv) without the
 * host's PATH, HOME, cache and kubeconfig, plus the apiserver's address as a kubelet sets it for the
 * `kubernetes` Service. With no KUBECONFIG, the product takes the in-cluster path.
 */
export function inClusterEnv(options: ProductProcessesOptions, component: Component, ports: { metrics: number; health: number }): Record<string, string> {
  const { PATH: _path, HOME: _home, SCW_KARPENTER_CACHE: _cache, KUBECONFIG: _kubeconfig, ...deployment } = componentEnv(options, component, '', ports);
  const apiserver = new URL(options.controlPlane.server);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(deployment)) if (value !== undefined) env[key] = value;
  return { ...env, KUBERNETES_SERVICE_HOST: apiserver.hostname, KUBERNETES_SERVICE_PORT: apiserver.port || '443' };
}

/** The image's entry point in a container, as a kubelet starts the chart's Pod: the token mounted, no kubeconfig. */
function launchContainer(options: ProductContainersOptions): LaunchComponent<ComponentContainer> {
  return (launch) => {
    const { component, identity, ports } = launch;
    const env = inClusterEnv(options, component, ports);
    const container = runContainer({
      name: `scwk-${component}-${process.pid}-${Date.now().toString(36)}`,
      image: options.image,
      args: [component],
      env,
      readOnlyMounts: [{ source: identity.mountDir, target: SERVICE_ACCOUNT_MOUNT }],
      tmpfs: ['/tmp'],
      hostname: env.POD_NAME ?? identity.name,
      dir: options.dir,
    });
    return { component, container, process: container.process, stop: () => container.stop(), ...componentEndpoints(launch) };
  };
}

/** The product from its image: the cluster prepared, the chart's RBAC, worker and watcher containers ready, the sandbox's kubelet. */
export async function startProductContainers(options: ProductContainersOptions): Promise<RunningProductContainers> {
  mkdirSync(options.dir, { recursive: true });
  await removeOrphanedContainers();
  return startProductComponents(options, launchContainer(options));
}
