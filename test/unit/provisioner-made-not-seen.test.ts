// A pass that starts before the watch has brought the NodeClaims the last pass
// made still counts them: in a 1000-pod burst the second pass came 4 s after
// the first's 421 POSTs, before their watch events, planned 354 pods again and
// bought 59 NodeClaims too many.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeCredentials } from '../../kube/credentials.ts';
import { KubeError, type KubeRest } from '../../kube/rest.ts';
import type { CatalogCache } from '../../scaleway/caches.ts';
import { ClusterState } from '../../watcher/state/cluster-state.ts';
import { createProvisioner } from '../../watcher/provisioner/controller.ts';
import { exampleNodePool, exampleScalewayNodeClass } from '../../kube/api/examples.ts';
import { catalogOffers } from './planner-fixtures.ts';

type Json = Record<string, unknown>;

/** NodeClaim POSTs as the apiserver answers them (a name taken is AlreadyExists); Events accepted. */
class RecordingKube implements KubeRest {
  readonly credentials = undefined as unknown as KubeCredentials;
  readonly nodeClaims = new Map<string, Json>();
  private version = 100;
  get<T>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  getOrUndefined<T>(): Promise<T | undefined> {
    return Promise.resolve(undefined);
  }
  post<T>(path: string, body: unknown): Promise<T> {
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

function pendingGpuPod(name: string): Json {
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

function cluster(podCount: number): ClusterState {
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

const catalog = { offers: (zone: string) => Promise.resolve(catalogOffers(zone)) } as unknown as CatalogCache;

describe('NodeClaims the provisioner just made', () => {
  it('count in the next pass before their watch events arrive', async () => {
    const kube = new RecordingKube();
    const state = cluster(40);
    const provisioner = createProvisioner({ kube, catalog, state });
    const first = await provisioner.provisionOnce();
    assert.ok(first && first.nodeClaims.length > 0, `the first pass plans NodeClaims: ${JSON.stringify({ errors: first?.podErrors.slice(0, 2), problems: first?.poolProblems })}`);
    const made = kube.nodeClaims.size;
    assert.equal(made, first.nodeClaims.length);
    // The watch has delivered none of them yet: the next pass must not plan the same pods again.
    const second = await provisioner.provisionOnce();
    assert.equal(second, undefined, `the second pass planned ${second?.nodeClaims.length ?? 0} NodeClaims for pods already spoken for`);
    assert.equal(kube.nodeClaims.size, made);
    await provisioner.close();
  });

  it('are counted once when the watch delivers them', async () => {
    const kube = new RecordingKube();
    const state = cluster(40);
    const provisioner = createProvisioner({ kube, catalog, state });
    const first = await provisioner.provisionOnce();
    for (const nc of kube.nodeClaims.values()) state.applyNodeClaim(nc, 'add');
    // Ten more pods: exactly their own capacity is bought, none of the first forty's again.
    for (let i = 40; i < 50; i++) state.applyPod(pendingGpuPod(`train-${i}`), 'add');
    const second = await provisioner.provisionOnce();
    const podsPlanned = (second?.nodeClaims ?? []).reduce((n, nc) => n + nc.pods.length, 0);
    assert.equal(podsPlanned, 10);
    assert.equal(kube.nodeClaims.size, (first?.nodeClaims.length ?? 0) + (second?.nodeClaims.length ?? 0));
    await provisioner.close();
  });
});

describe('a NodeClaim whose Node the scheduler gave to another pod', () => {
  // The kube-scheduler binds pods where they fit, not where they were nominated: with
  // identical pods, the first node up takes whichever comes first. The pod left over is
  // planned again with the same pods, so under the same derived name, and that name was
  // taken: the POST's AlreadyExists was read as "made already" and the pod stayed pending
  // for good (five of nineteen pods in a chaos run).
  it('leaves the pod it was made for a NodeClaim of its own under the next name', async () => {
    const kube = new RecordingKube();
    const state = cluster(1);
    const provisioner = createProvisioner({ kube, catalog, state });
    const first = await provisioner.provisionOnce();
    assert.equal(first?.nodeClaims.length, 1);
    const [made] = [...kube.nodeClaims.values()] as { metadata: { name: string; labels: Record<string, string> }; spec: Json }[];
    assert.ok(made);
    const longAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    const nodeName = made.metadata.name;
    const conditions = ['Launched', 'Registered', 'Initialized', 'Ready'].map((type) => ({ type, status: 'True', reason: type, message: '', lastTransitionTime: longAgo }));
    state.applyNodeClaim({ ...made, status: { nodeName, providerID: `scaleway://instance/fr-par-2/${nodeName}`, conditions } }, 'add');
    state.applyNode({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, uid: `uid-node-${nodeName}`, resourceVersion: '5', labels: { ...made.metadata.labels, 'node.kubernetes.io/instance-type': 'L4-1-24G', 'topology.kubernetes.io/zone': 'fr-par-2', 'kubernetes.io/hostname': nodeName } },
      spec: { providerID: `scaleway://instance/fr-par-2/${nodeName}` },
      status: { allocatable: { cpu: '7910m', memory: '40Gi', pods: '110', 'nvidia.com/gpu': '1' }, capacity: { cpu: '8', memory: '48Gi', pods: '110', 'nvidia.com/gpu': '1' }, conditions: [{ type: 'Ready', status: 'True' }] },
    }, 'add');
    // Another pod took the node's only GPU; the one it was made for is still pending.
    const other = pendingGpuPod('interloper');
    state.applyPod({ ...other, spec: { ...(other.spec as Json), nodeName }, status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] } }, 'add');

    const second = await provisioner.provisionOnce();
    assert.equal(second?.nodeClaims.length, 1, 'train-0 is planned again');
    assert.equal(kube.nodeClaims.size, 2, `a second NodeClaim is made for train-0, not taken as made already: ${[...kube.nodeClaims.keys()].join(', ')}`);
    const again = [...kube.nodeClaims.values()].find((nc) => (nc as { metadata: { name: string } }).metadata.name !== nodeName) as { metadata: { name: string; annotations: Record<string, string> } };
    assert.equal(again.metadata.annotations['karpenter.scaleway.com/nominated-pods'], 'default/train-0');

    // Replanned before the watch brings it, the same pods post the same second name and buy nothing more.
    const third = await provisioner.provisionOnce();
    assert.equal(third, undefined);
    assert.equal(kube.nodeClaims.size, 2);
    await provisioner.close();
  });
});
