// The autoscaling loop on the real stack: pending pods (marked Unschedulable by
// the real kube-scheduler) become NodeClaims of a NodePool, the workflows make
// nodes, the scheduler binds the pods; emptied nodes go away after
// consolidateAfter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { type NodeClaim } from '../../kube/api/schemas.ts';
import { eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';
import { gpuPod } from './fixtures/pods.ts';

const example = (file: string): Record<string, unknown> => parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

interface PodStatus { spec: { nodeName?: string }; status: { phase?: string } }

describe('autoscaling: pending pods in, cost-optimal NodeClaims out, empty nodes out again', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const claimsOf = async (pool: string): Promise<NodeClaim[]> =>
    nodeClaimsOfPool(kube(), pool);
  const pod = (name: string, gpus: string, nodeSelector: Record<string, string>, annotations: Record<string, string> = {}): Record<string, unknown> =>
    gpuPod(name, { gpus, nodeSelector, annotations });
  const eventsOf = async (kind: string, name: string): Promise<{ reason: string; message: string }[]> =>
    (await kube().get<{ items: { reason: string; message: string; involvedObject: { kind: string } }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items.filter((e) => e.involvedObject.kind === kind);

  before(async () => {
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000, disruptionIntervalMs: 500 } } });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    const pool = example('nodepool-gpu.yaml') as { spec: { disruption: Record<string, string> } };
    pool.spec.disruption.consolidateAfter = '5s'; // the example's 30 s, shortened for the test
    await kube().post(clusterPath(NODEPOOL_GVR), pool);
  });

  it("runs the seed's GPU test pod on the cheapest L4 node, then removes the node once the pod is gone", async () => {
    await kube().post('/api/v1/namespaces/default/pods', example('pod-gpu-l4.yaml'));
    const running = await eventually('gpu-test Running', async () => {
      const p = await kube().get<PodStatus>('/api/v1/namespaces/default/pods/gpu-test');
      return p.status.phase === 'Running' && p.spec.nodeName ? p : undefined;
    }, 120_000);
    const claims = await claimsOf('scaleway-gpu');
    assert.equal(claims.length, 1, 'one NodeClaim');
    const [claim] = claims;
    assert.equal(claim?.status.nodeName, running.spec.nodeName);
    assert.equal(claim?.metadata.labels?.['node.kubernetes.io/instance-type'], 'L4-1-24G');
    const types = claim?.spec.requirements.find((r) => r.key === 'node.kubernetes.io/instance-type')?.values ?? [];
    assert.equal(types[0], 'L4-1-24G', 'fallback types in price order, cheapest first');
    assert.ok((await eventsOf('Pod', 'gpu-test')).some((e) => e.reason === 'Nominated' && e.message.includes(claim?.metadata.name ?? '?')));

    const uid = claim?.metadata.uid ?? '';
    await kube().delete('/api/v1/namespaces/default/pods/gpu-test', { gracePeriodSeconds: 0 });
    const goneAt = Date.now();
    await eventually('the empty node removed', async () => ((await claimsOf('scaleway-gpu')).length === 0 ? true : undefined), 90_000);
    assert.ok(Date.now() - goneAt >= 5_000, 'not before consolidateAfter');
    assert.equal(stack.simulator.servers().filter((s) => (s.tags as string[]).includes(`karpenter.scaleway.com/nodeclaim-uid=${uid}`)).length, 0, 'server released');
  });

  it('provisions once for a burst of GPU pods, never again for the same pods while their nodes launch', async () => {
    for (const name of ['burst-1', 'burst-2', 'burst-3']) await kube().post('/api/v1/namespaces/default/pods', pod(name, '1', { 'karpenter.scaleway.com/instance-gpu-name': 'l4' }));
    await eventually('the burst Running', async () => {
      const phases = await Promise.all(['burst-1', 'burst-2', 'burst-3'].map(async (n) => (await kube().get<PodStatus>(`/api/v1/namespaces/default/pods/${n}`)).status.phase));
      return phases.every((p) => p === 'Running') ? true : undefined;
    }, 120_000);
    const claims = await claimsOf('scaleway-gpu');
    const gpus = claims.reduce((sum, c) => sum + Number(c.status.capacity?.['nvidia.com/gpu'] ?? 0), 0);
    assert.ok(gpus >= 3 && gpus <= 4, `GPUs provisioned for 3 one-GPU pods: ${gpus} on ${claims.map((c) => c.metadata.labels?.['node.kubernetes.io/instance-type']).join(', ')}`);
    for (const n of ['burst-1', 'burst-2', 'burst-3']) await kube().delete(`/api/v1/namespaces/default/pods/${n}`, { gracePeriodSeconds: 0 });
    await eventually('the burst nodes removed', async () => ((await claimsOf('scaleway-gpu')).length === 0 ? true : undefined), 90_000);
  });

  it('makes separate NodeClaims for pods pinned to L40S and to L4', async () => {
    await kube().post('/api/v1/namespaces/default/pods', pod('pin-l40s', '1', { 'karpenter.scaleway.com/instance-gpu-name': 'l40s' }));
    await kube().post('/api/v1/namespaces/default/pods', pod('pin-l4', '1', { 'karpenter.sh/instance-type': 'l4' }));
    const nodes = await eventually('both pinned pods Running', async () => {
      const pods = await Promise.all(['pin-l40s', 'pin-l4'].map((n) => kube().get<PodStatus>(`/api/v1/namespaces/default/pods/${n}`)));
      return pods.every((p) => p.status.phase === 'Running') ? pods.map((p) => p.spec.nodeName ?? '') : undefined;
    }, 120_000);
    assert.notEqual(nodes[0], nodes[1], 'two nodes');
    const claims = await claimsOf('scaleway-gpu');
    const gpuOf = (node: string): string | undefined => claims.find((c) => c.status.nodeName === node)?.metadata.labels?.['karpenter.scaleway.com/instance-gpu-name'];
    assert.equal(gpuOf(nodes[0] ?? ''), 'l40s');
    assert.equal(gpuOf(nodes[1] ?? ''), 'l4');
    for (const n of ['pin-l40s', 'pin-l4']) await kube().delete(`/api/v1/namespaces/default/pods/${n}`, { gracePeriodSeconds: 0 });
    await eventually('the pinned nodes removed', async () => ((await claimsOf('scaleway-gpu')).length === 0 ? true : undefined), 90_000);
  });

  it('keeps an empty node annotated karpenter.sh/do-not-disrupt, and removes it once the annotation goes', async () => {
    await kube().post('/api/v1/namespaces/default/pods', pod('held', '1', { 'karpenter.scaleway.com/instance-gpu-name': 'l4' }));
    const nodeName = await eventually('held Running', async () => {
      const p = await kube().get<PodStatus>('/api/v1/namespaces/default/pods/held');
      return p.status.phase === 'Running' ? p.spec.nodeName : undefined;
    }, 120_000);
    await kube().patch(`/api/v1/nodes/${nodeName}`, { metadata: { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } } });
    await kube().delete('/api/v1/namespaces/default/pods/held', { gracePeriodSeconds: 0 });
    await new Promise((r) => setTimeout(r, 9_000)); // consolidateAfter (5 s) and then some
    assert.equal((await claimsOf('scaleway-gpu')).length, 1, 'the node is held');
    const [held] = await claimsOf('scaleway-gpu');
    assert.ok((await eventsOf('NodeClaim', held?.metadata.name ?? '')).some((e) => e.reason === 'DisruptionBlocked' && /do-not-disrupt/.test(e.message)), 'the hold is told on the NodeClaim');
    await kube().patch(`/api/v1/nodes/${nodeName}`, { metadata: { annotations: { 'karpenter.sh/do-not-disrupt': null } } });
    await eventually('the node removed once released', async () => ((await claimsOf('scaleway-gpu')).length === 0 ? true : undefined), 90_000);
  });

  it('stops at the NodePool limit: the pod over it stays pending with an Event, nothing past the limit', async () => {
    // The example pool allows 8 GPUs: two 4-GPU pods fit, the third does not.
    const big = (name: string): Record<string, unknown> => pod(name, '4', { 'karpenter.scaleway.com/instance-gpu-name': 'l4' });
    for (const name of ['big-1', 'big-2', 'big-3']) await kube().post('/api/v1/namespaces/default/pods', big(name));
    const warning = await eventually('an Event on the pod over the limit', async () => {
      for (const name of ['big-1', 'big-2', 'big-3']) {
        const e = (await eventsOf('Pod', name)).find((ev) => ev.reason === 'FailedScheduling' && /limit/i.test(ev.message));
        if (e) return e;
      }
      return undefined;
    }, 60_000);
    assert.match(warning.message, /limit/i);
    await new Promise((r) => setTimeout(r, 3_000));
    const claims = await claimsOf('scaleway-gpu');
    const planned = claims.reduce((sum, c) => sum + Number(c.spec.resources.requests['nvidia.com/gpu'] ?? 0), 0);
    assert.equal(planned, 8, `GPUs requested across NodeClaims: ${planned}`);
    assert.ok((await eventsOf('NodePool', 'scaleway-gpu')).some((e) => e.reason === 'LimitReached'), 'the NodePool says its limit was reached');
  });
});
