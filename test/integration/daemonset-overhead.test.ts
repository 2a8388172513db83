// DaemonSet overhead on the real stack: the watcher's DaemonSet informer feeds
// the planner, so a new GPU node is sized for the pending pod and for the
// DaemonSets that will run on it (those that tolerate the NodePool's taint),
// and the real DaemonSet controller and scheduler then put both there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_NOMINATED_PODS, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { type NodeClaim } from '../../kube/api/schemas.ts';
import { parseQuantity } from '../../kube/quantity.ts';
import { eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';
import { NODEPOOL_TOLERATION, gpuPod } from './fixtures/pods.ts';

const POOL = 'scaleway-gpu';
/** Fits the 7.91 allocatable CPUs of an L4-1-24G alone, not with a 2-CPU DaemonSet beside it. */
const POD_CPU = 6;
const DAEMON_CPU = 2;

interface PodView { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] }; spec: { nodeName?: string }; status: { phase?: string } }

describe('DaemonSet overhead: a new node holds the pending pod and the DaemonSets that run on it', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const claims = (): Promise<NodeClaim[]> => nodeClaimsOfPool(kube(), POOL);
  const trainPod = (name: string): Record<string, unknown> => gpuPod(name, { cpu: String(POD_CPU), memory: '4Gi' });
  const daemonSet = (name: string, cpu: number, tolerations: unknown[]): Record<string, unknown> => ({
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { tolerations, containers: [{ name: 'agent', image: 'registry.invalid/agent:1', resources: { requests: { cpu: String(cpu), memory: '512Mi' } } }] },
      },
    },
  });
  const podsOn = async (namespace: string, nodeName: string): Promise<PodView[]> =>
    (await kube().get<{ items: PodView[] }>(`/api/v1/namespaces/${namespace}/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`)).items;
  const claimFor = async (podName: string): Promise<NodeClaim> =>
    eventually(`a NodeClaim nominated for ${podName}`, async () => (await claims()).find((c) => (c.metadata.annotations?.[ANNOTATION_NOMINATED_PODS] ?? '').split(',').includes(`default/${podName}`)), 60_000);
  /** The type the planner chose: the first of the NodeClaim's fallback types, in price order (the label comes at launch). */
  const plannedType = (c: NodeClaim): string | undefined => c.spec.requirements.find((r) => r.key === 'node.kubernetes.io/instance-type')?.values?.[0];
  const removeAndWaitEmpty = async (podName: string): Promise<void> => {
    await kube().delete(`/api/v1/namespaces/default/pods/${podName}`, { gracePeriodSeconds: 0 });
    await eventually('the emptied node removed', async () => ((await claims()).length === 0 ? true : undefined), 90_000);
  };

  before(async () => {
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000, disruptionIntervalMs: 500 } } });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    const pool = parseYaml(readFileSync(new URL('../../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')) as { spec: { disruption: Record<string, string> } };
    pool.spec.disruption.consolidateAfter = '5s'; // the example's 30 s, shortened for the test
    await kube().post(clusterPath(NODEPOOL_GVR), pool);
    // Runs on no GPU node (it does not tolerate their taint): it must not make them bigger.
    await kube().post('/apis/apps/v1/namespaces/kube-system/daemonsets', daemonSet('log-agent', 4, []));
  });

  it('adds nothing for a DaemonSet that does not tolerate the NodePool taint', async () => {
    await kube().post('/api/v1/namespaces/default/pods', trainPod('plain'));
    const claim = await claimFor('plain');
    assert.equal(plannedType(claim), 'L4-1-24G', 'the cheapest L4 holds the pod alone');
    assert.equal(parseQuantity(claim.spec.resources.requests.cpu ?? '0'), POD_CPU, 'requests: the pod only');
    await removeAndWaitEmpty('plain');
  });

  it('sizes the node for the pod plus a DaemonSet that tolerates the taint, and both run there', async () => {
    await kube().post('/apis/apps/v1/namespaces/kube-system/daemonsets', daemonSet('gpu-agent', DAEMON_CPU, [NODEPOOL_TOLERATION]));
    await kube().post('/api/v1/namespaces/default/pods', trainPod('train'));
    const claim = await claimFor('train');
    // L4-1-24G (8 vCPUs, 7.91 allocatable) cannot hold 6 + 2 CPUs; L4-2-24G is the next GPU type with room.
    assert.equal(plannedType(claim), 'L4-2-24G');
    assert.equal(parseQuantity(claim.spec.resources.requests.cpu ?? '0'), POD_CPU + DAEMON_CPU, 'requests: the pod and gpu-agent, not log-agent');
    assert.equal(claim.spec.resources.requests.pods, '2');

    const nodeName = await eventually('train Running', async () => {
      const p = await kube().get<PodView>('/api/v1/namespaces/default/pods/train');
      return p.status.phase === 'Running' ? p.spec.nodeName : undefined;
    }, 120_000);
    const launched = await eventually('the NodeClaim allocatable', async () => {
      const c = (await claims()).find((x) => x.metadata.name === claim.metadata.name);
      return c?.status.allocatable ? c : undefined;
    });
    assert.equal(launched.metadata.labels?.['node.kubernetes.io/instance-type'], 'L4-2-24G', 'launched as planned');
    assert.ok(parseQuantity(launched.status.allocatable?.cpu ?? '0') >= POD_CPU + DAEMON_CPU, `allocatable cpu ${launched.status.allocatable?.cpu} holds ${POD_CPU} + ${DAEMON_CPU}`);
    const agents = await eventually('gpu-agent Running on the node', async () => {
      const here = await podsOn('kube-system', nodeName ?? '');
      return here.some((p) => p.metadata.ownerReferences?.some((o) => o.name === 'gpu-agent') && p.status.phase === 'Running') ? here : undefined;
    });
    assert.ok(!agents.some((p) => p.metadata.ownerReferences?.some((o) => o.name === 'log-agent')), 'log-agent does not run on the GPU node');
    await removeAndWaitEmpty('train');
  });
});
