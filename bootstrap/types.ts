// Inputs and outputs of the bootstrap renderer: plain data only. The inputs
// hold join secrets (bootstrap tokens, k3s tokens, Kosmos node keys), so they
// are built and consumed inside one activity and never enter workflow history.

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

/** A Kubernetes node taint, as in `Node.spec.taints` (without `timeAdded`). */
export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

/** The node-side facts every mode needs, whatever the way it joins. */
export interface NodeRegistration {
  /** The Node name the kubelet registers with (the NodeClaim's chosen name); also the hostname when it is a DNS label. */
  nodeName: string;
  /** Scaleway zone of the server, e.g. `fr-par-2`. */
  zone: string;
  /** The server's UUID, as Scaleway's instance API returns it. */
  serverId: string;
  /** Labels for the Node (NodePool template labels, well-known labels). Those the kubelet may not set are returned as `deferredLabels`. */
  labels: Record<string, string>;
  /** The NodePool's / NodeClaim's taints. */
  taints: Taint[];
  /** Taints that some daemon (e.g. the GPU operator) removes once the node is set up. */
  startupTaints: Taint[];
}

/** Join by bootstrap token with `kubeadm join` (self-managed clusters). */
export interface KubeadmJoin {
  /** `host:port` of the kube-apiserver, as in `cluster-info` (see `apiServerEndpointFromClusterInfo`). */
  apiServerEndpoint: string;
  /** The per-node bootstrap token, `<id>.<secret>`. */
  token: string;
  /** Pins of the cluster CA: `sha256:<hex of the DER SubjectPublicKeyInfo>` (see `caCertHash`). At least one. */
  caCertHashes: string[];
  /** Container runtime socket, when kubeadm cannot detect it (e.g. `unix:///run/containerd/containerd.sock`). */
  criSocket?: string;
  /** Extra kubelet flags, `--name=value` without the dashes. May not set the flags we own (`node-labels`, `provider-id`, `register-with-taints`, `hostname-override`). */
  kubeletExtraArgs?: { name: string; value: string }[];
  /** kubeadm preflight checks to ignore, e.g. `["Swap"]`. */
  ignorePreflightErrors?: string[];
}

/** Join a k3s server as an agent. */
export interface K3sJoin {
  /** The server URL, `https://<server>:6443`. */
  url: string;
  /** The cluster's agent (or node) token, as `K3S_TOKEN` takes it. */
  token: string;
  /**
   * Where to fetch the k3s install script from; default `https://get.k3s.io` (`K3S_DEFAULT_INSTALL_SCRIPT_URL`).
   * Point it at a mirror for air-gapped clusters. It is run as `sh <script> agent <flags>`.
   */
  installScriptUrl?: string;
  /** Pins the k3s release (`INSTALL_K3S_VERSION`, e.g. `v1.33.4+k3s1`); the script's stable channel otherwise. */
  version?: string;
}

/** Join a Scaleway Kosmos (multi-cloud) external pool with Scaleway's `k8s-agent`. */
export interface KosmosJoin {
  /** The external pool's ID. */
  poolId: string;
  /** The pool's region, e.g. `fr-par`. */
  poolRegion: string;
  /** From the controller's own `POST /k8s/v1/regions/{region}/pools/{pool_id}/external-nodes/auth` for this server. */
  metadataUrl: string;
  /** Ditto: the node's own key, scoped to this node. The user's API key never reaches the node. */
  nodeSecretKey: string;
  /** Where to download the agent binary from; default `kosmosAgentUrl(arch)` (the latest GitHub release asset). */
  agentUrl?: string;
  /** CPU architecture of the server, for the default agent URL. Default `amd64`. */
  arch?: 'amd64' | 'arm64';
  /** Arguments of the agent; default `["-kosmos"]`. */
  agentArgs?: string[];
}

/**
 * The user's own template. It renders to a `#cloud-config` document (merged with ours) or to a
 * script starting with `#!` (written to a file and run by cloud-init). See `CUSTOM_TEMPLATE_VARIABLES`.
 */
