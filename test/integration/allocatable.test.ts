// The allocatable the planner assumes is the allocatable the node reports: on
// the real stack (control plane with kube-controller-manager and the
// scheduler, Temporal, the Scaleway simulator, the worker and the watcher),
// each NodeClaim's status.allocatable, written at launch from the planner's
// arithmetic, equals its Node's, which the simulated kubelet derives on its own
// from the kubelet configuration rendered into the server's cloud-init. Two
// instance types with Karpenter's default reservations, and NodeClasses with
// their own kubeReserved, systemReserved, evictionHard and maxPods, in the
// kubeadm, k3s and custom modes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { clusterPath, getNode } from '../../kube/objects.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseQuantity } from '../../kube/quantity.ts';
import type { Node } from '../../kube/api/core.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';

const INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
const TUNED_KUBELET = {
  maxPods: 64,
  kubeReserved: { cpu: '250m', memory: '1Gi' },
  systemReserved: { cpu: '150m', memory: '768Mi', 'ephemeral-storage': '4Gi' },
  evictionHard: { 'memory.available': '4%', 'nodefs.available': '8Gi' },
};

const amounts = (list: Readonly<Record<string, string>> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(list ?? {}).map(([k, v]) => [k, parseQuantity(v)]));

describe('a NodeClaim\'s allocatable equals its Node\'s', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;

  before(async () => {
    stack = await useProvisioningStack();
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('defaults'));
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('tuned', { kubelet: TUNED_KUBELET }));
    // The other modes hand the kubelet its settings as flags: k3s through --kubelet-arg, a custom template through {{ .KubeletArgs }}.
    await kube().post('/api/v1/namespaces/kube-system/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k3s-join', namespace: 'kube-system' }, stringData: { token: 'K10example::server:3f9c1d2e7a' },
    });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('k3s-tuned', {
      kubelet: TUNED_KUBELET,
      bootstrap: { mode: 'k3s', k3s: { serverURL: 'https://k3s.cluster.internal:6443', tokenSecretRef: { name: 'k3s-join', namespace: 'kube-system' } } },
    }));
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('custom', {
      bootstrap: { mode: 'custom', custom: { template: '#!/bin/sh\nset -e\n/opt/our-join.sh --node-name={{ .NodeName }} -- {{ .KubeletArgs }}\n' } },
    }));
  });

  /** Provisions a NodeClaim of one type to Ready; returns it with its Node. */
  async function provision(name: string, nodeClass: string, type: string): Promise<{ claim: NonNullable<Awaited<ReturnType<typeof getNodeClaim>>>; node: Node }> {
    await kube().post(clusterPath(NODECLAIM_GVR), nodeClaimObject(name, {
      nodeClass,
      requirements: [{ key: INSTANCE_TYPE, operator: 'In', values: [type] }],
      requests: { 'nvidia.com/gpu': '1', cpu: '1', memory: '2Gi' },
    }));
    const claim = await eventually(`${name} Ready`, async () => {
      const nc = await getNodeClaim(stack, name);
      if (conditionOf(nc, 'Launched')?.status === 'False') throw new Error(`launch failed: ${JSON.stringify(nc?.status.conditions)}`);
      return conditionOf(nc, 'Ready')?.status === 'True' ? nc : undefined;
    }, 120_000);
    assert.equal(claim.metadata.labels?.[INSTANCE_TYPE], type);
    const node = await getNode(kube(), claim.status.nodeName ?? '');
    assert.ok(node, `Node ${claim.status.nodeName} of ${name}`);
    return { claim, node };
  }

  for (const [name, nodeClass, type] of [['alloc-l4-1', 'defaults', 'L4-1-24G'], ['alloc-l4-2', 'defaults', 'L4-2-24G'], ['alloc-tuned', 'tuned', 'L4-1-24G'], ['alloc-k3s', 'k3s-tuned', 'L4-1-24G'], ['alloc-custom', 'custom', 'L4-2-24G']] as const) {
    it(`${type} on NodeClass ${nodeClass}: status.allocatable and capacity match the Node's, resource by resource`, async () => {
      const { claim, node } = await provision(name, nodeClass, type);
      assert.deepEqual(amounts(node.status.allocatable), amounts(claim.status.allocatable), 'allocatable');
      assert.deepEqual(amounts(node.status.capacity), amounts(claim.status.capacity), 'capacity');
      // Not capacity: the reservations are really there on both sides.
      const capacity = amounts(node.status.capacity);
      const allocatable = amounts(node.status.allocatable);
      assert.ok(allocatable.cpu! < capacity.cpu!, `cpu ${allocatable.cpu} < ${capacity.cpu}`);
      assert.ok(allocatable.memory! < capacity.memory!, 'memory below capacity');
      assert.ok(allocatable['ephemeral-storage']! < capacity['ephemeral-storage']!, 'ephemeral-storage below capacity');
    });
  }

  it('the tuned NodeClass\'s settings are what the node reports: 64 pods, 400m CPU reserved, 4% + 1Gi + 768Mi of memory, 13Gi of storage', async () => {
    const claim = await getNodeClaim(stack, 'alloc-tuned');
    const node = await getNode(kube(), claim?.status.nodeName ?? '');
    assert.ok(node);
    const capacity = amounts(node.status.capacity);
    const allocatable = amounts(node.status.allocatable);
    assert.equal(allocatable.pods, 64);
    assert.equal(Math.round((capacity.cpu! - allocatable.cpu!) * 1000), 400);
    // Reported in whole Ki, as the kubelet does.
    const reserved = 2 ** 30 + 768 * 2 ** 20 + Math.ceil(capacity.memory! * 0.04);
    assert.equal(allocatable.memory, Math.floor((capacity.memory! - reserved) / 1024) * 1024);
    // kubeReserved names no ephemeral-storage, so its 1Gi default stays; plus systemReserved 4Gi and nodefs.available 8Gi.
    assert.equal(capacity['ephemeral-storage']! - allocatable['ephemeral-storage']!, (1 + 4 + 8) * 2 ** 30);
  });

  it('the scheduler sees the reservations: on an 8-vCPU node (7.91 allocatable) a 6-CPU pod runs and a 2-CPU pod stays pending', async () => {
    const claim = await getNodeClaim(stack, 'alloc-l4-1');
    const nodeName = claim?.status.nodeName ?? '';
    const pod = (podName: string, cpu: string): Record<string, unknown> => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: podName },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': nodeName },
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'c', image: 'registry.invalid/app:1', resources: { requests: { cpu, memory: '1Gi' } } }],
      },
    });
    await kube().post('/api/v1/namespaces/default/pods', pod('six-cpus', '6'));
    await eventually('six-cpus bound', async () => ((await kube().get<{ spec: { nodeName?: string } }>('/api/v1/namespaces/default/pods/six-cpus')).spec.nodeName === nodeName ? true : undefined));
    await kube().post('/api/v1/namespaces/default/pods', pod('two-cpus', '2'));
    const reason = await eventually('two-cpus unschedulable', async () => {
      const p = await kube().get<{ spec: { nodeName?: string }; status: { conditions?: { type: string; status: string; message?: string }[] } }>('/api/v1/namespaces/default/pods/two-cpus');
      assert.equal(p.spec.nodeName, undefined, 'the 2-CPU pod must not be bound beside the 6-CPU one');
      const scheduled = p.status.conditions?.find((c) => c.type === 'PodScheduled');
      return scheduled?.status === 'False' ? scheduled.message ?? '' : undefined;
    });
    assert.match(reason, /Insufficient cpu/);
  });
});
