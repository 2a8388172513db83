// A pass that starts before the watch has brought the NodeClaims the last pass
// made still counts them: in a 1000-pod burst the second pass came 4 s after
// the first's 421 POSTs, before their watch events, planned 354 pods again and
// bought 59 NodeClaims too many.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProvisioner } from '../../watcher/provisioner/controller.ts';
import { catalog, cluster, pendingGpuPod, RecordingKube, type Json } from './provisioner-fixtures.ts';

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
