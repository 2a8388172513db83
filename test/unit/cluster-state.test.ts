// The watcher's typed cluster state: objects parsed once as their watch events
// arrive, changed and deleted; a NodeClaim and its Node tied by providerID
// whichever comes first; a pod's binding following it from node to node.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterState } from '../../watcher/state/cluster-state.ts';
import { TypedStore } from '../../watcher/state/typed-store.ts';
import { trimPod } from '../../watcher/state/trim.ts';
import { stripManagedFields } from '../../watcher/informer.ts';
import { nodesByProviderID } from '../../watcher/state/node-matching.ts';
import { parseNode } from '../../kube/api/core.ts';

const REF = { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' };
const T0 = '2026-12-02T10:00:00Z';

function rawPod(name: string, rv: string, o: { nodeName?: string; namespace?: string; phase?: string; cpu?: string } = {}) {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'ml', uid: `${name}-uid`, resourceVersion: rv, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    spec: { ...(o.nodeName ? { nodeName: o.nodeName } : {}), containers: [{ name: 'main', resources: { requests: { cpu: o.cpu ?? '500m' } } }] },
    status: {
      phase: o.phase ?? 'Pending',
      conditions: [{ type: 'PodScheduled', status: o.nodeName ? 'True' : 'False', ...(o.nodeName ? {} : { reason: 'Unschedulable' }), lastTransitionTime: T0 }],
      containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'registry.invalid/app:1', imageID: '' }],
      podIP: '10.0.0.7',
      qosClass: 'Burstable',
    },
  };
}

function rawNode(name: string, rv: string, providerID?: string) {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, resourceVersion: rv, labels: { 'kubernetes.io/hostname': name } },
    spec: providerID ? { providerID } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '8', memory: '32Gi', pods: '110' } },
  };
}

function rawNodeClaim(name: string, rv: string, status: { providerID?: string; nodeName?: string } = {}) {
  return {
    apiVersion: 'karpenter.sh/v1', kind: 'NodeClaim',
    metadata: { name, uid: `${name}-uid`, resourceVersion: rv, labels: { 'karpenter.sh/nodepool': 'gpu' } },
    spec: { nodeClassRef: REF, requirements: [] },
    status,
  };
}

