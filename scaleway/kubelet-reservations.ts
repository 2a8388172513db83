// What the kubelet of a node keeps for itself, and so what pods may request:
// capacity − kube-reserved − system-reserved − the hard eviction threshold, as
// Karpenter computes it (aws/karpenter-provider-aws, pkg/providers/instancetype).
// One function gives both the kubelet configuration the bootstrap renders and
// the allocatable the planner and the NodeClaim's status assume, so the two
// cannot drift apart.
import type { KubeletConfig } from '../bootstrap/types.ts';
import { parseQuantity } from '../kube/quantity.ts';
import type { ResourceAmounts } from './instance-types.ts';

/** The kubelet's default, and what Karpenter assumes without a NodeClass override. */
export const DEFAULT_MAX_PODS = 110;

/** Resources a reservation may name (`pid` is rendered but reserves nothing pods request). */
export type ReservedResource = 'cpu' | 'memory' | 'ephemeral-storage' | 'pid';
export type EvictionSignal = 'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'imagefs.inodesFree' | 'pid.available';

/** A NodeClass's `spec.kubelet`: every field optional, each overriding one default. */
export interface KubeletSettings {
  maxPods?: number | undefined;
  kubeReserved?: Partial<Record<ReservedResource, string>> | undefined;
  systemReserved?: Partial<Record<ReservedResource, string>> | undefined;
  evictionHard?: Partial<Record<EvictionSignal, string>> | undefined;
}

/** The kubelet's own hard eviction defaults on Linux, rendered in full so that a partial override cannot drop the others. */
const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

/** Karpenter's default kube-reserved ephemeral storage. */
const KUBE_RESERVED_EPHEMERAL = '1Gi';

/**
 * Karpenter's kube-reserved CPU in millicores (the table Bottlerocket publishes): 6% of the first core,
 * 1% of the second, 0.5% of the next two, 0.25% of the rest, each step truncated to whole millicores.
 */
export function kubeReservedMillicores(cores: number): number {
  const steps: [number, number, number][] = [[0, 1000, 0.06], [1000, 2000, 0.01], [2000, 4000, 0.005], [4000, 2 ** 31, 0.0025]];
  const milli = Math.round(cores * 1000);
  let reserved = 0;
  for (const [start, end, share] of steps) {
    if (milli < start) break;
    reserved += Math.trunc((Math.min(milli, end) - start) * share);
  }
  return reserved;
}

/** Karpenter's kube-reserved memory in MiB: 11 MiB per pod the node may run, plus 255 MiB. */
export function kubeReservedMemoryMi(maxPods: number): number {
  return 11 * maxPods + 255;
}

/** A CPU quantity in whole millicores, rounded up as the kubelet rounds a reservation. */
const millicores = (q: string): number => Math.ceil(parseQuantity(q) * 1000 - 1e-9);

/** An eviction threshold in bytes of `capacity`: a quantity, or a percentage of capacity (100% disables it, as in the kubelet). */
export function evictionBytes(value: string, capacity: number): number {
  if (!value.endsWith('%')) return parseQuantity(value);
  const percent = Number(value.slice(0, -1));
  return percent >= 100 ? 0 : Math.ceil((capacity * percent) / 100);
}

export interface NodeAllocation {
  /** What the bootstrap renders into the node's kubelet configuration. */
  kubelet: KubeletConfig;
  capacity: ResourceAmounts;
  kubeReserved: ResourceAmounts;
  systemReserved: ResourceAmounts;
  evictionThreshold: ResourceAmounts;
  /** capacity − kubeReserved − systemReserved − evictionThreshold, never below zero. */
  allocatable: ResourceAmounts;
}

const ZERO: ResourceAmounts = { cpu: 0, memory: 0, gpu: 0, pods: 0, ephemeralStorage: 0 };

function reservedAmounts(list: Readonly<Record<string, string>>): ResourceAmounts {
  return {
    ...ZERO,
    cpu: list.cpu === undefined ? 0 : millicores(list.cpu) / 1000,
    memory: list.memory === undefined ? 0 : parseQuantity(list.memory),
    ephemeralStorage: list['ephemeral-storage'] === undefined ? 0 : parseQuantity(list['ephemeral-storage']),
  };
}

function defined<T>(record: Partial<Record<string, T | undefined>> | undefined): Record<string, T> {
  return Object.fromEntries(Object.entries(record ?? {}).filter((e): e is [string, T] => e[1] !== undefined));
}

/**
 * The kubelet configuration and resources of a node of this offering under a NodeClass's `kubelet`
 * settings. Defaults are Karpenter's: kube-reserved CPU by the core table, memory 11 MiB × maxPods +
 * 255 MiB, ephemeral storage 1 GiB; no system-reserved; eviction at memory.available < 100Mi and
 * nodefs.available < 10%. Each NodeClass key replaces its default alone.
 */
export function nodeAllocation(offer: { ncpus: number; ramBytes: number; gpuCount: number }, rootVolumeBytes: number, settings: KubeletSettings = {}): NodeAllocation {
  const maxPods = settings.maxPods ?? DEFAULT_MAX_PODS;
  const capacity: ResourceAmounts = { cpu: offer.ncpus, memory: offer.ramBytes, gpu: offer.gpuCount, pods: maxPods, ephemeralStorage: rootVolumeBytes };
  const kubeReservedList: Record<string, string> = {
    cpu: `${kubeReservedMillicores(offer.ncpus)}m`,
    memory: `${kubeReservedMemoryMi(maxPods)}Mi`,
    'ephemeral-storage': KUBE_RESERVED_EPHEMERAL,
    ...defined(settings.kubeReserved),
  };
  const systemReservedList = defined(settings.systemReserved);
  const evictionHard = { ...DEFAULT_EVICTION_HARD, ...defined(settings.evictionHard) };
  const kubeReserved = reservedAmounts(kubeReservedList);
  const systemReserved = reservedAmounts(systemReservedList);
  const evictionThreshold: ResourceAmounts = {
    ...ZERO,
    memory: evictionBytes(evictionHard['memory.available'] ?? '0', capacity.memory),
    ephemeralStorage: evictionBytes(evictionHard['nodefs.available'] ?? '0', capacity.ephemeralStorage),
  };
  // CPU in millicores, so that 8 − 0.09 is 7.91 and not 7.909999….
  const cpuMilli = Math.round(capacity.cpu * 1000) - Math.round(kubeReserved.cpu * 1000) - Math.round(systemReserved.cpu * 1000);
  const allocatable: ResourceAmounts = {
    cpu: Math.max(0, cpuMilli) / 1000,
    memory: Math.max(0, capacity.memory - kubeReserved.memory - systemReserved.memory - evictionThreshold.memory),
    gpu: capacity.gpu,
    pods: capacity.pods,
    ephemeralStorage: Math.max(0, capacity.ephemeralStorage - kubeReserved.ephemeralStorage - systemReserved.ephemeralStorage - evictionThreshold.ephemeralStorage),
  };
  return {
    kubelet: { maxPods, kubeReserved: kubeReservedList, systemReserved: systemReservedList, evictionHard },
    capacity,
    kubeReserved,
    systemReserved,
    evictionThreshold,
    allocatable,
  };
}
