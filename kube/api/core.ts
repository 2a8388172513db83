// The part of core/v1 Node and Pod that the provisioner reads, validated the
// same way as our CRDs. client-node's typed clients already return V1Node and
// V1Pod; parse them here to get plain, narrowed values (timestamps as strings,
// quantities as strings) and a clear error when something we rely on is missing.
import { z } from 'zod';
import { ObjectMetaSchema, NodeSelectorRequirementSchema, ResourceListSchema, TaintSchema, TimestampSchema, parseObject } from './schemas.ts';

// ---- Node ----------------------------------------------------------------------

export const NodeConditionSchema = z.object({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastHeartbeatTime: TimestampSchema.optional(),
  lastTransitionTime: TimestampSchema.optional(),
});

export const NodeSchema = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Node').optional(),
  metadata: ObjectMetaSchema,
  spec: z
    .object({
      providerID: z.string().optional(),
      taints: z.array(TaintSchema).default([]),
      unschedulable: z.boolean().optional(),
    })
    .prefault({}),
  status: z
    .object({
      conditions: z.array(NodeConditionSchema).default([]),
      capacity: ResourceListSchema.default({}),
      allocatable: ResourceListSchema.default({}),
      addresses: z.array(z.object({ type: z.string(), address: z.string() })).default([]),
      nodeInfo: z.looseObject({ kubeletVersion: z.string().optional(), architecture: z.string().optional(), osImage: z.string().optional() }).optional(),
    })
    .prefault({}),
});
export type Node = z.output<typeof NodeSchema>;

export function parseNode(obj: unknown): Node {
  return parseObject('Node', NodeSchema, obj);
}

/** The Node's Ready condition is True (the kubelet reports healthy). */
export function isNodeReady(node: Pick<Node, 'status'>): boolean {
  return node.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

// ---- Pod -----------------------------------------------------------------------

const NodeSelectorTermSchema = z.object({
  matchExpressions: z.array(NodeSelectorRequirementSchema.extend({ operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']) })).optional(),
  matchFields: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
});

export const TolerationSchema = z.object({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});
export type Toleration = z.output<typeof TolerationSchema>;

// Loose: the planner reads fields we do not model (ports for hostPort checks).
const ContainerSchema = z.looseObject({
  name: z.string(),
  resources: z
    .object({
      requests: ResourceListSchema.default({}),
      limits: ResourceListSchema.default({}),
    })
    .prefault({}),
});

export const PodSchema = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Pod').optional(),
  metadata: ObjectMetaSchema,
  // Loose: the planner reads topologySpreadConstraints and volumes, which we do not model field by field.
  spec: z.looseObject({
    nodeName: z.string().optional(),
    nodeSelector: z.record(z.string(), z.string()).optional(),
    affinity: z
      .looseObject({
        nodeAffinity: z
          .object({
            requiredDuringSchedulingIgnoredDuringExecution: z.object({ nodeSelectorTerms: z.array(NodeSelectorTermSchema) }).optional(),
            preferredDuringSchedulingIgnoredDuringExecution: z.array(z.object({ weight: z.number().int(), preference: NodeSelectorTermSchema })).optional(),
          })
          .optional(),
      })
      .optional(),
    tolerations: z.array(TolerationSchema).default([]),
    containers: z.array(ContainerSchema).min(1),
    initContainers: z.array(ContainerSchema.extend({ restartPolicy: z.string().optional() })).default([]),
    overhead: ResourceListSchema.optional(),
    priority: z.number().int().optional(),
    priorityClassName: z.string().optional(),
    schedulerName: z.string().optional(),
  }),
  status: z
    .object({
      phase: z.string().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() })).default([]),
    })
    .prefault({}),
});
export type Pod = z.output<typeof PodSchema>;

export function parsePod(obj: unknown): Pod {
  return parseObject('Pod', PodSchema, obj);
}

/** A pod the scheduler gave up on for now (PodScheduled=False, reason Unschedulable). */
export function isPodUnschedulable(pod: Pick<Pod, 'status'>): boolean {
  return pod.status.conditions.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
}

/** Whether `toleration` tolerates `taint` (core/v1 semantics: empty key with Exists matches every key). */
export function toleratesTaint(toleration: Toleration, taint: { key: string; value?: string | undefined; effect: string }): boolean {
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  if (toleration.key === undefined || toleration.key === '') return toleration.operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  return toleration.operator === 'Exists' || (toleration.value ?? '') === (taint.value ?? '');
}

/** The taints (NoSchedule/NoExecute) none of `tolerations` tolerates; PreferNoSchedule never blocks. */
export function untoleratedTaints<T extends { key: string; value?: string | undefined; effect: string }>(tolerations: readonly Toleration[], taints: readonly T[]): T[] {
  return taints.filter((t) => t.effect !== 'PreferNoSchedule' && !tolerations.some((tol) => toleratesTaint(tol, t)));
}
