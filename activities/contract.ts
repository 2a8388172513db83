// The typed inputs and outputs of every activity: what crosses the workflow
// boundary and is written to Temporal's history. Plain data only, and never a
// secret: bootstrap tokens and API keys stay inside the activities that use them.

/** Identifies a NodeClaim across renames of nothing: a NodeClaim's name is fixed, its UID is unique. */
export interface NodeClaimRef {
  name: string;
  uid: string;
}

export type BootstrapMode = 'kubeadm' | 'k3s' | 'kosmos' | 'custom';

export type NodeClassResolution =
  | {
      ready: true;
      nodeClassName: string;
      bootstrapMode: BootstrapMode;
      /** Whether the server's user data holds a secret that outlives its join (k3s token, custom template, extra user data). */
      userDataOutlivesJoin: boolean;
      /**
       * How long the NodeClaim may take to get a server (NodeClass `timeouts.launch`). Optional: histories
       * recorded before it existed replay without it, and the workflow then uses the default.
       */
      launchTimeoutSeconds?: number;
      /** How long a launched server may take to become a Node. */
      registrationTimeoutSeconds: number;
      /** How long a registered Node may take to become initialized (GPU device plugin up). */
      initializationTimeoutSeconds: number;
    }
  | { ready: false; nodeClassName: string; reason: string; message: string };

/** One (zone, commercial type) the NodeClaim can run on, priced. */
export interface Offering {
  zone: string;
  commercialType: string;
  hourlyPriceEur: number;
  gpuCount: number;
}

export type OfferingChoice =
  | { ok: true; offerings: Offering[] }
  | { ok: false; reason: string; message: string };

/** A server we created for a NodeClaim. */
export interface ServerRef {
  zone: string;
  serverId: string;
  commercialType: string;
  /** The SBS root volume, which outlives the server and must be deleted on its own. */
  rootVolumeId: string | undefined;
}

export type CreateServerResult =
  | { ok: true; server: ServerRef; reused: boolean }
  /** A capacity failure: another offering may work. */
  | { ok: false; reason: 'OutOfStock' | 'QuotaExceeded'; message: string };

export interface ServerRunning {
  state: string;
  detail: string;
}

export interface LaunchResult {
  providerID: string;
}

export type RegistrationCheck = { registered: true; nodeName: string } | { registered: false };

export type InitializationCheck = { initialized: true } | { initialized: false; waitingFor: string };

export interface FailureRecord {
  ref: NodeClaimRef;
  /** The condition that failed, e.g. Launched. */
  conditionType: 'Launched' | 'Registered' | 'Initialized';
  /** False for a verdict (the default); Unknown while the step is still being retried. */
  status?: 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface RollbackInput extends FailureRecord {
  server: ServerRef | undefined;
  /** Delete the NodeClaim so the provisioner can plan again (Karpenter does this on launch failures). */
  deleteNodeClaim: boolean;
}

export interface DrainResult {
  /** Pods still on the node when the grace period ran out (they were deleted). */
  forced: number;
  evicted: number;
}

/** The provisioning workflow's progress, for its `status` query and the CLI. */
export interface ProvisioningStatus {
  step: string;
  offering: Offering | undefined;
  server: ServerRef | undefined;
  providerID: string | undefined;
  nodeName: string | undefined;
  attempts: { zone: string; commercialType: string; outcome: string }[];
}