describe('cluster state', () => {
  it('parses an object when it arrives, replaces it when it changes, forgets it when deleted', () => {
    const state = new ClusterState();
    const added = state.applyPod(rawPod('a', '1'), 'add');
    assert.equal(added.before, undefined);
    assert.equal(added.after?.metadata.name, 'a');
    assert.deepEqual(added.after?.spec.containers[0]?.resources.requests, { cpu: '500m' }, 'typed: defaults filled, quantities as strings');
    assert.equal(state.pods.get('ml/a'), added.after);

    const changed = state.applyPod(rawPod('a', '2', { cpu: '2' }), 'update');
    assert.equal(changed.before, added.after);
    assert.deepEqual(state.pods.get('ml/a')?.spec.containers[0]?.resources.requests, { cpu: '2' });
    assert.equal(state.pods.list().length, 1);

    const deleted = state.applyPod(rawPod('a', '3', { cpu: '2' }), 'delete');
    assert.equal(deleted.before, changed.after);
    assert.equal(deleted.after, undefined);
    assert.equal(state.pods.get('ml/a'), undefined);
    assert.deepEqual(state.pods.list(), []);
  });

  it('does not parse the same resourceVersion twice (an informer resync) and shares one list until a change', () => {
    let parses = 0;
    const store = new TypedStore<{ name: string }>('Thing', (raw) => {
      parses++;
      return { name: (raw as { metadata: { name: string } }).metadata.name };
    }, false);
    const first = store.apply({ metadata: { name: 'x', resourceVersion: '7' } }, 'add');
    const again = store.apply({ metadata: { name: 'x', resourceVersion: '7' } }, 'update');
    assert.equal(parses, 1);
    assert.equal(again.after, first.after, 'the same typed object');
    const list = store.list();
    assert.equal(store.list(), list, 'no copy while nothing changed');
    store.apply({ metadata: { name: 'x', resourceVersion: '8' } }, 'update');
    assert.equal(parses, 2);
    assert.notEqual(store.list(), list);
  });

  it('leaves out an object that does not parse, and reads its next version', () => {
    const state = new ClusterState();
    const broken = { ...rawNodeClaim('nc', '1'), spec: { requirements: [] } };
    assert.equal(state.applyNodeClaim(broken, 'add').after, undefined);
    assert.equal(state.nodeClaims.get('nc'), undefined);
    assert.deepEqual(state.nodeClaims.list(), []);
    state.applyNodeClaim(rawNodeClaim('nc', '2'), 'update');
    assert.equal(state.nodeClaims.get('nc')?.metadata.name, 'nc');
  });

  it('ties a NodeClaim to its Node by providerID, whichever arrives first, and unties them when either goes', () => {
    const state = new ClusterState();
    const providerID = 'scaleway://instance/fr-par-2/11111111-1111-4111-8111-111111111111';
    state.applyNodeClaim(rawNodeClaim('gpu-abc', '1'), 'add');
    state.applyNode(rawNode('scw-gpu-abc', '1', providerID), 'add');
    const claim = state.nodeClaims.get('gpu-abc');
    assert.ok(claim);
    assert.equal(state.nodeOf(claim), undefined, 'no providerID on the NodeClaim yet');
    assert.equal(state.nodeClaimOfNode('scw-gpu-abc'), undefined);

    // The launch writes the providerID (the node name comes later, at registration).
    state.applyNodeClaim(rawNodeClaim('gpu-abc', '2', { providerID }), 'update');
    const launched = state.nodeClaims.get('gpu-abc');
    assert.ok(launched);
    assert.equal(state.nodeOf(launched)?.metadata.name, 'scw-gpu-abc');
    assert.equal(state.nodeClaimOfNode('scw-gpu-abc'), launched);

    // A Node without a Scaleway providerID, or another one, belongs to no NodeClaim.
    state.applyNode(rawNode('kind-worker', '1'), 'add');
    assert.equal(state.nodeClaimOfNode('kind-worker'), undefined);

    state.applyNode(rawNode('scw-gpu-abc', '2', providerID), 'delete');
    assert.equal(state.nodeOf(launched), undefined);
    state.applyNode(rawNode('scw-gpu-abc', '3', providerID), 'add');
    assert.equal(state.nodeOf(launched)?.metadata.name, 'scw-gpu-abc');
    state.applyNodeClaim(rawNodeClaim('gpu-abc', '3', { providerID }), 'delete');
    assert.equal(state.nodeClaimOfNode('scw-gpu-abc'), undefined);
  });

  it('moves a pod binding with the pod: pending, bound, rebound elsewhere, deleted', () => {
    const state = new ClusterState();
    state.applyPod(rawPod('p', '1'), 'add');
    state.applyPod(rawPod('q', '1', { nodeName: 'n1' }), 'add');
    assert.deepEqual(state.podsOn('n1').map((p) => p.metadata.name), ['q']);

    state.applyPod(rawPod('p', '2', { nodeName: 'n1', phase: 'Running' }), 'update');
    assert.deepEqual(state.podsOn('n1').map((p) => p.metadata.name).sort(), ['p', 'q']);
    assert.equal(state.podsOn('n1').find((p) => p.metadata.name === 'p')?.status.phase, 'Running', 'the binding holds the newest version');

    // Same name, other node: a StatefulSet pod recreated elsewhere.
    state.applyPod(rawPod('p', '3', { nodeName: 'n2' }), 'update');
    assert.deepEqual(state.podsOn('n1').map((p) => p.metadata.name), ['q']);
    assert.deepEqual(state.podsOn('n2').map((p) => p.metadata.name), ['p']);

    state.applyPod(rawPod('p', '4', { nodeName: 'n2' }), 'delete');
    assert.deepEqual(state.podsOn('n2'), []);
    // Same name in another namespace is another pod.
    state.applyPod(rawPod('q', '1', { nodeName: 'n1', namespace: 'other' }), 'add');
    assert.equal(state.podsOn('n1').length, 2);
  });

  it('keeps each DaemonSet as the pod a new node would run, and drops one going away', () => {
    const state = new ClusterState();
    const ds = (rv: string, deletionTimestamp?: string) => ({
      apiVersion: 'apps/v1', kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'kube-system', resourceVersion: rv, ...(deletionTimestamp ? { deletionTimestamp } : {}) },
      spec: { template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', resources: { requests: { cpu: '250m' } } }] } } },
    });
    state.applyDaemonSet(ds('1'), 'add');
    const [pod] = state.daemonSets.list();
    assert.equal(pod?.metadata.name, 'agent');
    assert.deepEqual(pod?.spec.containers[0]?.resources.requests, { cpu: '250m' });
    assert.ok(pod?.spec.tolerations.some((t) => t.key === 'node.kubernetes.io/not-ready'), 'with the tolerations the DaemonSet controller adds');
    state.applyDaemonSet(ds('2', T0), 'update');
    assert.deepEqual(state.daemonSets.list(), []);
  });

  it('lists the NodeClaims of a pool and reads PodDisruptionBudgets as disruption does', () => {
    const state = new ClusterState();
    state.applyNodeClaim(rawNodeClaim('a', '1'), 'add');
    state.applyNodeClaim({ ...rawNodeClaim('b', '1'), metadata: { name: 'b', resourceVersion: '1', labels: { 'karpenter.sh/nodepool': 'cpu' } } }, 'add');
    assert.deepEqual(state.nodeClaimsOfPool('gpu').map((nc) => nc.metadata.name), ['a']);
    state.applyPodDisruptionBudget({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'train', namespace: 'ml', resourceVersion: '1' }, spec: { selector: { matchLabels: { app: 'train' } } }, status: { disruptionsAllowed: 0 } }, 'add');
    assert.deepEqual(state.podDisruptionBudgets.list(), [{ metadata: { name: 'train', namespace: 'ml' }, spec: { selector: { matchLabels: { app: 'train' } } }, status: { disruptionsAllowed: 0 } }]);
  });
});

