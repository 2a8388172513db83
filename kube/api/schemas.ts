// zod schemas for the objects we read from the API server, applied once where
// they enter (watch events, list results, test fixtures) so the rest of the code
// works with typed values. They check shape and types and fill the defaults the
// CRDs would; policy the API server already enforced (restricted label domains)
// is not repeated, so objects accepted by a newer upstream CRD still parse.
// Unknown fields are dropped, except in metadata: patch, don't PUT, a parsed object.
import { z } from 'zod';
import { CONDITION, DEFAULT_EXPIRE_AFTER, NODECLAIM_GVR, NODEPOOL_GVR, NODECLASS_DEFAULTS, SCALEWAY_NODECLASS_GVR, TAG_PREFIX, type GroupVersionResource } from './constants.ts';
import { OPERATORS } from './requirements.ts';
import { parseDuration } from './duration.ts';

// ---- Building blocks -----------------------------------------------------------

/** RFC 3339 time; client-node's typed APIs hand out Date objects, raw JSON strings. */
export const TimestampSchema = z.union([z.string().min(1), z.date()]).transform((v) => (typeof v === 'string' ? v : v.toISOString()));

/** A resource quantity ("100Gi", "500m", 4); numbers become strings. */
export const QuantitySchema = z
  .union([z.string().regex(/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))?$/, 'not a quantity'), z.number()])
  .transform((v) => String(v));
export const ResourceListSchema = z.record(z.string(), QuantitySchema);

const DURATION = /^([0-9]+(s|m|h))+$/;
const DURATION_OR_NEVER = /^(([0-9]+(s|m|h))+|Never)$/;
const durationSchema = z.string().regex(DURATION, 'expected a duration such as 90s, 15m or 1h30m');
const durationOrNeverSchema = z.string().regex(DURATION_OR_NEVER, 'expected a duration such as 15m or 720h, or Never');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuidSchema = z.string().regex(UUID, 'expected a lower-case UUID');

export const ObjectMetaSchema = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: TimestampSchema.optional(),
  deletionTimestamp: TimestampSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z
    .array(z.looseObject({ apiVersion: z.string(), kind: z.string(), name: z.string(), uid: z.string(), controller: z.boolean().optional() }))
    .optional(),
});
export type ObjectMeta = z.output<typeof ObjectMetaSchema>;

export const ConditionSchema = z.object({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: TimestampSchema,
  observedGeneration: z.number().int().optional(),
});

export const TaintSchema = z.object({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  timeAdded: TimestampSchema.optional(),
});
export type Taint = z.output<typeof TaintSchema>;

export const NodeSelectorRequirementSchema = z.object({
  key: z.string().min(1),
  operator: z.enum(OPERATORS),
  values: z.array(z.string()).optional(),
  minValues: z.number().int().min(1).optional(),
});

export const NodeClassReferenceSchema = z.object({
  group: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
});
export type NodeClassReference = z.output<typeof NodeClassReferenceSchema>;

/** apiVersion and kind may be absent (some list results), but when present must be ours. */
function typeMeta(gvr: GroupVersionResource) {
  return {
    apiVersion: z.literal(gvr.apiVersion).optional(),
    kind: z.literal(gvr.kind).optional(),
  };
}

// ---- NodeClaim (karpenter.sh/v1) ------------------------------------------------

const nodeClaimTemplateSpecShape = {
  nodeClassRef: NodeClassReferenceSchema,
  requirements: z.array(NodeSelectorRequirementSchema),
  taints: z.array(TaintSchema).default([]),
  startupTaints: z.array(TaintSchema).default([]),
  expireAfter: durationOrNeverSchema.default(DEFAULT_EXPIRE_AFTER),
  terminationGracePeriod: durationSchema.optional(),
};

export const NodeClaimSpecSchema = z.object({
  ...nodeClaimTemplateSpecShape,
  resources: z.object({ requests: ResourceListSchema.default({}) }).prefault({}),
});

export const NodeClaimStatusSchema = z.object({
  providerID: z.string().optional(),
  nodeName: z.string().optional(),
  imageID: z.string().optional(),
  capacity: ResourceListSchema.optional(),
  allocatable: ResourceListSchema.optional(),
  conditions: z.array(ConditionSchema).default([]),
  lastPodEventTime: TimestampSchema.optional(),
});

export const NodeClaimSchema = z.object({
  ...typeMeta(NODECLAIM_GVR),
  metadata: ObjectMetaSchema,
  spec: NodeClaimSpecSchema,
  status: NodeClaimStatusSchema.prefault({}),
});
export type NodeClaim = z.output<typeof NodeClaimSchema>;
export type NodeClaimSpec = NodeClaim['spec'];
export type NodeClaimStatus = NodeClaim['status'];

