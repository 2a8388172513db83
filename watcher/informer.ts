// A watched, cached collection of one kind of object: client-node's informer,
// restarted after every error (a dropped watch, an apiserver restart), with a
// periodic resync so no object is missed for long. Objects are trimmed as they
// arrive, before the informer caches them: managedFields (the server-side-apply
// bookkeeping, often the biggest part of an object) always, as
// controller-runtime's TransformStripManagedFields does for Karpenter, and
// whatever else the collection's `trim` says nobody reads.
// Its ListWatch and Watch from their own modules: the package's index loads the whole generated API client.
import { ListWatch } from '@kubernetes/client-node/dist/cache.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from '../kube/rest.ts';
import { errorMessage, log } from '../runtime/log.ts';

const logger = log.child({ logger: 'watcher.informer' });

/** After a watch error, wait this long before listing again (apiserver restarts take a few seconds). */
export const INFORMER_RESTART_DELAY_MS = 2_000;

export interface WatchedCollection<T extends KubernetesObject> {
  list(): readonly T[];
  get(name: string): T | undefined;
  stop(): Promise<void>;
}

/** Drops metadata.managedFields in place: nothing in the watcher reads it. */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

export async function watchCollection<T extends KubernetesObject>(
  kube: KubeRest,
  path: string,
  onChange: (obj: T, event: 'add' | 'update' | 'delete') => void,
  opts: { resyncMs?: number; name: string; trim?: (obj: T) => T },
): Promise<WatchedCollection<T>> {
  const trim = (obj: T): T => (opts.trim ? opts.trim(stripManagedFields(obj)) : stripManagedFields(obj));
  // client-node's makeInformer, with every listed and watched object trimmed before the cache keeps it.
  // Watch reads only the server and applySecurityAuthentication of the KubeConfig it is given (kube/watch-config.ts).
  const watch = new Watch((await kube.credentials.watchConfig()) as KubeConfig);
  const trimmingWatch = {
    watch: (watchPath: string, params: Record<string, string | number | boolean | undefined>, callback: (phase: string, obj: T, watchObj?: unknown) => void, done: (err: unknown) => void) =>
      watch.watch(watchPath, params, (phase: string, obj: T, watchObj?: unknown) => callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? trim(obj) : obj, watchObj), done),
  } as unknown as Watch;
  const list = async (): Promise<KubernetesListObject<T>> => {
    const result = await kube.get<KubernetesListObject<T>>(path);
    result.items = result.items.map(trim);
    return result;
  };
  const informer = new ListWatch<T>(path, trimmingWatch, list, false);
  let stopped = false;
  informer.on('add', (obj) => onChange(obj, 'add'));
  informer.on('update', (obj) => onChange(obj, 'update'));
  informer.on('delete', (obj) => onChange(obj, 'delete'));
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    logger.warn(`${opts.name} watch failed, restarting in ${INFORMER_RESTART_DELAY_MS / 1000} s`, { collection: opts.name, error: errorMessage(err) });
    setTimeout(() => {
      if (!stopped) informer.start().catch((e: unknown) => logger.warn(`restarting the ${opts.name} watch`, { collection: opts.name, error: errorMessage(e) }));
    }, INFORMER_RESTART_DELAY_MS).unref();
  });
  await informer.start();
  const resync = opts.resyncMs
    ? setInterval(() => {
        for (const obj of informer.list()) onChange(obj, 'update');
      }, opts.resyncMs)
    : undefined;
  resync?.unref();
  return {
    list: () => informer.list(),
    get: (name) => informer.get(name),
    stop: async () => {
      stopped = true;
      if (resync) clearInterval(resync);
      await informer.stop();
    },
  };
}
