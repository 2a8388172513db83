// What the watcher's controllers read: its informers' caches, as they are now.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface WatchedObjects {
  pods(): readonly KubernetesObject[];
  nodes(): readonly KubernetesObject[];
  nodeClaims(): readonly KubernetesObject[];
  nodePools(): readonly KubernetesObject[];
  nodeClasses(): readonly KubernetesObject[];
  /** apps/v1 DaemonSets: their pods' requests are overhead on every new node they would run on. */
  daemonSets(): readonly KubernetesObject[];
  /** policy/v1 PodDisruptionBudgets: voluntary disruption never evicts more pods than they allow. */
  podDisruptionBudgets(): readonly KubernetesObject[];
}
