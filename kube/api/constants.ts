// Names shared with Kubernetes and upstream Karpenter v1: API coordinates,
// labels, taints, annotations, condition types and reasons. Values that are
// Karpenter's are spelled exactly as upstream (pkg/apis/v1/labels.go, taints.go,
// nodeclaim_status.go) so a cluster running stock Karpenter reads them the same.

/** Group/version/resource of a custom resource, in the shape CustomObjectsApi takes. */
export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly apiVersion: string;
}

function gvr(group: string, version: string, kind: string, plural: string): GroupVersionResource {
  return { group, version, kind, plural, apiVersion: `${group}/${version}` };
}

export const KARPENTER_GROUP = 'karpenter.sh';
/** Our reserved prefix: tags on Scaleway resources and our labels/annotations. NodeClass tags may not use it. */
export const TAG_PREFIX = 'karpenter.scaleway.com';
export const SCALEWAY_GROUP = 'karpenter.scaleway.com';

export const NODECLAIM_GVR = gvr(KARPENTER_GROUP, 'v1', 'NodeClaim', 'nodeclaims');
export const NODEPOOL_GVR = gvr(KARPENTER_GROUP, 'v1', 'NodePool', 'nodepools');
export const SCALEWAY_NODECLASS_GVR = gvr(SCALEWAY_GROUP, 'v1alpha1', 'ScalewayNodeClass', 'scalewaynodeclasses');

/** The nodeClassRef group/kind our NodePools use; stock Karpenter ignores pools pointing elsewhere and so do we. */
export const NODECLASS_REF = { group: SCALEWAY_GROUP, kind: SCALEWAY_NODECLASS_GVR.kind } as const;

// ---- Tags on Scaleway resources ------------------------------------------------
// Every server (and its volumes) carries `managed`, `cluster=<name>`, `nodepool=<pool>`,
// `nodeclaim=<name>` and `nodeclaim-uid=<uid>`: find-before-create and garbage collection read them.

export const TAG_MANAGED = `${TAG_PREFIX}/managed`;
export const TAG_CLUSTER = `${TAG_PREFIX}/cluster`;
export const TAG_NODEPOOL = `${TAG_PREFIX}/nodepool`;
export const TAG_NODECLAIM = `${TAG_PREFIX}/nodeclaim`;
export const TAG_NODECLAIM_UID = `${TAG_PREFIX}/nodeclaim-uid`;

// ---- Labels -------------------------------------------------------------------

export const LABEL_NODEPOOL = 'karpenter.sh/nodepool';
export const LABEL_CAPACITY_TYPE = 'karpenter.sh/capacity-type';
export const LABEL_REGISTERED = 'karpenter.sh/registered';
export const LABEL_INITIALIZED = 'karpenter.sh/initialized';
/** Set to "true" on a Node to stop NodePool taints being synced onto it at registration. */
export const LABEL_DO_NOT_SYNC_TAINTS = 'karpenter.sh/do-not-sync-taints';
/** On our bootstrap-token Secrets: the NodeClaim each was minted for (garbage collection reads the UID). */
export const LABEL_NODECLAIM = `${TAG_PREFIX}/nodeclaim`;
export const LABEL_NODECLAIM_UID = `${TAG_PREFIX}/nodeclaim-uid`;

export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_WINDOWS_BUILD = 'node.kubernetes.io/windows-build';

// Our instance labels, in our own domain (the kubelet refuses kubernetes.io
// ones and karpenter.sh is reserved). Names follow the AWS provider's
// instance-gpu-* family; memory values are MiB, GPU names lower-kebab-case.
export const LABEL_INSTANCE_GPU_NAME = 'karpenter.scaleway.com/instance-gpu-name';
export const LABEL_INSTANCE_GPU_COUNT = 'karpenter.scaleway.com/instance-gpu-count';
export const LABEL_INSTANCE_GPU_MEMORY = 'karpenter.scaleway.com/instance-gpu-memory';
export const LABEL_INSTANCE_GPU_MANUFACTURER = 'karpenter.scaleway.com/instance-gpu-manufacturer';
export const LABEL_INSTANCE_FAMILY = 'karpenter.scaleway.com/instance-family';
export const LABEL_INSTANCE_CPU = 'karpenter.scaleway.com/instance-cpu';
export const LABEL_INSTANCE_MEMORY = 'karpenter.scaleway.com/instance-memory';