describe('watched objects trimmed before they are cached', () => {
  it('drops managedFields, and of a pod everything of its status but phase and conditions', () => {
    const pod = trimPod(stripManagedFields(rawPod('a', '1')));
    assert.equal(pod.metadata.managedFields, undefined);
    assert.deepEqual(Object.keys(pod.status).sort(), ['conditions', 'phase']);
    assert.equal(pod.status.conditions[0]?.lastTransitionTime, T0, 'kept for lastPodEventTime');
    // What the state parses of it is unchanged by the trim.
    const parsed = new ClusterState().applyPod(pod, 'add').after;
    assert.ok(parsed);
    assert.deepEqual(parsed, new ClusterState().applyPod(stripManagedFields(rawPod('a', '1')), 'add').after);
  });
});

describe('NodeClaim to Node matching over plain lists', () => {
  it('finds the Node with the NodeClaim providerID, and none without one', () => {
    const nodeOf = nodesByProviderID([parseNode(rawNode('n1', '1', 'scaleway://instance/fr-par-2/a')), parseNode(rawNode('n2', '1'))]);
    assert.equal(nodeOf({ status: { providerID: 'scaleway://instance/fr-par-2/a', conditions: [] } })?.metadata.name, 'n1');
    assert.equal(nodeOf({ status: { conditions: [] } }), undefined);
    assert.equal(nodeOf({ status: { providerID: 'scaleway://instance/fr-par-2/b', conditions: [] } }), undefined);
  });
});
