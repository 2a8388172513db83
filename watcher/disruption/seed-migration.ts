// The seed's karpenter.sh/v1alpha5 Provisioner as a karpenter.sh/v1 NodePool,
// following upstream's v1alpha5 → v1beta1 → v1 migration guides:
//
// | v1alpha5 Provisioner                         | v1 NodePool                                                      |
// |----------------------------------------------|------------------------------------------------------------------|
// | ttlSecondsAfterEmpty: N                      | disruption.consolidationPolicy WhenEmpty, consolidateAfter Ns    |
// | consolidation.enabled: true                  | consolidationPolicy WhenEmptyOrUnderutilized, consolidateAfter 0s |
// | neither                                      | consolidateAfter Never (v1alpha5 never removed such nodes)       |
// | ttlSecondsUntilExpired: N / absent           | template.spec.expireAfter Ns / Never (v1alpha5 had no default)   |
// | requirements                                 | template.spec.requirements, with the translations below          |
// | labels, annotations                          | template.metadata.labels, annotations                            |
// | taints, startupTaints                        | template.spec.taints, startupTaints                              |
// | limits.resources                             | limits                                                           |
// | providerRef {name}                           | template.spec.nodeClassRef {karpenter.scaleway.com, ScalewayNodeClass, name} |
// | weight                                       | weight                                                           |
// | kubeletConfiguration                         | dropped: it lives on the ScalewayNodeClass (spec.kubelet)        |
//
// Requirement translations: `karpenter.sh/instance-type` (the seed's GPU alias,
// a restricted key in v1) → `karpenter.scaleway.com/instance-gpu-name` with
// canonical GPU names (`h100` → `h100-pcie`); `karpenter.sh/capacity-type`
// values `scaleway-gpu` → `on-demand`; `karpenter.sh/provisioner-name` and any
// other key the v1 CRD rejects are dropped with a warning. Budgets keep v1's
// default (10% of nodes, rounded up: one node of a one-node pool).
import { z } from 'zod';
import { NODEPOOL_GVR, NODECLASS_REF, LABEL_INSTANCE_GPU_NAME, LABEL_SEED_INSTANCE_TYPE } from '../../kube/api/constants.ts';
import { QuantitySchema, TaintSchema, parseObject } from '../../kube/api/schemas.ts';
import { restrictedLabelError, type NodeSelectorRequirement } from '../../kube/api/requirements.ts';
import { canonicalLabelValue } from '../../scaleway/instance-types.ts';

const ProvisionerSchema = z.object({
  apiVersion: z.literal('karpenter.sh/v1alpha5'),
  kind: z.literal('Provisioner'),
  metadata: z.looseObject({ name: z.string().min(1) }),
  spec: z
    .looseObject({
      requirements: z.array(z.object({ key: z.string().min(1), operator: z.string().min(1), values: z.array(z.string()).optional() })).default([]),
      labels: z.record(z.string(), z.string()).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
      taints: z.array(TaintSchema).optional(),
      startupTaints: z.array(TaintSchema).optional(),
      limits: z.object({ resources: z.record(z.string(), QuantitySchema).optional() }).optional(),
      providerRef: z.looseObject({ name: z.string().min(1), kind: z.string().optional(), apiVersion: z.string().optional() }).optional(),
      provider: z.unknown().optional(),
      ttlSecondsAfterEmpty: z.number().int().min(0).optional(),
      ttlSecondsUntilExpired: z.number().int().min(0).optional(),
      consolidation: z.object({ enabled: z.boolean().optional() }).optional(),
      weight: z.number().int().min(1).max(100).optional(),
      kubeletConfiguration: z.unknown().optional(),
    })
    .prefault({}),
});
export type SeedProvisioner = z.output<typeof ProvisionerSchema>;

/** The NodePool as the API server takes it (plain JSON, ready to apply or write as YAML). */
export interface NodePoolManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        nodeClassRef: { group: string; kind: string; name: string };
        requirements: NodeSelectorRequirement[];
        taints?: z.output<typeof TaintSchema>[];
        startupTaints?: z.output<typeof TaintSchema>[];
        expireAfter: string;
      };
    };
    disruption: { consolidationPolicy: 'WhenEmpty' | 'WhenEmptyOrUnderutilized'; consolidateAfter: string; budgets: { nodes: string }[] };
    limits?: Record<string, string>;
    weight?: number;
  };
}

export interface SeedMigration {
  readonly nodePool: NodePoolManifest;
  /** What did not carry over, one sentence each. */
  readonly warnings: string[];
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);