/**
 * The seed's GPU selector (`karpenter.sh/instance-type: l4`). Valid on Nodes and
 * in pod nodeSelectors, but NodePool/NodeClaim requirements may not use it (the
 * karpenter.sh domain is restricted), so requirements translate it to the GPU
 * name label; nodes carry both.
 */
export const LABEL_SEED_INSTANCE_TYPE = 'karpenter.sh/instance-type';

export const SCALEWAY_LABELS = [
  LABEL_INSTANCE_GPU_NAME,
  LABEL_INSTANCE_GPU_COUNT,
  LABEL_INSTANCE_GPU_MEMORY,
  LABEL_INSTANCE_GPU_MANUFACTURER,
  LABEL_INSTANCE_FAMILY,
  LABEL_INSTANCE_CPU,
  LABEL_INSTANCE_MEMORY,
] as const;

/** Labels in restricted domains that requirements may still use (upstream's WellKnownLabels). */
export const WELL_KNOWN_LABELS: ReadonlySet<string> = new Set([
  LABEL_NODEPOOL,
  LABEL_ZONE,
  LABEL_REGION,
  LABEL_INSTANCE_TYPE,
  LABEL_ARCH,
  LABEL_OS,
  LABEL_CAPACITY_TYPE,
  LABEL_WINDOWS_BUILD,
]);

/** Deprecated or alias keys and the key they stand for; applied to pod requirements. */
export const NORMALIZED_LABELS: Readonly<Record<string, string>> = {
  'failure-domain.beta.kubernetes.io/zone': LABEL_ZONE,
  'failure-domain.beta.kubernetes.io/region': LABEL_REGION,
  'beta.kubernetes.io/arch': LABEL_ARCH,
  'beta.kubernetes.io/os': LABEL_OS,
  'beta.kubernetes.io/instance-type': LABEL_INSTANCE_TYPE,
  [LABEL_SEED_INSTANCE_TYPE]: LABEL_INSTANCE_GPU_NAME,
};

// ---- Annotations ----------------------------------------------------------------

/** "true" on a pod or node blocks voluntary disruption. */
export const ANNOTATION_DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';
export const ANNOTATION_NODEPOOL_HASH = 'karpenter.sh/nodepool-hash';
export const ANNOTATION_NODEPOOL_HASH_VERSION = 'karpenter.sh/nodepool-hash-version';
/** ID of the Temporal workflow that provisions (and later deletes) the NodeClaim's instance. */
export const ANNOTATION_WORKFLOW_ID = 'karpenter.scaleway.com/workflow-id';
/** ID of the NodeClaim's termination workflow, once started: a later run that failed is started again, with an Event. */
export const ANNOTATION_TERMINATION_WORKFLOW_ID = `${ANNOTATION_WORKFLOW_ID}-termination`;
/** The pods a launching NodeClaim was made for: while it launches they are its, not new work. */
export const ANNOTATION_NOMINATED_PODS = 'karpenter.scaleway.com/nominated-pods';
/** The offering the provisioner priced the NodeClaim on, for the reader (`L4-1-24G@fr-par-2 €0.75/h`). */
export const ANNOTATION_PLANNED_OFFERING = 'karpenter.scaleway.com/planned-offering';
/** JSON registration counters on a NodePool (watcher/registration-health.ts), so a restarted watcher keeps them. */
export const ANNOTATION_REGISTRATION_HEALTH = 'karpenter.scaleway.com/registration-health';
/** Set before a NodeClaim's first createServer call: from then on every attempt looks for the server before creating one. */
export const ANNOTATION_SERVER_CREATE_ATTEMPTED = 'karpenter.scaleway.com/server-create-attempted';
/** Generation of the ScalewayNodeClass the instance was built from (drift detection). */
export const ANNOTATION_NODECLASS_GENERATION = 'karpenter.scaleway.com/nodeclass-generation';
/** Hash of the drift-relevant ScalewayNodeClass spec, on the NodeClass and on each NodeClaim made from it (as AWS's ec2nodeclass-hash). */
export const ANNOTATION_NODECLASS_HASH = 'karpenter.scaleway.com/nodeclass-hash';
export const ANNOTATION_NODECLASS_HASH_VERSION = 'karpenter.scaleway.com/nodeclass-hash-version';

