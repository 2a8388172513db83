// What a round POSTs: a burst of identical one-GPU pods, or one of the mixed scenarios
// (GPU counts, CPU- and memory-heavy GPU pods, GPU-name selectors, a DaemonSet, hostname
// anti-affinity, zone spread), as raw Kubernetes objects, the same for both provisioners
// but for the NodePool each pod selects. Scenarios stay at ≤ 12 pods so that the exact
// solver (watcher/provisioner/optimum.ts) can price the cheapest fleet for them.
import { LABEL_HOSTNAME, LABEL_INSTANCE_GPU_NAME, LABEL_NODEPOOL, LABEL_ZONE } from '../../kube/api/constants.ts';
import { BENCH_LABEL, BENCH_VALUE, POOL, type Side } from './objects.ts';

export interface RawPodSpec {
  requests: Record<string, string>;
  nodeSelector?: Record<string, string>;
  labels?: Record<string, string>;
  affinity?: Record<string, unknown>;
  topologySpreadConstraints?: Record<string, unknown>[];
}

export interface Workload {
  /** `burst` rows are compared by size; `scenario` rows by name. */
  kind: 'burst' | 'scenario';
  name: string;
  description: string;
  /** The pods, named uniquely for the side and round. */
  pods(side: Side, round: number): Record<string, unknown>[];
  /** Requests of a DaemonSet that runs on every node of both pools during the round. */
  daemonSet?: Record<string, string>;
}

const TAINT_TOLERATION = { key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' };

export function rawPod(name: string, side: Side, spec: RawPodSpec): Record<string, unknown> {
  const gpu = spec.requests['nvidia.com/gpu'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [BENCH_LABEL]: BENCH_VALUE, side, ...spec.labels } },
    spec: {
      nodeSelector: { [LABEL_NODEPOOL]: POOL[side], ...spec.nodeSelector },
      tolerations: [TAINT_TOLERATION],
      ...(spec.affinity ? { affinity: spec.affinity } : {}),
      ...(spec.topologySpreadConstraints ? { topologySpreadConstraints: spec.topologySpreadConstraints } : {}),
      containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: spec.requests, ...(gpu ? { limits: { 'nvidia.com/gpu': gpu } } : {}) } }],
    },
  };
}

const prefix = (side: Side): string => (side === 'ours' ? 'o' : 'k');

/** N one-GPU pods, 100m CPU and 256Mi each: the bursts. */
export function burst(n: number): Workload {
  return {
    kind: 'burst',
    name: String(n),
    description: `${n} pods × 1 GPU, 100m CPU, 256Mi`,
    pods: (side, round) => Array.from({ length: n }, (_, i) =>
      rawPod(`${prefix(side)}${n}-r${round}-${String(i).padStart(4, '0')}`, side, { requests: { cpu: '100m', memory: '256Mi', 'nvidia.com/gpu': '1' } })),
  };
}

type Group = [count: number, spec: RawPodSpec];

function scenario(name: string, description: string, groups: (side: Side) => Group[], daemonSet?: Record<string, string>): Workload {
  return {
    kind: 'scenario',
    name,
    description,
    ...(daemonSet ? { daemonSet } : {}),
    pods: (side, round) => {
      let i = 0;
      return groups(side).flatMap(([count, spec]) => Array.from({ length: count }, () =>
        rawPod(`${prefix(side)}-${name}-r${round}-${String(i++).padStart(2, '0')}`, side, spec)));
    },
  };
}

const gpu = (n: number, cpu: string, memory: string): Record<string, string> => ({ 'nvidia.com/gpu': String(n), cpu, memory });
/** Labels that tie a scenario's pods together for affinity and spread, per side so the two never meet. */
const app = (name: string, side: Side): Record<string, string> => ({ app: `${name}-${side}` });

export const SCENARIOS: readonly Workload[] = [
  scenario('gpu-counts', 'GPU counts 1, 1, 2, 2, 4 and 8, with 2-32 CPUs', () => [
    [1, { requests: gpu(1, '2', '8Gi') }],
    [1, { requests: gpu(1, '4', '16Gi') }],
    [1, { requests: gpu(2, '8', '32Gi') }],
    [1, { requests: gpu(2, '4', '24Gi') }],
    [1, { requests: gpu(4, '16', '64Gi') }],
    [1, { requests: gpu(8, '32', '128Gi') }],
  ]),
  scenario('cpu-memory-heavy', '6 one-GPU pods needing 6-10 CPUs and 20-80Gi', () => [
    [3, { requests: gpu(1, '6', '20Gi') }],
    [2, { requests: gpu(1, '10', '40Gi') }],
    [1, { requests: gpu(1, '4', '80Gi') }],
  ]),
  scenario('gpu-name-selectors', '3 pods selecting L40S, 4 selecting L4 (GPU-name label), 2 free', () => [
    [3, { requests: gpu(1, '2', '16Gi'), nodeSelector: { [LABEL_INSTANCE_GPU_NAME]: 'l40s' } }],
    [4, { requests: gpu(1, '3', '12Gi'), nodeSelector: { [LABEL_INSTANCE_GPU_NAME]: 'l4' } }],
    [2, { requests: gpu(1, '1', '4Gi') }],
  ]),
  scenario('daemonset-overhead', '8 one-GPU pods (3 CPUs, 12Gi) with a 2-CPU, 8Gi DaemonSet on every node', () => [
    [8, { requests: gpu(1, '3', '12Gi') }],
  ], { cpu: '2', memory: '8Gi' }),
  scenario('hostname-anti-affinity', '6 one-GPU pods (1 CPU, 4Gi), at most one per node (required anti-affinity)', (side) => [
    [6, {
      requests: gpu(1, '1', '4Gi'),
      labels: app('solo', side),
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: app('solo', side) }, topologyKey: LABEL_HOSTNAME }] } },
    }],
  ]),
  scenario('zone-spread', '8 one-GPU pods (2 CPUs, 8Gi) spread over fr-par-1 and fr-par-2 (maxSkew 1, DoNotSchedule)', (side) => [
    [8, {
      requests: gpu(1, '2', '8Gi'),
      labels: app('spread', side),
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: LABEL_ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: app('spread', side) } }],
    }],
  ]),
];

export const DAEMONSET_NAMESPACE = 'kube-system';
export const DAEMONSET_NAME = 'bench-node-agent';

/** A DaemonSet with these requests on every node of either pool (it tolerates every taint). */
export const daemonSet = (requests: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: DAEMONSET_NAME, namespace: DAEMONSET_NAMESPACE },
  spec: {
    selector: { matchLabels: { app: DAEMONSET_NAME } },
    template: {
      metadata: { labels: { app: DAEMONSET_NAME } },
      spec: {
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'agent', image: 'registry.invalid/agent:1', resources: { requests } }],
      },
    },
  },
});

/** The GPUs a raw pod requests (its containers' requests; init containers are not used here). */
export function gpusOf(pod: Record<string, unknown>): number {
  const containers = (pod.spec as { containers?: { resources?: { requests?: Record<string, string> } }[] } | undefined)?.containers ?? [];
  return containers.reduce((s, c) => s + Number(c.resources?.requests?.['nvidia.com/gpu'] ?? 0), 0);
}
