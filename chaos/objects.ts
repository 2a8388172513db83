// The Kubernetes objects a chaos run applies: one NodeClass over two zones with
// short timeouts (so a node that never joins is given up within the run), one
// GPU NodePool that consolidates quickly, GPU pods that each need a node of
// their own, and NodeClaims made directly.
import { NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../kube/api/constants.ts';

export const NODECLASS = 'chaos';
export const NODEPOOL = 'chaos';
export const POD_LABEL = { 'scw-karpenter.chaos/pod': 'true' } as const;
export const ZONES = ['fr-par-1', 'fr-par-2'] as const;
const GPU_NAMES = ['l4', 'l40s'];

export interface Timeouts {
  launch: string;
  registration: string;
  initialization: string;
}

export function nodeClass(timeouts: Timeouts): Record<string, unknown> {
  return {
    apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion,
    kind: SCALEWAY_NODECLASS_GVR.kind,
    metadata: { name: NODECLASS },
    spec: { bootstrap: { mode: 'kubeadm' }, zones: [...ZONES], timeouts },
  };
}

export function nodePool(): Record<string, unknown> {
  return {
    apiVersion: NODEPOOL_GVR.apiVersion,
    kind: NODEPOOL_GVR.kind,
    metadata: { name: NODEPOOL },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: SCALEWAY_NODECLASS_GVR.group, kind: SCALEWAY_NODECLASS_GVR.kind, name: NODECLASS },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: GPU_NAMES },
          ],
          taints: [{ key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' }],
          expireAfter: '720h',
        },
      },
      // Far above what a run asks: the limit is not what is under test here.
      limits: { 'nvidia.com/gpu': '100000' },
      disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter: '5s' },
    },
  };
}

/** A one-GPU pod that shares a node with no other chaos pod, so that each pod is one provisioning. */
export function gpuPod(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { ...POD_LABEL } },
    spec: {
      tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...POD_LABEL } } }],
        },
      },
      containers: [{
        name: 'train',
        image: 'registry.invalid/train:1',
        resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } },
      }],
      terminationGracePeriodSeconds: 0,
    },
  };
}

export function directNodeClaim(name: string): Record<string, unknown> {
  return {
    apiVersion: NODECLAIM_GVR.apiVersion,
    kind: NODECLAIM_GVR.kind,
    metadata: { name, labels: { 'karpenter.sh/nodepool': NODEPOOL } },
    spec: {
      nodeClassRef: { group: SCALEWAY_NODECLASS_GVR.group, kind: SCALEWAY_NODECLASS_GVR.kind, name: NODECLASS },
      requirements: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }],
      resources: { requests: { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' } },
    },
  };
}
