// A simulated kubelet for the sandbox and the tests. It plays the part of a
// real server booting: when a simulated Scaleway server is running, it reads
// the cloud-init the server was given and joins the cluster with what it finds.
// In kubeadm mode that is the real TLS bootstrap: discovery through the signed
// cluster-info ConfigMap and the CA pin, a CSR made with the bootstrap token,
// approved and signed by kube-controller-manager, then the Node created as
// system:node:<name>. Then it keeps the Node's Lease fresh and, after a delay,
// reports the GPUs allocatable as the NVIDIA device plugin would. Its
// allocatable is the kubelet's: capacity minus the kube-reserved,
// system-reserved and hard eviction thresholds of the kubelet configuration
// it found in the cloud-init (kubelet defaults where that sets nothing), so a
// NodeClaim whose allocatable differs from its Node's shows here as it would
// on a real node.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { createKubeRest, isAlreadyExists, type KubeRest } from '../kube/rest.ts';
import { credentialsOfKubeConfig } from '../kube/credentials.ts';
import { parseRenderedBootstrap, caCertHash, type ParsedBootstrap } from '../bootstrap/index.ts';
import { LABEL_INSTANCE_GPU_COUNT } from '../kube/api/constants.ts';
import { parseQuantity } from '../kube/quantity.ts';

export interface SimulatedServer {
  id: string;
  name: string;
  zone: string;
  state: string;
  commercialType: string;
  /** Size of its root volume: the node's ephemeral-storage capacity. */
  rootVolumeBytes?: number | undefined;
}

export interface KubeletSimulatorOptions {
  /** The running servers to look at (the simulator's, or the Scaleway API's). */
  listServers(): Promise<SimulatedServer[]>;
  /** The server's `cloud-init` user data, as its metadata service would serve it. */
  cloudInit(server: SimulatedServer): Promise<string | undefined>;
  /** cpu cores, memory bytes and GPU count of a commercial type. */
  typeFacts(commercialType: string): { ncpus: number; ramBytes: number; gpus: number } | undefined;
  /** Admin access, for modes whose credentials cannot be checked here (k3s, custom). */
  adminKube: KubeRest;
  /** The apiserver URL a kubeadm join would reach (its endpoint in cluster-info). */
  server: string;
  pollIntervalMs?: number;
  /** How long the GPU device plugin takes to report nvidia.com/gpu after the node registers. */
  devicePluginDelayMs?: number;
  /** Servers whose nodes must never join (tests of the registration timeout). */
  refuseToJoin?: (server: SimulatedServer) => boolean;
  /** Trouble for a node once it has joined (the chaos suite): asked once per server. */
  faultsFor?: (server: SimulatedServer) => KubeletFaults | undefined;
  log?: (line: string) => void;
}

export interface KubeletFaults {
  /** The GPU device plugin never comes up: nvidia.com/gpu is never allocatable. */
  noGpu?: boolean;
  /** The kubelet stops this long after joining: Ready=False, no more Lease renewals. */
  notReadyAfterMs?: number;
}

export interface KubeletSimulator {
  /** Node names joined so far. */
  readonly joined: ReadonlyMap<string, string>;
  /** Every join secret found in a server's cloud-init (tests check none leaks anywhere else). */
  readonly joinSecrets: ReadonlySet<string>;
  stop(): Promise<void>;
}

const LEASE_RENEW_MS = 10_000;

/** The kubelet's defaults for what a configuration leaves out (Linux). */
const KUBELET_DEFAULT_MAX_PODS = 110;
const KUBELET_DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = { 'memory.available': '100Mi', 'nodefs.available': '10%', 'nodefs.inodesFree': '5%', 'imagefs.available': '15%' };
/** When the server's root volume is unknown. */
const DEFAULT_EPHEMERAL_BYTES = 100_000_000_000;

interface NodeResourceFacts { ncpus: number; ramBytes: number; rootVolumeBytes: number }

/**
 * Capacity and allocatable as a kubelet with this configuration reports them: allocatable =
 * capacity − kubeReserved − systemReserved − hard eviction threshold (memory.available for memory,
 * nodefs.available for ephemeral-storage), each never below zero. Written from the kubelet's rules,
 * not from the planner's code: the two must agree through the rendered configuration alone.
 */
