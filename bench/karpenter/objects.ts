// The objects of the side-by-side benchmark: one NodePool per provisioner, the same
// pool in every respect but its NodeClass (examples/nodepool-gpu.yaml, with room for
// every burst and nothing consolidated while a burst launches), and the one-GPU pods,
// each selecting its provisioner's pool.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR, LABEL_NODEPOOL } from '../../kube/api/constants.ts';

export type Side = 'karpenter' | 'ours';
export const POOL: Record<Side, string> = { karpenter: 'karpenter-kwok', ours: 'scw-karpenter' };
export const ZONES = ['fr-par-1', 'fr-par-2'] as const;
export const BENCH_LABEL = 'bench';
export const BENCH_VALUE = 'karpenter-side-by-side';

export const scalewayNodeClass = {
  apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion,
  kind: SCALEWAY_NODECLASS_GVR.kind,
  metadata: { name: 'gpu' },
  spec: { bootstrap: { mode: 'kubeadm' }, zones: [...ZONES] },
};

/** Its CRD defaults status to Ready, so Karpenter's NodePool readiness sees it Ready at once. */
export const kwokNodeClass = {
  apiVersion: 'karpenter.kwok.sh/v1alpha1',
  kind: 'KWOKNodeClass',
  metadata: { name: 'default' },
  spec: {},
};

export function nodePool(side: Side): Record<string, unknown> {
  const pool = parseYaml(readFileSync(new URL('../../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: {
      template: { spec: { nodeClassRef: Record<string, string>; requirements: { key: string; operator: string; values: string[] }[] } };
      limits: Record<string, string>;
      disruption: Record<string, string>;
    };
  };
  pool.metadata.name = POOL[side];
  pool.spec.limits = { 'nvidia.com/gpu': '5000' };
  pool.spec.disruption.consolidateAfter = '1h';
  if (side === 'karpenter') {
    pool.spec.template.spec.nodeClassRef = { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' };
    // Our NodeClass narrows the zones; KWOK's instance-type file holds only these zones' offerings,
    // and the requirement says so to Karpenter's scheduler too.
    pool.spec.template.spec.requirements.push({ key: 'topology.kubernetes.io/zone', operator: 'In', values: [...ZONES] });
  }
  return { ...pool, apiVersion: NODEPOOL_GVR.apiVersion, kind: NODEPOOL_GVR.kind };
}

export const gpuPod = (name: string, side: Side): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { [BENCH_LABEL]: BENCH_VALUE, side } },
  spec: {
    nodeSelector: { [LABEL_NODEPOOL]: POOL[side] },
    tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }],
    containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: { cpu: '100m', memory: '256Mi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }],
  },
});
