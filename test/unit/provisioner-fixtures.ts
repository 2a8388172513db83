// The provisioner's unit harness: an apiserver that answers NodeClaim POSTs as
// the real one does (a name taken is AlreadyExists) and records Events, and a
// cluster with one GPU NodePool on a Ready ScalewayNodeClass.
import type { KubeCredentials } from '../../kube/credentials.ts';
import { KubeError, type KubeRest } from '../../kube/rest.ts';
import type { CatalogCache } from '../../scaleway/caches.ts';
import { ClusterState } from '../../watcher/state/cluster-state.ts';
import { exampleNodePool, exampleScalewayNodeClass } from '../../kube/api/examples.ts';
import { catalogOffers } from './planner-fixtures.ts';

export type Json = Record<string, unknown>;

/** NodeClaim POSTs as the apiserver answers them (a name taken is AlreadyExists); Events recorded. */
export class RecordingKube implements KubeRest {
  readonly credentials = undefined as unknown as KubeCredentials;
  readonly nodeClaims = new Map<string, Json>();
  readonly events: { reason: string; type: string; message: string; involvedObject: Json }[] = [];
  private version = 100;
  get<T>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  getOrUndefined<T>(): Promise<T | undefined> {
    return Promise.resolve(undefined);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    if (path.endsWith('/events')) this.events.push(body as RecordingKube['events'][number]);
    if (!path.endsWith('/nodeclaims')) return Promise.resolve(body as T);
    const obj = body as { metadata: Json };
    const name = String(obj.metadata.name);
    if (this.nodeClaims.has(name)) return Promise.reject(new KubeError(409, 'AlreadyExists', `nodeclaims "${name}" already exists`));
    const made = { ...obj, metadata: { ...obj.metadata, uid: `uid-${name}`, resourceVersion: String(++this.version), creationTimestamp: new Date().toISOString() } };
    this.nodeClaims.set(name, made);
    return Promise.resolve(structuredClone(made) as T);
  }
  put<T>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  patch<T>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  delete(): Promise<void> {
    return Promise.resolve();
  }
}

export function pendingGpuPod(name: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      containers: [{ name: 'train', resources: { requests: { 'nvidia.com/gpu': '1', cpu: '100m', memory: '256Mi' }, limits: { 'nvidia.com/gpu': '1' } } }],
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
    },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
  };
}

export function cluster(podCount: number): ClusterState {
  const state = new ClusterState();
  const pool = exampleNodePool('gpu', 'gpu');
  const requirements = [
    { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
    { key: 'karpenter.scaleway.com/instance-gpu-count', operator: 'Gt', values: ['0'] },
  ];
  state.applyNodePool({
    ...pool,
    metadata: { ...pool.metadata, uid: 'pool-uid', resourceVersion: '1' },
    spec: { ...pool.spec, template: { ...pool.spec.template, spec: { ...pool.spec.template.spec, requirements } }, limits: {} },
  }, 'add');
  const nodeClass = exampleScalewayNodeClass('gpu');
  state.applyNodeClass({
    ...nodeClass,
    metadata: { ...nodeClass.metadata, uid: 'class-uid', generation: 1, resourceVersion: '1' },
    spec: { ...nodeClass.spec, zones: ['fr-par-2'] },
    status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: '2026-12-03T08:00:00Z', observedGeneration: 1 }] },
  }, 'add');
  for (let i = 0; i < podCount; i++) state.applyPod(pendingGpuPod(`train-${i}`), 'add');
  return state;
}

export const catalog = { offers: (zone: string) => Promise.resolve(catalogOffers(zone)) } as unknown as CatalogCache;
