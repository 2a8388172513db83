// What a pod asks of a node, as the scheduler counts it: the effective request
// (regular containers summed, init containers taken at their peak, restartable
// init containers — sidecars — running alongside everything after them), plus
// the RuntimeClass overhead, plus one pod slot.
import type { Pod } from '../../kube/api/core.ts';
import { requestedAmounts, type ResourceAmounts } from '../../scaleway/instance-types.ts';

export const NO_RESOURCES: ResourceAmounts = { cpu: 0, memory: 0, gpu: 0, pods: 0, ephemeralStorage: 0 };

export function addResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, gpu: a.gpu + b.gpu, pods: a.pods + b.pods, ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage };
}

export function subtractResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return { cpu: a.cpu - b.cpu, memory: a.memory - b.memory, gpu: a.gpu - b.gpu, pods: a.pods - b.pods, ephemeralStorage: a.ephemeralStorage - b.ephemeralStorage };
}

export function maxResources(a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts {
  return {
    cpu: Math.max(a.cpu, b.cpu),
    memory: Math.max(a.memory, b.memory),
    gpu: Math.max(a.gpu, b.gpu),
    pods: Math.max(a.pods, b.pods),
    ephemeralStorage: Math.max(a.ephemeralStorage, b.ephemeralStorage),
  };
}

/** Amounts from a resource list or amounts already parsed. */
export function toAmounts(value: Readonly<Record<string, string | number>> | ResourceAmounts | undefined): ResourceAmounts {
  if (value === undefined) return NO_RESOURCES;
  if (isAmounts(value)) return value;
  return requestedAmounts(value);
}

function isAmounts(value: object): value is ResourceAmounts {
  const v = value as Record<string, unknown>;
  return typeof v.cpu === 'number' && typeof v.memory === 'number' && typeof v.gpu === 'number' && typeof v.pods === 'number' && typeof v.ephemeralStorage === 'number';
}

/**
 * The pod's effective request (Kubernetes' rule, KEP-753 sidecars included):
 * max(sum of containers + sidecars, each regular init container + the sidecars
 * started before it) + overhead, with pods = 1.
 */
export function podRequests(pod: Pick<Pod, 'spec'>): ResourceAmounts {
  let sidecars = NO_RESOURCES;
  let initPeak = NO_RESOURCES;
  for (const init of pod.spec.initContainers) {
    const r = requestedAmounts(init.resources.requests);
    if (init.restartPolicy === 'Always') {
      sidecars = addResources(sidecars, r);
      initPeak = maxResources(initPeak, sidecars);
    } else {
      initPeak = maxResources(initPeak, addResources(sidecars, r));
    }
  }
  let containers = NO_RESOURCES;
  for (const c of pod.spec.containers) containers = addResources(containers, requestedAmounts(c.resources.requests));
  const effective = maxResources(addResources(containers, sidecars), initPeak);
  return { ...addResources(effective, toAmounts(pod.spec.overhead)), pods: 1 };
}
