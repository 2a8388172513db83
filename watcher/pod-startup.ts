// karpenter_pods_startup_duration_seconds, as Karpenter's pod metrics
// controller measures it: from a pod's creation to the first time it is seen
// Running, for pods seen before they ran (a pod already running when the
// watcher starts tells nothing about how long it took).

export interface PodStartupRecorder {
  /** Feeds one watch event of a pod. */
  observe(raw: unknown, event: 'add' | 'update' | 'delete'): void;
}

interface PodView {
  metadata?: { uid?: string; namespace?: string; name?: string; creationTimestamp?: string | Date };
  status?: { phase?: string };
}

export function createPodStartupRecorder(observeSeconds: (seconds: number) => void, now: () => Date = () => new Date()): PodStartupRecorder {
  /** Pods seen not yet running, by UID. */
  const waiting = new Set<string>();
  return {
    observe: (raw, event) => {
      const pod = raw as PodView;
      const key = pod.metadata?.uid ?? `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
      if (event === 'delete') {
        waiting.delete(key);
        return;
      }
      const phase = pod.status?.phase;
      if (phase === 'Pending' || phase === undefined) {
        waiting.add(key);
        return;
      }
      if (!waiting.delete(key) || phase !== 'Running') return;
      const created = pod.metadata?.creationTimestamp === undefined ? Number.NaN : new Date(pod.metadata.creationTimestamp).getTime();
      const seconds = (now().getTime() - created) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) observeSeconds(seconds);
    },
  };
}