// ---- NodePool (karpenter.sh/v1) -------------------------------------------------

export const BudgetSchema = z.object({
  nodes: z.string().regex(/^((100|[0-9]{1,2})%|[0-9]+)$/, 'expected a node count or a percentage').default('10%'),
  schedule: z.string().optional(),
  duration: z.string().regex(/^((([0-9]+(h|m))|([0-9]+h[0-9]+m))(0s)?)$/, 'expected minutes or hours, e.g. 30m or 1h30m').optional(),
  reasons: z.array(z.enum(['Underutilized', 'Empty', 'Drifted'])).optional(),
});

export const DisruptionSchema = z.object({
  consolidateAfter: durationOrNeverSchema.default('0s'),
  consolidationPolicy: z.enum(['WhenEmpty', 'WhenEmptyOrUnderutilized']).default('WhenEmptyOrUnderutilized'),
  consolidateWhen: z.enum(['WhenEmpty', 'WhenEmptyOrUnderutilized', 'WhenCostJustifiesDisruption']).default('WhenEmptyOrUnderutilized'),
  decisionRatioThreshold: z.number().positive().default(1),
  budgets: z.array(BudgetSchema).default([{ nodes: '10%' }]),
});

export const NodePoolSpecSchema = z.object({
  template: z.object({
    metadata: z
      .object({
        labels: z.record(z.string(), z.string()).default({}),
        annotations: z.record(z.string(), z.string()).default({}),
      })
      .prefault({}),
    spec: z.object(nodeClaimTemplateSpecShape),
  }),
  disruption: DisruptionSchema.prefault({}),
  limits: ResourceListSchema.optional(),
  weight: z.number().int().min(1).max(100).optional(),
  replicas: z.number().int().min(0).optional(),
});

export const NodePoolStatusSchema = z.object({
  resources: ResourceListSchema.optional(),
  nodes: z.number().int().optional(),
  nodeClassObservedGeneration: z.number().int().optional(),
  conditions: z.array(ConditionSchema).default([]),
});

export const NodePoolSchema = z.object({
  ...typeMeta(NODEPOOL_GVR),
  metadata: ObjectMetaSchema,
  spec: NodePoolSpecSchema,
  status: NodePoolStatusSchema.prefault({}),
});
export type NodePool = z.output<typeof NodePoolSchema>;
export type NodePoolSpec = NodePool['spec'];
export type Disruption = NodePoolSpec['disruption'];

// ---- ScalewayNodeClass (karpenter.scaleway.com/v1alpha1) ------------------------

const secretKeyRef = (defaultKey: string) =>
  z.object({
    name: z.string().min(1),
    namespace: z.string().min(1),
    key: z.string().min(1).default(defaultKey),
  });
export type SecretKeyRef = z.output<ReturnType<typeof secretKeyRef>>;

export const BOOTSTRAP_MODES = ['kubeadm', 'k3s', 'kosmos', 'custom'] as const;
export type BootstrapMode = (typeof BOOTSTRAP_MODES)[number];

export const BootstrapSchema = z
  .object({
    mode: z.enum(BOOTSTRAP_MODES),
    kubeadm: z
      .object({
        apiServerEndpoint: z
          .string()
          .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):[0-9]{1,5}$/, 'expected host:port')
          .optional(),
        caCertHashes: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>')).optional(),
        tokenTTL: durationSchema.default(NODECLASS_DEFAULTS.kubeadmTokenTTL),
        kubernetesVersion: z
          .string()
          .regex(/^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$/, 'expected a version such as v1.35.1')
          .optional(),
      })
      .optional(),
    k3s: z
      .object({
        serverURL: z.string().regex(/^https:\/\/[^\s/]+(\/.*)?$/, 'expected an https:// URL'),
        tokenSecretRef: secretKeyRef(NODECLASS_DEFAULTS.k3sTokenKey),
      })
      .optional(),
    kosmos: z
      .object({
        poolID: uuidSchema,
        region: z.string().regex(/^[a-z]{2}-[a-z]{3}$/, 'expected a region such as fr-par'),
        agentURL: z.string().regex(/^https:\/\/\S+$/, 'expected an https:// URL').optional(),
        credentialsSecretRef: secretKeyRef(NODECLASS_DEFAULTS.kosmosCredentialsKey).optional(),
      })
      .optional(),
    custom: z
      .object({
        template: z.string().min(1).optional(),
        templateSecretRef: secretKeyRef(NODECLASS_DEFAULTS.customTemplateKey).optional(),
      })
      .superRefine((custom, ctx) => {
        if ((custom.template === undefined) === (custom.templateSecretRef === undefined)) {
          ctx.addIssue({ code: 'custom', message: 'bootstrap.custom needs exactly one of template or templateSecretRef' });
        }
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    // Same messages as the CRD's CEL rules.
    for (const mode of BOOTSTRAP_MODES) {
      if (mode !== 'kubeadm' && b.mode === mode && b[mode] === undefined) {
        ctx.addIssue({ code: 'custom', path: [mode], message: `bootstrap.${mode} is required when bootstrap.mode is ${mode}` });
      }
      if (b.mode !== mode && b[mode] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [mode], message: `bootstrap.${mode} is only allowed when bootstrap.mode is ${mode}` });
      }
    }
  });
