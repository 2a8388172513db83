// Benchmark scenarios for fleet €/hour: small enough (≤ 10 pods per NodePool)
// for the exact solver, on the recorded catalog. Each mixes GPU counts, CPU and
// memory so that the cheapest fleet is not simply one type per pod.
import type { PlanInput } from '../../watcher/provisioner/planner.ts';
import { catalogOffers, planPool, pods, pod } from '../../test/unit/planner-fixtures.ts';

export interface Scenario {
  name: string;
  description: string;
  input: PlanInput;
}

const GPU_POOL = planPool({ name: 'gpu', requirements: [{ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] }] });
const CPU_POOL = planPool({ name: 'cpu', requirements: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] });
const FR_PAR_2 = catalogOffers('fr-par-2');
const FR_PAR_1_2 = catalogOffers('fr-par-1', 'fr-par-2');

export const SCENARIOS: Scenario[] = [
  {
    name: 'eight-one-gpu-small-cpu',
    description: '8 pods × 1 GPU, 500m CPU, 2Gi (fr-par-2)',
    input: { pods: pods('train', 8, { requests: { 'nvidia.com/gpu': '1', cpu: '500m', memory: '2Gi' } }), nodePools: [GPU_POOL], offers: FR_PAR_2 },
  },
  {
    name: 'gpu-count-mix',
    description: 'GPU counts 1, 1, 2, 2, 4 and 8 with 2-16 CPUs (fr-par-2)',
    input: {
      pods: [
        pod({ name: 'a-1gpu', requests: { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' } }),
        pod({ name: 'b-1gpu', requests: { 'nvidia.com/gpu': '1', cpu: '4', memory: '16Gi' } }),
        pod({ name: 'c-2gpu', requests: { 'nvidia.com/gpu': '2', cpu: '8', memory: '32Gi' } }),
        pod({ name: 'd-2gpu', requests: { 'nvidia.com/gpu': '2', cpu: '4', memory: '24Gi' } }),
        pod({ name: 'e-4gpu', requests: { 'nvidia.com/gpu': '4', cpu: '16', memory: '64Gi' } }),
        pod({ name: 'f-8gpu', requests: { 'nvidia.com/gpu': '8', cpu: '32', memory: '128Gi' } }),
      ],
      nodePools: [GPU_POOL],
      offers: FR_PAR_2,
    },
  },
  {
    name: 'cpu-heavy-gpu-pods',
    description: '6 one-GPU pods needing 6-12 CPUs and up to 80Gi (fr-par-1 + fr-par-2)',
    input: {
      pods: [
        ...pods('cpu6', 3, { requests: { 'nvidia.com/gpu': '1', cpu: '6', memory: '20Gi' } }),
        ...pods('cpu10', 2, { requests: { 'nvidia.com/gpu': '1', cpu: '10', memory: '40Gi' } }),
        pod({ name: 'mem80', requests: { 'nvidia.com/gpu': '1', cpu: '4', memory: '80Gi' } }),
      ],
      nodePools: [GPU_POOL],
      offers: FR_PAR_1_2,
    },
  },
  {
    name: 'cpu-only-with-cpu-pool',
    description: '10 CPU-only pods (250m-6 CPUs, 512Mi-24Gi) on a CPU NodePool (fr-par-2)',
    input: {
      pods: [
        ...pods('web', 4, { requests: { cpu: '250m', memory: '512Mi' } }),
        ...pods('api', 3, { requests: { cpu: '1500m', memory: '3Gi' } }),
        ...pods('batch', 2, { requests: { cpu: '6', memory: '12Gi' } }),
        pod({ name: 'cache', requests: { cpu: '1', memory: '24Gi' } }),
      ],
      nodePools: [CPU_POOL],
      offers: FR_PAR_2,
    },
  },
  {
    name: 'l40s-and-l4-selectors',
    description: '3 pods pinned to L40S (gpu-name), 4 to L4 (seed alias), 2 unpinned (fr-par-2)',
    input: {
      pods: [
        ...pods('l40s', 3, { requests: { 'nvidia.com/gpu': '1', cpu: '2', memory: '16Gi' }, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l40s' } }),
        ...pods('l4', 4, { requests: { 'nvidia.com/gpu': '1', cpu: '3', memory: '12Gi' }, nodeSelector: { 'karpenter.sh/instance-type': 'l4' } }),
        ...pods('any', 2, { requests: { 'nvidia.com/gpu': '1', cpu: '1', memory: '4Gi' } }),
      ],
      nodePools: [GPU_POOL],
      offers: FR_PAR_2,
    },
  },
  {
    name: 'h100-sxm-mix',
    description: '8 pods selecting H100-SXM with 1-2 GPUs each, plus 2 CPU pods on the CPU pool (fr-par-2)',
    input: {
      pods: [
        ...pods('sxm1', 5, { requests: { 'nvidia.com/gpu': '1', cpu: '4', memory: '32Gi' }, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'h100-sxm' } }),
        ...pods('sxm2', 3, { requests: { 'nvidia.com/gpu': '2', cpu: '8', memory: '64Gi' }, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'h100-sxm' } }),
        ...pods('side', 2, { requests: { cpu: '2', memory: '4Gi' } }),
      ],
      nodePools: [GPU_POOL, CPU_POOL],
      offers: FR_PAR_2,
    },
  },
  {
    name: 'twelve-pod-mix',
    description: '12 one- and two-GPU pods, 1-12 CPUs, 4-64Gi (fr-par-2): above the planner\'s exact threshold (9)',
    input: {
      pods: [
        ['m0', 1, 1, 52], ['m1', 1, 5, 20], ['m2', 1, 1, 36], ['m3', 1, 5, 60], ['m4', 1, 9, 52], ['m5', 1, 1, 52],
        ['m6', 1, 1, 16], ['m7', 2, 12, 40], ['m8', 2, 3, 64], ['m9', 1, 7, 8], ['m10', 1, 2, 30], ['m11', 2, 6, 24],
      ].map(([name, gpu, cpu, mem]) => pod({ name: String(name), requests: { 'nvidia.com/gpu': String(gpu), cpu: String(cpu), memory: `${mem}Gi` } })),
      nodePools: [GPU_POOL],
      offers: FR_PAR_2,
    },
  },
];
