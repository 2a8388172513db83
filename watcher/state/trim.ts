// What the watcher keeps of a watched object beyond what the cluster state
// parses: the informer's cache holds the raw object too (to tell an update
// from an add, and what a relist deleted), so the parts nobody reads are
// dropped before it keeps them.
import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * A pod's status as read here: phase (the state, pod startup), conditions with
 * their transition times (PodScheduled for pending pods and lastPodEventTime).
 * Container statuses, IPs and QoS class are the kubelet's and nobody reads them.
 */
export function trimPod<T extends KubernetesObject>(pod: T): T {
  const status = (pod as { status?: Record<string, unknown> }).status;
  if (status === undefined) return pod;
  for (const field of Object.keys(status)) if (field !== 'phase' && field !== 'conditions') delete status[field];
  return pod;
}