export interface CustomJoin {
  template: string;
  /** Join credentials the template may reference as `{{ .Token }}`, `{{ .APIServerEndpoint }}`, `{{ .CACertHash }}`. */
  token?: string;
  apiServerEndpoint?: string;
  caCertHashes?: string[];
}

/**
 * What the node's kubelet keeps for itself, as KubeletConfiguration fields take them
 * (`kubeReserved: {cpu: 90m, memory: 1465Mi}`, `evictionHard: {memory.available: 100Mi}`).
 * The controller computes it (scaleway/kubelet-reservations.ts) from the instance type and the
 * NodeClass's `kubelet` settings; it is the same arithmetic the planner's allocatable comes from.
 */
export interface KubeletConfig {
  maxPods: number;
  kubeReserved: Record<string, string>;
  /** Empty when the NodeClass reserves nothing for the system. */
  systemReserved: Record<string, string>;
  /** Every hard eviction signal the kubelet uses, defaults included. */
  evictionHard: Record<string, string>;
}

interface BootstrapCommon {
  node: NodeRegistration;
  /** Rendered into the kubelet configuration of every mode. */
  kubelet: KubeletConfig;
  /** The NodeClass's extra `userData`: a `#cloud-config` YAML map merged into ours. */
  userData?: string;
}

export interface KubeadmBootstrapInput extends BootstrapCommon {
  mode: 'kubeadm';
  kubeadm: KubeadmJoin;
}

export interface K3sBootstrapInput extends BootstrapCommon {
  mode: 'k3s';
  k3s: K3sJoin;
}

export interface KosmosBootstrapInput extends BootstrapCommon {
  mode: 'kosmos';
  kosmos: KosmosJoin;
}

export interface CustomBootstrapInput extends BootstrapCommon {
  mode: 'custom';
  custom: CustomJoin;
}

/** Everything needed to render one server's cloud-init; `mode` says how the node joins. */
export type BootstrapInput = KubeadmBootstrapInput | K3sBootstrapInput | KosmosBootstrapInput | CustomBootstrapInput;

export type BootstrapMode = BootstrapInput['mode'];

/** The rendered user data and what the controller still has to do after the node registers. */
export interface RenderedBootstrap {
  /** The `#cloud-config` document to set as the server's `cloud-init` user data. */
  cloudInit: string;
  mode: BootstrapMode;
  nodeName: string;
  /** `scaleway://instance/<zone>/<server-uuid>`. */
  providerID: string;
  /** Labels the node registers with. */
  kubeletLabels: Record<string, string>;
  /** Labels the kubelet may not set (NodeRestriction) or the mode cannot pass: the controller sets them on the Node after registration. */
  deferredLabels: Record<string, string>;
  /** Taints the node registers with (ours, startup taints, `karpenter.sh/unregistered:NoExecute`). */
  registerTaints: Taint[];
  /** Taints the mode cannot register with (Kosmos): the controller adds them after registration. */
  deferredTaints: Taint[];
  /** Whether the kubelet registers with our provider ID (false in Kosmos mode: the pool's metadata decides it). */
  providerIDAtRegistration: boolean;
  /** Non-fatal findings, e.g. a user `write_files` entry dropped because it targets one of our files. */
  warnings: string[];
}

/** What `parseRenderedBootstrap` reads back from a rendered cloud-init. */
export interface ParsedBootstrap {
  mode: BootstrapMode;
  nodeName: string;
  providerID: string;
  labels: Record<string, string>;
  taints: Taint[];
  kubeadm?: { apiServerEndpoint: string; token: string; caCertHashes: string[] };
  k3s?: { url: string; token: string };
  kosmos?: { poolId: string; poolRegion: string; metadataUrl: string; nodeSecretKey: string };
  /**
   * The kubelet settings the node would run with, read from where its mode puts them (kubeadm's
   * KubeletConfiguration patch, k3s's --kubelet-arg flags, the custom template's kubelet flags, the
   * Kosmos drop-in). Fields the rendered text does not set are absent: the kubelet's defaults apply.
   */
  kubelet: Partial<KubeletConfig>;
}
