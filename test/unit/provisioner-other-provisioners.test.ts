// A cluster that runs stock Karpenter beside us: the pods pinned to its
// NodePools are its own. Side by side at 1000 pods, our watcher wrote a
// FailedScheduling Warning on every one of Karpenter's pods.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProvisioner } from '../../watcher/provisioner/controller.ts';
import { exampleNodePool } from '../../kube/api/examples.ts';
import { catalog, cluster, pendingGpuPod, RecordingKube, type Json } from './provisioner-fixtures.ts';
import type { ClusterState } from '../../watcher/state/cluster-state.ts';

function addKarpenterPool(state: ClusterState, name: string): void {
  const pool = exampleNodePool(name);
  state.applyNodePool({
    ...pool,
    metadata: { ...pool.metadata, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { ...pool.spec, template: { ...pool.spec.template, spec: { ...pool.spec.template.spec, nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' } } } },
  }, 'add');
}

function podPinnedTo(name: string, nodeSelector: Record<string, string> | undefined, affinity?: Json): Json {
  const pod = pendingGpuPod(name);
  return { ...pod, spec: { ...(pod.spec as Json), ...(nodeSelector ? { nodeSelector } : {}), ...(affinity ? { affinity } : {}) } };
}

const failedScheduling = (kube: RecordingKube, pod: string): string[] =>
  kube.events.filter((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === pod).map((e) => e.message);

describe('pods of another provisioner', () => {
  it('are neither planned nor told by ours', async () => {
    const kube = new RecordingKube();
    const state = cluster(0);
    addKarpenterPool(state, 'kwok');
    state.applyPod(podPinnedTo('karpenters', { 'karpenter.sh/nodepool': 'kwok' }), 'add');
    // Required node affinity naming only Karpenter's pools, in every term.
    state.applyPod(podPinnedTo('karpenters-by-affinity', undefined, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['kwok'] }] }] } },
    }), 'add');
    const provisioner = createProvisioner({ kube, catalog, state });
    assert.equal(await provisioner.provisionOnce(), undefined, 'nothing to plan');
    assert.equal(kube.nodeClaims.size, 0);
    assert.deepEqual(kube.events, []);
    await provisioner.close();
  });

  it('leave ours to plan the pods that may go either way, or only to ours', async () => {
    const kube = new RecordingKube();
    const state = cluster(0);
    addKarpenterPool(state, 'kwok');
    state.applyPod(podPinnedTo('either', undefined, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['kwok', 'gpu'] }] }] } },
    }), 'add');
    state.applyPod(podPinnedTo('ours', { 'karpenter.sh/nodepool': 'gpu' }), 'add');
    state.applyPod(podPinnedTo('unpinned', undefined), 'add');
    const provisioner = createProvisioner({ kube, catalog, state });
    const result = await provisioner.provisionOnce();
    const planned = (result?.nodeClaims ?? []).flatMap((nc) => nc.pods.map((p) => p.name)).sort();
    assert.deepEqual(planned, ['either', 'ours', 'unpinned']);
    await provisioner.close();
  });

  it('do not hide a pod that names a NodePool nobody has: it is told why nothing runs it', async () => {
    const kube = new RecordingKube();
    const state = cluster(0);
    addKarpenterPool(state, 'kwok');
    state.applyPod(podPinnedTo('typo', { 'karpenter.sh/nodepool': 'gpus' }), 'add');
    const provisioner = createProvisioner({ kube, catalog, state });
    const result = await provisioner.provisionOnce();
    assert.equal(result?.nodeClaims.length, 0);
    const told = failedScheduling(kube, 'typo');
    assert.equal(told.length, 1, `one FailedScheduling Event: ${JSON.stringify(kube.events)}`);
    assert.match(told[0] ?? '', /no NodePool can run pod default\/typo/);
    await provisioner.close();
  });
});