export type Bootstrap = z.output<typeof BootstrapSchema>;

/** Refusals shared with the CRD's CEL rules (deploy/crds), so both say the same. */
export const PRIVATE_NETWORKS_MESSAGE = 'privateNetworks is not supported yet: servers get no Private Network attached; leave it empty';
export const PUBLIC_IP_NONE_MESSAGE = 'publicIP none is not supported yet: it needs privateNetworks to reach the API server, which are not supported yet';
export const RESERVED_TAG_MESSAGE = `tags may not start with ${TAG_PREFIX}: that prefix is reserved for the tags scw-karpenter sets to find its own servers`;
/** The bootstrap token is minted before the server boots and must still be valid when the kubelet joins. */
export const tokenTTLMessage = (tokenTTL: string, registration: string): string =>
  `bootstrap.kubeadm.tokenTTL ${tokenTTL} is shorter than timeouts.registration ${registration}: the bootstrap token must outlive the join`;

const RESERVED_QUANTITY = /^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?$/;
const reservedSchema = z.partialRecord(z.enum(['cpu', 'memory', 'ephemeral-storage', 'pid']), z.string().regex(RESERVED_QUANTITY, 'expected a non-negative quantity')).optional();

export const ScalewayNodeClassSpecSchema = z
  .object({
    image: z
      .string()
      .max(100)
      .regex(/^([a-z0-9][a-z0-9_.-]*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, 'expected a marketplace label or an image UUID')
      .optional(),
    rootVolume: z
      .object({
        size: z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'expected a size such as 100Gi or 120G').optional(),
        type: z.enum(['sbs_5k', 'sbs_15k', 'l_ssd']).optional(),
      })
      .optional(),
    securityGroupID: uuidSchema.optional(),
    placementGroupID: uuidSchema.optional(),
    privateNetworks: z.array(uuidSchema).max(8).default([]),
    publicIP: z.enum(['ipv4', 'ipv6', 'both', 'none']).default(NODECLASS_DEFAULTS.publicIP),
    // Our own tags (managed, cluster, nodeclaim-uid) are how servers are found and released: a user tag in that namespace could make a lookup match a stranger's server.
    tags: z
      .array(z.string().min(1).max(128).refine((t) => !t.startsWith(TAG_PREFIX), { message: RESERVED_TAG_MESSAGE }))
      .max(32)
      .default([]),
    projectID: uuidSchema.optional(),
    zones: z
      .array(z.string().regex(/^[a-z]{2}-[a-z]{3}-[0-9]+$/, 'expected a zone such as fr-par-2'))
      .min(1)
      .max(16)
      .optional(),
    bootstrap: BootstrapSchema,
    userData: z.string().max(65536).optional(),
    kubelet: z
      .object({
        maxPods: z.number().int().min(1).max(1024).optional(),
        kubeReserved: reservedSchema,
        systemReserved: reservedSchema,
        evictionHard: z
          .partialRecord(
            z.enum(['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available']),
            z.string().regex(/^((\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)%|(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE])?)$/, 'expected a quantity or a percentage'),
          )
          .optional(),
      })
      .optional(),
    timeouts: z
      .object({
        launch: durationSchema.default(NODECLASS_DEFAULTS.launchTimeout),
        registration: durationSchema.default(NODECLASS_DEFAULTS.registrationTimeout),
        initialization: durationSchema.default(NODECLASS_DEFAULTS.initializationTimeout),
      })
      .prefault({}),
  })
  .superRefine((spec, ctx) => {
    // Same messages as the CRD's CEL rules. Refused rather than accepted and ignored: nothing attaches a Private Network yet.
    if (spec.privateNetworks.length > 0) ctx.addIssue({ code: 'custom', path: ['privateNetworks'], message: PRIVATE_NETWORKS_MESSAGE });
    if (spec.publicIP === 'none') ctx.addIssue({ code: 'custom', path: ['publicIP'], message: PUBLIC_IP_NONE_MESSAGE });
    // A kubeadm block left out still mints tokens, with the default TTL.
    const tokenTTL = spec.bootstrap.kubeadm?.tokenTTL ?? NODECLASS_DEFAULTS.kubeadmTokenTTL;
    if (spec.bootstrap.mode === 'kubeadm' && parseDuration(tokenTTL) < parseDuration(spec.timeouts.registration)) {
      ctx.addIssue({ code: 'custom', path: ['bootstrap', 'kubeadm', 'tokenTTL'], message: tokenTTLMessage(tokenTTL, spec.timeouts.registration) });
    }
  });

