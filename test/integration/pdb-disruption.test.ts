// PodDisruptionBudgets on the real stack: the watcher's PDB informer feeds the
// disruption loop, so an underutilized node whose pod could move elsewhere is
// kept while a budget (its status kept by the real kube-controller-manager)
// allows no disruption, with Karpenter's DisruptionBlocked Event on the
// NodeClaim and the Node, and consolidated once the budget is gone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { type NodeClaim } from '../../kube/api/schemas.ts';
import { eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';

const POOL = 'scaleway-gpu';
const DISRUPTION_INTERVAL_MS = 500;
const CONSOLIDATE_AFTER_S = 5;
const GPU_TOLERATION = { key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' };
const PDB_PATH = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';

interface PodView { metadata: { name: string; labels?: Record<string, string> }; spec: { nodeName?: string }; status: { phase?: string } }

describe('PodDisruptionBudgets hold consolidation of a node whose pods they cannot spare', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const claims = (): Promise<NodeClaim[]> => nodeClaimsOfPool(kube(), POOL);
  const podSpec = (cpu: string): Record<string, unknown> => ({
    tolerations: [GPU_TOLERATION],
    nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' },
    containers: [{ name: 'c', image: 'registry.invalid/serve:1', resources: { requests: { cpu, memory: '1Gi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }],
  });
  const runningPods = async (selector: string): Promise<PodView[]> =>
    (await kube().get<{ items: PodView[] }>(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`)).items.filter((p) => p.status.phase === 'Running' && p.spec.nodeName);
  const eventsOf = async (kind: string, name: string): Promise<{ reason: string; message: string }[]> =>
    (await kube().get<{ items: { reason: string; message: string; involvedObject: { kind: string } }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items.filter((e) => e.involvedObject.kind === kind);

  before(async () => {
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000, disruptionIntervalMs: DISRUPTION_INTERVAL_MS } } });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    const pool = parseYaml(readFileSync(new URL('../../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')) as { spec: { disruption: Record<string, string> } };
    pool.spec.disruption.consolidationPolicy = 'WhenEmptyOrUnderutilized';
    pool.spec.disruption.consolidateAfter = `${CONSOLIDATE_AFTER_S}s`; // shortened for the test
    await kube().post(clusterPath(NODEPOOL_GVR), pool);
  });

  it('keeps the node while the budget allows no disruption, and consolidates it once the budget is deleted', async () => {
    // The budget first: serve's one replica may never be evicted.
    await kube().post(PDB_PATH, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'serve' }, spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'serve' } } } });
    await kube().post('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'serve' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'serve' } }, template: { metadata: { labels: { app: 'serve' } }, spec: { ...podSpec('500m'), terminationGracePeriodSeconds: 0 } } },
    });
    // serve gets the cheapest L4 node (one GPU).
    const [servePod] = await eventually('serve Running', async () => ((await runningPods('app=serve')).length === 1 ? runningPods('app=serve') : undefined), 120_000);
    const small = servePod?.spec.nodeName ?? '';
    // big needs 10 CPUs: a two-GPU L4-2-24G, which keeps one GPU free — room for serve.
    await kube().post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', labels: { app: 'big' } }, spec: podSpec('10') });
    const [bigPod] = await eventually('big Running', async () => ((await runningPods('app=big')).length === 1 ? runningPods('app=big') : undefined), 120_000);
    const large = bigPod?.spec.nodeName ?? '';
    assert.notEqual(large, small, 'two nodes');
    const budget = await kube().get<{ status?: { disruptionsAllowed?: number } }>(`${PDB_PATH}/serve`);
    assert.equal(budget.status?.disruptionsAllowed, 0, 'kube-controller-manager keeps the budget at 0');
    const claimOf = async (nodeName: string): Promise<NodeClaim | undefined> => (await claims()).find((c) => c.status.nodeName === nodeName);
    const held = await claimOf(small);
    assert.ok(held, `the NodeClaim of ${small}`);

    // Underutilized and movable (the large node has a free GPU), but the budget says no: Karpenter's Event on both objects.
    const blocked = await eventually('DisruptionBlocked on the NodeClaim', async () =>
      (await eventsOf('NodeClaim', held.metadata.name)).find((e) => e.reason === 'DisruptionBlocked' && e.message.startsWith('Pdb prevents pod evictions (PodDisruptionBudget=[default/serve])')), 60_000);
    assert.match(blocked.message, /Underutilized/);
    assert.ok((await eventsOf('Node', small)).some((e) => e.reason === 'DisruptionBlocked' && e.message === blocked.message), 'told on the Node too');
    // Held over consolidateAfter and many passes more.
    await sleep(CONSOLIDATE_AFTER_S * 1000 + 10 * DISRUPTION_INTERVAL_MS);
    const still = await claimOf(small);
    assert.equal(still?.metadata.uid, held.metadata.uid, 'the node is kept while the budget holds');
    assert.equal(still?.metadata.deletionTimestamp, undefined);
    assert.equal((await runningPods('app=serve'))[0]?.spec.nodeName, small, 'serve was not evicted');

    // The large node's pod fits nowhere else: told as Unconsolidatable, as Karpenter does.
    const largeClaim = await claimOf(large);
    assert.ok((await eventsOf('NodeClaim', largeClaim?.metadata.name ?? '')).some((e) => e.reason === 'Unconsolidatable' && /default\/big fits on no other node/.test(e.message)));

    await kube().delete(`${PDB_PATH}/serve`);
    await eventually('the small node consolidated', async () => ((await claims()).some((c) => c.metadata.uid === held.metadata.uid) ? undefined : true), 90_000);
    const [moved] = await eventually('serve Running again', async () => ((await runningPods('app=serve')).length === 1 ? runningPods('app=serve') : undefined), 90_000);
    assert.equal(moved?.spec.nodeName, large, 'serve moved to the free GPU of the large node');
    assert.deepEqual((await claims()).map((c) => c.status.nodeName), [large], 'no new node was bought for it');
    assert.ok((await eventsOf('NodeClaim', held.metadata.name)).some((e) => e.reason === 'DisruptionUnderutilized'), 'deleted as underutilized');
  });
});
