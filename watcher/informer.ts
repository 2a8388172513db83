// A watched, cached collection of one kind of object: client-node's informer,
// restarted after every error (a dropped watch, an apiserver restart), with a
// periodic resync so no object is missed for long.
import { makeInformer, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
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

export async function watchCollection<T extends KubernetesObject>(
  kube: KubeRest,
  path: string,
  onChange: (obj: T, event: 'add' | 'update' | 'delete') => void,
  opts: { resyncMs?: number; name: string },
): Promise<WatchedCollection<T>> {
  const informer = makeInformer<T>(kube.kubeConfig, path, () => kube.get<KubernetesListObject<T>>(path));
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