export const ResolvedImageSchema = z.object({
  zone: z.string().min(1),
  commercialType: z.string().optional(),
  imageID: z.string().min(1),
  label: z.string().optional(),
});
export type ResolvedImage = z.output<typeof ResolvedImageSchema>;

export const ScalewayNodeClassStatusSchema = z.object({
  conditions: z.array(ConditionSchema).default([]),
  images: z.array(ResolvedImageSchema).default([]),
  observedGeneration: z.number().int().optional(),
});

export const ScalewayNodeClassSchema = z.object({
  ...typeMeta(SCALEWAY_NODECLASS_GVR),
  metadata: ObjectMetaSchema,
  spec: ScalewayNodeClassSpecSchema,
  status: ScalewayNodeClassStatusSchema.prefault({}),
});
export type ScalewayNodeClass = z.output<typeof ScalewayNodeClassSchema>;
export type ScalewayNodeClassSpec = ScalewayNodeClass['spec'];
export type ScalewayNodeClassStatus = ScalewayNodeClass['status'];

// ---- Parsing -------------------------------------------------------------------

export interface ValidationIssue {
  /** Field path in the object, e.g. `spec.requirements[0].operator`. */
  readonly path: string;
  readonly message: string;
}

/** An object from the API server (or a fixture) that does not have the shape we need. */
export class InvalidObjectError extends Error {
  override readonly name = 'InvalidObjectError';
  constructor(
    readonly kind: string,
    readonly objectName: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(`invalid ${kind} "${objectName}": ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const name = String(part);
      // Label keys and the like contain dots and slashes: bracket them.
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? (out ? `.${name}` : name) : `[${JSON.stringify(name)}]`;
    }
  }
  return out;
}

function objectName(obj: unknown): string {
  if (typeof obj === 'object' && obj !== null && 'metadata' in obj) {
    const meta = (obj as { metadata?: unknown }).metadata;
    if (typeof meta === 'object' && meta !== null && 'name' in meta) {
      const name = (meta as { name?: unknown }).name;
      if (typeof name === 'string' && name !== '') return name;
    }
  }
  return '<unnamed>';
}

/** Validates `obj` with `schema`, or throws an InvalidObjectError naming the object and each bad field. */
export function parseObject<S extends z.ZodType>(kind: string, schema: S, obj: unknown): z.output<S> {
  const result = schema.safeParse(obj);
  if (result.success) return result.data;
  throw new InvalidObjectError(
    kind,
    objectName(obj),
    result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
  );
}

export function parseNodeClaim(obj: unknown): NodeClaim {
  return parseObject(NODECLAIM_GVR.kind, NodeClaimSchema, obj);
}

export function parseNodePool(obj: unknown): NodePool {
  return parseObject(NODEPOOL_GVR.kind, NodePoolSchema, obj);
}

export function parseScalewayNodeClass(obj: unknown): ScalewayNodeClass {
  return parseObject(SCALEWAY_NODECLASS_GVR.kind, ScalewayNodeClassSchema, obj);
}

/** Whether the pool's nodeClassRef points at a ScalewayNodeClass (others are not ours to serve). */
export function isScalewayNodeClassRef(ref: NodeClassReference): boolean {
  return ref.group === SCALEWAY_NODECLASS_GVR.group && ref.kind === SCALEWAY_NODECLASS_GVR.kind;
}

/** The NodeClaim's Ready condition is True. */
export function isNodeClaimReady(nodeClaim: Pick<NodeClaim, 'status'>): boolean {
  return nodeClaim.status.conditions.some((c) => c.type === CONDITION.Ready && c.status === 'True');
}
