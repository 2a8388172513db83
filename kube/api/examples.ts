// Complete example objects (every field set), for tests, the sandbox and docs.
// Each call returns a fresh copy that callers may modify.
import { NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from './constants.ts';

export function exampleScalewayNodeClass(name = 'gpu') {
  return {
    apiVersion: SCALEWAY_NODECLASS_GVR.apiVersion,
    kind: SCALEWAY_NODECLASS_GVR.kind,
    metadata: { name },
    spec: {
      image: 'ubuntu_noble_gpu_os_12',
      rootVolume: { size: '120G', type: 'sbs_5k' },
      securityGroupID: '3b5d8f0a-1c2e-4a6b-8d9f-0a1b2c3d4e5f',
      placementGroupID: '4c6e9a1b-2d3f-4b7c-9e0a-1b2c3d4e5f60',
      publicIP: 'ipv4',
      tags: ['team=ml', 'env=dev'],
      projectID: '6e8abc3d-4f5b-4d9e-a02c-3d4e5f607182',
      zones: ['fr-par-2', 'nl-ams-1'],
      bootstrap: {
        mode: 'kubeadm',
        kubeadm: {
          apiServerEndpoint: 'api.cluster.example.com:6443',
          caCertHashes: [`sha256:${'ab'.repeat(32)}`],
          tokenTTL: '30m',
          kubernetesVersion: 'v1.35.1',
        },
      },
      userData: '#cloud-config\npackages: [htop]\n',
      kubelet: {
        maxPods: 110,
        kubeReserved: { cpu: '200m', memory: '1Gi' },
        systemReserved: { cpu: '100m', memory: '512Mi' },
        evictionHard: { 'memory.available': '5%', 'nodefs.available': '10%' },
      },
      timeouts: { launch: '5m', registration: '15m', initialization: '25m' },
    },
  };
}

export function exampleNodePool(name = 'gpu', nodeClassName = 'gpu') {
  return {
    apiVersion: NODEPOOL_GVR.apiVersion,
    kind: NODEPOOL_GVR.kind,
    metadata: { name },
    spec: {
      template: {
        metadata: { labels: { team: 'ml' }, annotations: { 'example.com/owner': 'ml-platform' } },
        spec: {
          nodeClassRef: { group: SCALEWAY_NODECLASS_GVR.group, kind: SCALEWAY_NODECLASS_GVR.kind, name: nodeClassName },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
            { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4', 'l40s', 'h100'], minValues: 2 },
            { key: 'karpenter.scaleway.com/instance-gpu-count', operator: 'Gt', values: ['0'] },
            { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['fr-par-2'] },
          ],
          taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
          startupTaints: [{ key: 'example.com/gpu-operator-not-ready', effect: 'NoExecute' }],
          expireAfter: '168h',
          terminationGracePeriod: '1h',
        },
      },
      disruption: {
        consolidationPolicy: 'WhenEmpty',
        consolidateAfter: '10m',
        consolidateWhen: 'WhenEmpty',
        decisionRatioThreshold: 1.5,
        budgets: [{ nodes: '1' }, { nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h', reasons: ['Drifted', 'Underutilized'] }],
      },
      limits: { 'nvidia.com/gpu': '8', cpu: '256' },
      weight: 10,
    },
  };
}

export function exampleNodeClaim(name = 'gpu-x7k2p', nodePool = 'gpu', nodeClassName = 'gpu') {
  return {
    apiVersion: NODECLAIM_GVR.apiVersion,
    kind: NODECLAIM_GVR.kind,
    metadata: { name, labels: { 'karpenter.sh/nodepool': nodePool }, annotations: { 'karpenter.scaleway.com/workflow-id': `nodeclaim-${name}` } },
    spec: {
      nodeClassRef: { group: SCALEWAY_NODECLASS_GVR.group, kind: SCALEWAY_NODECLASS_GVR.kind, name: nodeClassName },
      requirements: [
        { key: 'karpenter.sh/nodepool', operator: 'In', values: [nodePool] },
        { key: 'node.kubernetes.io/instance-type', operator: 'In', values: ['L4-1-24G', 'L40S-1-48G'], minValues: 1 },
        { key: 'karpenter.scaleway.com/instance-gpu-memory', operator: 'Gte', values: ['24576'] },
        { key: 'team', operator: 'NotIn', values: ['web'] },
      ],
      resources: { requests: { cpu: '3500m', memory: '12Gi', 'nvidia.com/gpu': '1', pods: '3' } },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      startupTaints: [{ key: 'example.com/gpu-operator-not-ready', effect: 'NoExecute' }],
      expireAfter: 'Never',
      terminationGracePeriod: '30m',
    },
  };
}
