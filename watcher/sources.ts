// What the watcher's controllers read: its informers' caches, as they are now.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface WatchedObjects {
  pods(): readonly KubernetesObject[];
  nodes(): readonly KubernetesObject[];
  nodeClaims(): readonly KubernetesObject[];
  nodePools(): readonly KubernetesObject[];
  nodeClasses(): readonly KubernetesObject[];
}