/** Converts a parsed-or-raw v1alpha5 Provisioner; throws on one that is not. */
export function nodePoolFromSeedProvisioner(obj: unknown): SeedMigration {
  const provisioner = parseObject('Provisioner', ProvisionerSchema, obj);
  const spec = provisioner.spec;
  const name = provisioner.metadata.name;
  const warnings: string[] = [];

  const requirements: NodeSelectorRequirement[] = [];
  for (const r of spec.requirements) {
    if (!OPERATORS.has(r.operator)) {
      warnings.push(`requirement ${r.key}: operator ${r.operator} is not supported by v1, dropped`);
      continue;
    }
    // The seed's `karpenter.sh/instance-type: l4` is the GPU name in v1.
    const key = r.key === LABEL_SEED_INSTANCE_TYPE ? LABEL_INSTANCE_GPU_NAME : r.key;
    const values = r.values?.map((v) => canonicalLabelValue(key, v));
    const restricted = restrictedLabelError(key, 'NodePool');
    if (restricted) {
      warnings.push(`requirement ${r.key}: ${restricted} in v1, dropped`);
      continue;
    }
    const out: NodeSelectorRequirement = { key, operator: r.operator as NodeSelectorRequirement['operator'] };
    if (values !== undefined && r.operator !== 'Exists' && r.operator !== 'DoesNotExist') out.values = [...new Set(values)];
    requirements.push(out);
  }

  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.labels ?? {})) {
    const restricted = restrictedLabelError(k, 'NodePool');
    if (restricted) warnings.push(`label ${k}: ${restricted} in v1, dropped`);
    else labels[k] = v;
  }

  let consolidationPolicy: 'WhenEmpty' | 'WhenEmptyOrUnderutilized';
  let consolidateAfter: string;
  if (spec.consolidation?.enabled === true) {
    consolidationPolicy = 'WhenEmptyOrUnderutilized';
    consolidateAfter = '0s';
    if (spec.ttlSecondsAfterEmpty !== undefined) warnings.push('ttlSecondsAfterEmpty is ignored with consolidation.enabled (as in v1alpha5)');
  } else if (spec.ttlSecondsAfterEmpty !== undefined) {
    consolidationPolicy = 'WhenEmpty';
    consolidateAfter = `${spec.ttlSecondsAfterEmpty}s`;
  } else {
    consolidationPolicy = 'WhenEmpty';
    consolidateAfter = 'Never';
  }

  const ref = spec.providerRef;
  if (!ref) warnings.push('no providerRef: nodeClassRef points at ScalewayNodeClass "default"');
  else if (ref.kind !== undefined && ref.kind !== NODECLASS_REF.kind) warnings.push(`providerRef kind ${ref.kind} replaced by ${NODECLASS_REF.kind} "${ref.name}"`);
  if (spec.provider !== undefined) warnings.push('inline provider settings dropped: put them on the ScalewayNodeClass');
  if (spec.kubeletConfiguration !== undefined) warnings.push('kubeletConfiguration dropped: set ScalewayNodeClass spec.kubelet instead');

  const template: NodePoolManifest['spec']['template'] = {
    metadata: {},
    spec: {
      nodeClassRef: { group: NODECLASS_REF.group, kind: NODECLASS_REF.kind, name: ref?.name ?? 'default' },
      requirements,
      expireAfter: spec.ttlSecondsUntilExpired === undefined ? 'Never' : `${spec.ttlSecondsUntilExpired}s`,
    },
  };
  if (Object.keys(labels).length > 0) template.metadata.labels = labels;
  if (spec.annotations && Object.keys(spec.annotations).length > 0) template.metadata.annotations = { ...spec.annotations };
  if (spec.taints && spec.taints.length > 0) template.spec.taints = spec.taints;
  if (spec.startupTaints && spec.startupTaints.length > 0) template.spec.startupTaints = spec.startupTaints;

  const nodePool: NodePoolManifest = {
    apiVersion: NODEPOOL_GVR.apiVersion,
    kind: NODEPOOL_GVR.kind,
    metadata: { name },
    spec: { template, disruption: { consolidationPolicy, consolidateAfter, budgets: [{ nodes: '10%' }] } },
  };
  if (spec.limits?.resources && Object.keys(spec.limits.resources).length > 0) nodePool.spec.limits = spec.limits.resources;
  if (spec.weight !== undefined) nodePool.spec.weight = spec.weight;
  return { nodePool, warnings };
}