export function kubeletNodeResources(facts: NodeResourceFacts, config: ParsedBootstrap['kubelet']): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const maxPods = config.maxPods ?? KUBELET_DEFAULT_MAX_PODS;
  const evictionHard = config.evictionHard ?? KUBELET_DEFAULT_EVICTION_HARD;
  const reserved = (resource: string, toUnits: (q: number) => number): number =>
    [config.kubeReserved, config.systemReserved].reduce((sum, list) => sum + (list?.[resource] === undefined ? 0 : toUnits(parseQuantity(list[resource]))), 0);
  const threshold = (signal: string, capacity: number): number => {
    const value = evictionHard[signal];
    if (value === undefined) return 0;
    if (!value.endsWith('%')) return parseQuantity(value);
    const percent = Number(value.slice(0, -1));
    return percent >= 100 ? 0 : Math.ceil((capacity * percent) / 100);
  };
  // The kubelet rounds a CPU reservation up to whole millicores.
  const cpuMilli = Math.max(0, facts.ncpus * 1000 - reserved('cpu', (q) => Math.ceil(q * 1000 - 1e-9)));
  const memory = Math.max(0, facts.ramBytes - reserved('memory', (q) => q) - threshold('memory.available', facts.ramBytes));
  const ephemeral = Math.max(0, facts.rootVolumeBytes - reserved('ephemeral-storage', (q) => q) - threshold('nodefs.available', facts.rootVolumeBytes));
  const ki = (bytes: number): string => `${Math.floor(bytes / 1024)}Ki`;
  return {
    capacity: { cpu: String(facts.ncpus), memory: ki(facts.ramBytes), pods: String(maxPods), 'ephemeral-storage': ki(facts.rootVolumeBytes) },
    allocatable: { cpu: cpuMilli % 1000 === 0 ? String(cpuMilli / 1000) : `${cpuMilli}m`, memory: ki(memory), pods: String(maxPods), 'ephemeral-storage': ki(ephemeral) },
  };
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Checks the detached JWS the bootstrap signer put on cluster-info for this token (HS256 keyed by the token secret). */
export function verifyClusterInfoSignature(kubeconfig: string, jws: string, tokenId: string, tokenSecret: string): boolean {
  const [header, empty, signature] = jws.split('.');
  if (header === undefined || empty !== '' || signature === undefined) return false;
  const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  if (parsed.alg !== 'HS256' || parsed.kid !== tokenId) return false;
  const expected = createHmac('sha256', tokenSecret).update(`${header}.${b64url(kubeconfig)}`).digest();
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function kubeRestFor(server: string, user: { token?: string; certData?: string; keyData?: string }, caData?: string): KubeRest {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, ...(caData ? { caData } : { skipTLSVerify: true }) }],
    users: [{ name: 'u', ...(user.token ? { token: user.token } : {}), ...(user.certData ? { certData: user.certData, keyData: user.keyData } : {}) }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return createKubeRest(credentialsOfKubeConfig(kc));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** kubeadm's join, as far as the API goes: discovery, TLS bootstrap, a client certificate for system:node:<name>. */
async function kubeadmTlsBootstrap(server: string, join: NonNullable<ParsedBootstrap['kubeadm']>, nodeName: string): Promise<KubeRest> {
  const [tokenId = '', tokenSecret = ''] = join.token.split('.');
  // Discovery: cluster-info is public; it is trusted only through the token's signature and the CA pin.
  const anonymous = kubeRestFor(server, {});
  let cm: { data?: Record<string, string> } | undefined;
  for (let i = 0; i < 40; i++) {
    cm = await anonymous.get<{ data?: Record<string, string> }>('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    if (cm.data?.[`jws-kubeconfig-${tokenId}`]) break;
    await sleep(500); // the bootstrap signer adds the signature shortly after the token appears
  }
  const kubeconfig = cm?.data?.kubeconfig ?? '';
  const jws = cm?.data?.[`jws-kubeconfig-${tokenId}`];
  if (!jws) throw new Error(`cluster-info has no JWS signature for token ${tokenId} (is usage-bootstrap-signing set?)`);
  if (!verifyClusterInfoSignature(kubeconfig, jws, tokenId, tokenSecret)) throw new Error('cluster-info signature does not match the bootstrap token');
  const parsed = parseYaml(kubeconfig) as { clusters: { cluster: { 'certificate-authority-data': string } }[] };
  const caData = parsed.clusters[0]?.cluster['certificate-authority-data'] ?? '';
  const caPem = Buffer.from(caData, 'base64').toString('utf8');
  if (!join.caCertHashes.includes(caCertHash(caPem))) throw new Error('the cluster CA does not match --discovery-token-ca-cert-hash');

  // TLS bootstrap: a CSR for system:node:<name>, made with the token, approved and signed by the controller manager.
  const dir = mkdtempSync(join_(tmpdir(), 'scwk-kubelet-'));
  try {
    const keyFile = join_(dir, 'kubelet.key');
    const csrFile = join_(dir, 'kubelet.csr');
    // Not execFileSync: in the benchmark this process also runs the worker and the watcher, and 250 joins would stall them.
    await promisify(execFile)('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/O=system:nodes/CN=system:node:${nodeName}`]);
    const bootstrap = kubeRestFor(server, { token: join.token }, caData);
    const csrName = `node-csr-${nodeName}-${Date.now().toString(36)}`;
    await bootstrap.post('/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: csrName },
      spec: {
        request: readFileSync(csrFile).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
      },
    });
    let certificate: string | undefined;
    for (let i = 0; i < 120 && !certificate; i++) {
      const csr = await bootstrap.get<{ status?: { certificate?: string } }>(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${csrName}`);
      certificate = csr.status?.certificate;
      if (!certificate) await sleep(250);
    }
    if (!certificate) throw new Error(`CSR ${csrName} was not approved and signed within 30 s`);
    return kubeRestFor(server, { certData: certificate, keyData: readFileSync(keyFile).toString('base64') }, caData);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const join_ = join;

export function startKubeletSimulator(options: KubeletSimulatorOptions): KubeletSimulator {
  const log = options.log ?? ((line: string) => console.log(`[kubelet] ${line}`));
  const joined = new Map<string, string>();
  const joinSecrets = new Set<string>();
  const joining = new Set<string>();
  const nodeClients = new Map<string, KubeRest>();
  /** Server id → stops the kubelet of the node it joined as. */
  const kubelets = new Map<string, () => void>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    t.unref();
    timers.add(t);
  };

  const renewLease = async (kube: KubeRest, nodeName: string, nodeUid: string): Promise<void> => {
    const now = new Date().toISOString().replace('Z', '000Z');
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: nodeName, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] },
      spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: now },
    };
    try {
      await kube.post('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await kube.patch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`, { spec: { renewTime: now } });
    }
  };

  const register = async (server: SimulatedServer, boot: ParsedBootstrap): Promise<void> => {
    const kube = boot.mode === 'kubeadm' && boot.kubeadm
      ? await kubeadmTlsBootstrap(options.server, boot.kubeadm, boot.nodeName)
      : options.adminKube;
    const facts = options.typeFacts(server.commercialType) ?? { ncpus: 2, ramBytes: 4 * 2 ** 30, gpus: 0 };
    const { capacity, allocatable } = kubeletNodeResources({ ...facts, rootVolumeBytes: server.rootVolumeBytes ?? DEFAULT_EPHEMERAL_BYTES }, boot.kubelet);
    const node = await kube.post<{ metadata: { uid: string } }>('/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: boot.nodeName, labels: { ...boot.labels, 'kubernetes.io/hostname': boot.nodeName } },
      spec: { providerID: boot.providerID, taints: boot.taints },
    });
    const heartbeat = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await kube.patch(`/api/v1/nodes/${boot.nodeName}/status`, {
      status: {
        capacity,
        allocatable,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (simulated)', lastHeartbeatTime: heartbeat, lastTransitionTime: heartbeat }],
        nodeInfo: { kubeletVersion: 'v1.35.4', architecture: 'amd64', operatingSystem: 'linux', osImage: 'Ubuntu 24.04 (scw-karpenter simulated kubelet)', containerRuntimeVersion: 'containerd://2.0.0', kernelVersion: '6.8.0', kubeProxyVersion: '', machineID: server.id.replace(/-/g, ''), systemUUID: server.id, bootID: server.id },
        addresses: [{ type: 'Hostname', address: boot.nodeName }],
      },
    }, 'strategic');
    nodeClients.set(boot.nodeName, kube);
    joined.set(boot.nodeName, boot.providerID);
    log(`node ${boot.nodeName} joined (${boot.mode}) as ${boot.providerID}`);
    const faults = options.faultsFor?.(server);
    let dead = false;
    // The kubelet dies with its server (terminated, or powered off): no more heartbeats or pod syncs.
    kubelets.set(server.id, () => {
      if (dead) return;
      dead = true;
      nodeClients.delete(boot.nodeName);
      log(`node ${boot.nodeName}: its server ${server.id} is gone; the kubelet stops`);
    });
    const keepAlive = (): void => {
      if (dead) return;
      renewLease(kube, boot.nodeName, node.metadata.uid).catch((err: unknown) => log(`lease of ${boot.nodeName}: ${String(err)}`)).finally(() => later(LEASE_RENEW_MS, keepAlive));
    };
    keepAlive();
    if (faults?.notReadyAfterMs !== undefined) {
      later(faults.notReadyAfterMs, () => {
        dead = true;
        const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        const notReady = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime is down (simulated)', lastHeartbeatTime: at, lastTransitionTime: at };
        kube.patch(`/api/v1/nodes/${boot.nodeName}/status`, { status: { conditions: [notReady] } }, 'strategic')
          .then(() => log(`node ${boot.nodeName}: NotReady (injected)`))
          .catch((err: unknown) => log(`NotReady on ${boot.nodeName}: ${String(err)}`));
      });
    }
    const gpus = Number(boot.labels[LABEL_INSTANCE_GPU_COUNT] ?? facts.gpus);
    if (faults?.noGpu) log(`node ${boot.nodeName}: the device plugin never starts (injected)`);
    else if (gpus > 0) {
      later(options.devicePluginDelayMs ?? 2_000, () => {
        const gpu = { 'nvidia.com/gpu': String(gpus) };
        kube.patch(`/api/v1/nodes/${boot.nodeName}/status`, { status: { capacity: { ...capacity, ...gpu }, allocatable: { ...allocatable, ...gpu } } }, 'strategic')
          .then(() => log(`node ${boot.nodeName}: nvidia.com/gpu=${gpus} allocatable (device plugin)`))
          .catch((err: unknown) => log(`device plugin on ${boot.nodeName}: ${String(err)}`));
      });
    }
  };

  // What a kubelet does for the pods bound to its node: runs them (here: reports them Running)
  // and, once they are deleted, stops them and removes the object (grace period over at once).
  const syncPods = async (nodeName: string, kube: KubeRest): Promise<void> => {
    const pods = await kube.get<{ items: { metadata: { name: string; namespace: string; deletionTimestamp?: string }; status?: { phase?: string } }[] }>(
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`,
    );
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const pod of pods.items) {
      const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
      if (pod.metadata.deletionTimestamp) {
        await kube.delete(path, { gracePeriodSeconds: 0 });
      } else if (pod.status?.phase === 'Pending' || pod.status?.phase === undefined) {
        await kube.patch(`${path}/status`, {
          status: {
            phase: 'Running',
            startTime: now,
            conditions: ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
          },
        }, 'strategic');
      }
    }
  };

  const tick = async (): Promise<void> => {
    for (const [nodeName, kube] of nodeClients) {
      await syncPods(nodeName, kube).catch((err: unknown) => {
        // A node deleted by its NodeClaim's termination: this kubelet is gone with it.
        log(`pods of ${nodeName}: ${String(err)}`);
        if (err instanceof Error && /\b(401|404)\b/.test(err.message)) nodeClients.delete(nodeName);
      });
    }
    const servers = await options.listServers();
    const up = new Set(servers.filter((s) => s.state === 'running' || s.state === 'starting').map((s) => s.id));
    for (const [serverId, stop] of kubelets) {
      if (up.has(serverId)) continue;
      stop();
      kubelets.delete(serverId);
    }
    for (const server of servers) {
      if (server.state !== 'running' || joining.has(server.id) || options.refuseToJoin?.(server)) continue;
      const text = await options.cloudInit(server);
      if (!text) continue;
      joining.add(server.id);
      try {
        const boot = parseRenderedBootstrap(text);
        if (boot.kubeadm) joinSecrets.add(boot.kubeadm.token);
        if (boot.k3s) joinSecrets.add(boot.k3s.token);
        await register(server, boot);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        log(`server ${server.id} failed to join: ${err instanceof Error ? err.message : String(err)}`);
        joining.delete(server.id);
      }
    }
  };

  const loop = (): void => {
    tick().catch((err: unknown) => log(`scan failed: ${String(err)}`)).finally(() => later(options.pollIntervalMs ?? 500, loop));
  };
  loop();

  return {
    joined,
    joinSecrets,
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      return Promise.resolve();
    },
  };
}