// ---- Taints and finalizers -----------------------------------------------------

export interface TaintSpec {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** The kubelet registers with it; removed once NodePool labels/taints are synced. */
export const TAINT_UNREGISTERED: TaintSpec = { key: 'karpenter.sh/unregistered', effect: 'NoExecute' };
/** Keeps new pods off a node that is being disrupted. */
export const TAINT_DISRUPTED: TaintSpec = { key: 'karpenter.sh/disrupted', effect: 'NoSchedule' };

/** Taints that go away by themselves while a node starts; initialization waits for them. */
export const KNOWN_EPHEMERAL_TAINT_KEYS: readonly string[] = [
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.cloudprovider.kubernetes.io/uninitialized',
  TAINT_UNREGISTERED.key,
];
/** Any taint under this prefix is a readiness gate that its owner clears. */
export const EPHEMERAL_TAINT_PREFIX = 'readiness.k8s.io/';

export const FINALIZER_TERMINATION = 'karpenter.sh/termination';

// ---- Capacity types ------------------------------------------------------------

export const CAPACITY_TYPE_ON_DEMAND = 'on-demand';
export const CAPACITY_TYPE_SPOT = 'spot';
export const CAPACITY_TYPE_RESERVED = 'reserved';
/** The seed's value for Scaleway GPU capacity; read as on-demand. */
export const CAPACITY_TYPE_SEED_ALIAS = 'scaleway-gpu';
export const CAPACITY_TYPES = [CAPACITY_TYPE_ON_DEMAND, CAPACITY_TYPE_SPOT, CAPACITY_TYPE_RESERVED] as const;
export type CapacityType = (typeof CAPACITY_TYPES)[number];

/** The capacity type a label value means, or undefined when it is none we know. */
export function canonicalCapacityType(value: string): CapacityType | undefined {
  if (value === CAPACITY_TYPE_SEED_ALIAS) return CAPACITY_TYPE_ON_DEMAND;
  return (CAPACITY_TYPES as readonly string[]).includes(value) ? (value as CapacityType) : undefined;
}

// ---- Conditions ----------------------------------------------------------------

export const CONDITION = {
  Launched: 'Launched',
  Registered: 'Registered',
  Initialized: 'Initialized',
  Ready: 'Ready',
  Drifted: 'Drifted',
  Consolidatable: 'Consolidatable',
  Terminating: 'Terminating',
  // Our own: True while a rollback or termination waits on a server or volume Scaleway has not let go of yet.
  InstanceTerminating: 'InstanceTerminating',
  // NodePool
  ValidationSucceeded: 'ValidationSucceeded',
  NodeClassReady: 'NodeClassReady',
  NodeRegistrationHealthy: 'NodeRegistrationHealthy',
  // Our own (upstream only has the NoCompatibleInstanceTypes Event): False, with the cause, while the NodePool has nothing it could launch.
  InstanceTypesAvailable: 'InstanceTypesAvailable',
} as const;
export type ConditionType = (typeof CONDITION)[keyof typeof CONDITION];

/** Ready of a NodeClaim summarizes these, in lifecycle order. */
export const NODECLAIM_READY_DEPENDENTS = [CONDITION.Launched, CONDITION.Registered, CONDITION.Initialized] as const;
/** Ready of a NodePool summarizes these. */
export const NODEPOOL_READY_DEPENDENTS = [CONDITION.ValidationSucceeded, CONDITION.NodeClassReady] as const;

/** Condition reasons (CamelCase, as the CRDs require). Upstream's where one exists. */
export const REASON = {
  // Set on dependents nobody has reconciled yet (upstream's default).
  AwaitingReconciliation: 'AwaitingReconciliation',
  // Ready summary, as upstream computes it.
  Ready: 'Ready',
  ReconcilingDependents: 'ReconcilingDependents',
  UnhealthyDependents: 'UnhealthyDependents',
  // Launched
  Launched: 'Launched',
  Launching: 'Launching',
  LaunchFailed: 'LaunchFailed',
  LaunchTimeout: 'LaunchTimeout',
  InsufficientCapacity: 'InsufficientCapacity',
  NodeClassNotReady: 'NodeClassNotReady',
  NodeClassNotFound: 'NodeClassNotFound',
  // Registered
  Registered: 'Registered',
  NodeNotFound: 'NodeNotFound',
  RegistrationTimeout: 'RegistrationTimeout',
  // Initialized
  Initialized: 'Initialized',
  NodeNotReady: 'NodeNotReady',
  StartupTaintsExist: 'StartupTaintsExist',
  KnownEphemeralTaintsExist: 'KnownEphemeralTaintsExist',
  ResourceNotRegistered: 'ResourceNotRegistered',
  InitializationTimeout: 'InitializationTimeout',
  // InstanceTerminating
  WaitingOnServer: 'WaitingOnServer',
  WaitingOnVolume: 'WaitingOnVolume',
  // NodePool ValidationSucceeded and NodeClassReady (NodeClassNotReady, NodeClassNotFound above)
  ValidationSucceeded: 'ValidationSucceeded',
  NodeClassReady: 'NodeClassReady',
  // ScalewayNodeClass Ready: its spec fails the schema (kube/api/schemas.ts) though the apiserver took it
  InvalidSpec: 'InvalidSpec',
  // NodePool InstanceTypesAvailable: which step left no offering (watcher/provisioner/offering-funnel.ts)
  InstanceTypesAvailable: 'InstanceTypesAvailable',
  ZonesExcluded: 'ZonesExcluded',
  NoCompatibleInstanceTypes: 'NoCompatibleInstanceTypes',
  InstanceTypesUnavailable: 'InstanceTypesUnavailable',
  RegistrationBackoff: 'RegistrationBackoff',
  // NodePool and ScalewayNodeClass NodeRegistrationHealthy (upstream's reasons where it has one)
  RegistrationFailed: 'RegistrationFailed',
  RegistrationStopped: 'RegistrationStopped',
  NodeRegistered: 'NodeRegistered',
  NoRegistrationYet: 'NoRegistrationYet',
  // Drifted
  NodePoolDrifted: 'NodePoolDrifted',
  RequirementsDrifted: 'RequirementsDrifted',
  NodeClassDrifted: 'NodeClassDrifted',
  ImageDrifted: 'ImageDrifted',
  // Consolidatable
  Consolidatable: 'Consolidatable',
  // ScalewayNodeClass Ready
  ImageNotFound: 'ImageNotFound',
  ImageResolutionFailed: 'ImageResolutionFailed',
  SecurityGroupNotFound: 'SecurityGroupNotFound',
  PlacementGroupNotFound: 'PlacementGroupNotFound',
  PrivateNetworkNotFound: 'PrivateNetworkNotFound',
  BootstrapNotReady: 'BootstrapNotReady',
  SecretNotFound: 'SecretNotFound',
  PermissionDenied: 'PermissionDenied',
} as const;
export type ConditionReason = (typeof REASON)[keyof typeof REASON];

// ---- Resources -----------------------------------------------------------------

export const RESOURCE_NVIDIA_GPU = 'nvidia.com/gpu';

// ---- ScalewayNodeClass defaults (mirrored by the CRD's defaults) -----------------

export const NODECLASS_DEFAULTS = {
  publicIP: 'ipv4',
  kubeadmTokenTTL: '30m',
  k3sTokenKey: 'token',
  kosmosCredentialsKey: 'SCW_SECRET_KEY',
  customTemplateKey: 'template',
  // Upstream core's launch timeout.
  launchTimeout: '5m',
  // Upstream core's registration timeout; long enough for most GPU boots.
  registrationTimeout: '15m',
  // The GPU Operator and device plugin must come up before nvidia.com/gpu is allocatable.
  initializationTimeout: '20m',
} as const;

/** Default NodeClaim/NodePool template expireAfter (upstream's). */
export const DEFAULT_EXPIRE_AFTER = '720h';
