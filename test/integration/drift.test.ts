// Drift on the real stack: a change to a NodePool's template marks its
// existing NodeClaim Drifted, the disruption loop deletes it, the termination
// workflow drains it, and the ReplicaSet's new pod runs on a node made from the
// new template. On the way: status.lastPodEventTime written for the pod's bind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_NODEPOOL_HASH, NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseNodePool, type NodeClaim } from '../../kube/api/schemas.ts';
import { nodePoolHashAnnotations } from '../../watcher/drift-hashes.ts';
import { conditionOf, eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';

const POOL = 'scaleway-gpu';

describe('drift: a NodePool template change replaces its nodes', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const claims = (): Promise<NodeClaim[]> => nodeClaimsOfPool(kube(), POOL);
  const runningPod = async (): Promise<{ name: string; nodeName: string } | undefined> => {
    const pods = await kube().get<{ items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }[] }>('/api/v1/namespaces/default/pods?labelSelector=app%3Dtrain');
    const pod = pods.items.find((p) => p.status.phase === 'Running' && p.spec.nodeName && !p.metadata.deletionTimestamp);
    return pod ? { name: pod.metadata.name, nodeName: pod.spec.nodeName! } : undefined;
  };

  before(async () => {
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000, disruptionIntervalMs: 500 } } });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    const pool = parseYaml(readFileSync(new URL('../../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')) as { spec: { disruption: Record<string, string> } };
    pool.spec.disruption.consolidateAfter = 'Never'; // only drift moves the pod here
    await kube().post(clusterPath(NODEPOOL_GVR), pool);
    // A ReplicaSet, so the pod evicted from the drifted node comes back (a bare pod would not).
    await kube().post('/apis/apps/v1/namespaces/default/replicasets', {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'train' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'train' } },
        template: {
          metadata: { labels: { app: 'train' } },
          spec: {
            tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }],
            nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' },
            containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }],
          },
        },
      },
    });
  });

  it('marks the NodeClaim NodePoolDrifted, deletes it, and the pod runs on a new node of the new template', async () => {
    const first = await eventually('the pod Running', runningPod, 120_000);
    const [old] = await claims();
    assert.ok(old, 'a NodeClaim');
    assert.equal(old.status.nodeName, first.nodeName);
    const bound = await eventually('lastPodEventTime written for the pod bound there', async () =>
      (await claims()).find((c) => c.metadata.uid === old.metadata.uid)?.status.lastPodEventTime, 30_000);
    assert.ok(Date.parse(bound) <= Date.now());

    // The watcher stamps the NodePool; NodeClaims carry the hash of the template they were made from.
    const stamped = await eventually('the NodePool hash stamped', async () => {
      const pool = parseNodePool(await kube().get(clusterPath(NODEPOOL_GVR, POOL)));
      return pool.metadata.annotations?.[ANNOTATION_NODEPOOL_HASH] ? pool : undefined;
    });
    const wanted = nodePoolHashAnnotations(stamped);
    assert.equal(stamped.metadata.annotations?.[ANNOTATION_NODEPOOL_HASH], wanted[ANNOTATION_NODEPOOL_HASH]);
    if (old.metadata.annotations?.[ANNOTATION_NODEPOOL_HASH] === undefined) {
      // Until the provisioner stamps its NodeClaims itself (nodePoolHashAnnotations), stamp this one as it will.
      await kube().patch(clusterPath(NODECLAIM_GVR, old.metadata.name), { metadata: { annotations: wanted } });
    }
    assert.equal((await claims())[0]?.metadata.annotations?.[ANNOTATION_NODEPOOL_HASH], wanted[ANNOTATION_NODEPOOL_HASH]);

    await kube().patch(clusterPath(NODEPOOL_GVR, POOL), { spec: { template: { metadata: { labels: { 'example.com/team': 'research' } } } } });
    const drifted = await eventually('the old NodeClaim Drifted', async () => {
      const nc = (await claims()).find((c) => c.metadata.uid === old.metadata.uid);
      return conditionOf(nc, 'Drifted')?.status === 'True' ? conditionOf(nc, 'Drifted') : undefined;
    }, 30_000);
    assert.equal(drifted.reason, 'NodePoolDrifted');

    const moved = await eventually('the pod Running on a new node, the old NodeClaim gone', async () => {
      const all = await claims();
      const pod = await runningPod();
      if (!pod || all.some((c) => c.metadata.uid === old.metadata.uid)) return undefined;
      const replacement = all.find((c) => c.status.nodeName === pod.nodeName);
      return replacement ? { pod, replacement } : undefined;
    }, 120_000);
    assert.notEqual(moved.pod.nodeName, first.nodeName);
    assert.equal(moved.replacement.metadata.labels?.['example.com/team'], 'research', 'made from the new template');
    assert.equal(conditionOf(moved.replacement, 'Drifted'), undefined, 'the replacement is not drifted');
    const events = await kube().get<{ items: { reason: string; involvedObject: { kind: string } }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${old.metadata.name}`)}`);
    assert.ok(events.items.some((e) => e.involvedObject.kind === 'NodeClaim' && e.reason === 'DisruptionDrifted'), 'the deletion is told on the NodeClaim');
  });
});
