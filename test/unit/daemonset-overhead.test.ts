// DaemonSet overhead of a new node of a NodePool, from apps/v1 DaemonSet
// objects as the apiserver returns them, and what it does to the plan.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode, parsePod } from '../../kube/api/core.ts';
import { daemonSetOverhead, daemonSetPod, daemonSetsStillToCome, runsOnPool } from '../../watcher/provisioner/daemonset-overhead.ts';
import { existingFromNode, plan } from '../../watcher/provisioner/planner.ts';
import { subtractResources, toAmounts } from '../../watcher/provisioner/pod-requests.ts';
import { catalogOffers, nodePool, planPool, pod, type PoolSpec } from './planner-fixtures.ts';

const GPU_TAINT = { key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' };
const GPU_POOL: PoolSpec = {
  name: 'gpu',
  requirements: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4', 'l40s'] }],
  taints: [GPU_TAINT],
  startupTaints: [{ key: 'example.com/agent-not-ready', effect: 'NoExecute' }],
  labels: { team: 'ml' },
};

interface DaemonSetSpec {
  requests?: Record<string, string>;
  tolerations?: unknown[];
  nodeSelector?: Record<string, string>;
  affinity?: unknown;
  initContainers?: unknown[];
  deleting?: boolean;
}

/** An apps/v1 DaemonSet as listed by the apiserver (status and defaults included). */
function daemonSet(name: string, o: DaemonSetSpec = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'kube-system', uid: `${name}-uid`, generation: 1, ...(o.deleting ? { deletionTimestamp: '2026-12-02T10:00:00Z' } : {}) },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: { labels: { app: name }, creationTimestamp: null },
        spec: {
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.affinity ? { affinity: o.affinity } : {}),
          tolerations: o.tolerations ?? [],
          ...(o.initContainers ? { initContainers: o.initContainers } : {}),
          containers: [{ name: 'agent', image: 'registry.invalid/agent:1', resources: { requests: o.requests ?? { cpu: '2', memory: '1Gi' } }, terminationMessagePolicy: 'File' }],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
        },
      },
    },
    status: { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberMisscheduled: 0, numberReady: 3 },
  };
}

const TOLERATES_GPU = [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }];
const podOf = (raw: Record<string, unknown>) => {
  const p = daemonSetPod(raw);
  assert.ok(p, 'the DaemonSet reads as a pod');
  return p;
};
const overheadOf = (...sets: Record<string, unknown>[]) => daemonSetOverhead(nodePool(GPU_POOL), sets.map(podOf));

describe('DaemonSet overhead of a NodePool', () => {
  it("counts a DaemonSet that tolerates the pool's taint, with one pod slot, and not one that does not", () => {
    const counted = overheadOf(daemonSet('gpu-agent', { tolerations: TOLERATES_GPU }));
    assert.equal(counted.cpu, 2);
    assert.equal(counted.memory, 2 ** 30);
    assert.equal(counted.pods, 1);
    assert.deepEqual(overheadOf(daemonSet('log-agent')), { cpu: 0, memory: 0, gpu: 0, pods: 0, ephemeralStorage: 0 });
    // A toleration of every taint (empty key, Exists) is what most node agents carry.
    assert.equal(overheadOf(daemonSet('everywhere', { tolerations: [{ operator: 'Exists' }] }), daemonSet('log-agent')).cpu, 2);
  });

  it('sums the DaemonSets that run there, each at its effective request (init containers at their peak)', () => {
    const withInit = daemonSet('with-init', {
      tolerations: TOLERATES_GPU,
      requests: { cpu: '500m' },
      initContainers: [{ name: 'setup', image: 'registry.invalid/setup:1', resources: { requests: { cpu: '1500m', memory: '2Gi' } } }],
    });
    const total = overheadOf(daemonSet('gpu-agent', { tolerations: TOLERATES_GPU }), withInit);
    assert.equal(total.cpu, 2 + 1.5);
    assert.equal(total.memory, 2 ** 30 + 2 * 2 ** 30);
    assert.equal(total.pods, 2);
  });

  it('ignores startup taints (they go away) and tolerates the taints the DaemonSet controller adds itself', () => {
    const pool = nodePool({ ...GPU_POOL, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] });
    assert.equal(runsOnPool(pool, podOf(daemonSet('plain'))), true);
  });

  it("matches nodeSelector and required node affinity against the pool's requirements and labels", () => {
    const pool = nodePool(GPU_POOL);
    const runs = (o: DaemonSetSpec): boolean => runsOnPool(pool, podOf(daemonSet('ds', { tolerations: TOLERATES_GPU, ...o })));
    assert.equal(runs({ nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' } }), true, 'a GPU name the pool allows');
    assert.equal(runs({ nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'h100-sxm' } }), false, 'a GPU name the pool excludes');
    assert.equal(runs({ nodeSelector: { team: 'ml' } }), true, "the pool's template label");
    assert.equal(runs({ nodeSelector: { team: 'web' } }), false, "another value of the pool's template label");
    assert.equal(runs({ nodeSelector: { 'kubernetes.io/arch': 'amd64' } }), true, 'a well-known label the pool leaves open');
    assert.equal(runs({ nodeSelector: { 'example.com/role': 'storage' } }), false, 'a label no node of the pool is known to carry');
    const terms = (...values: string[][]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: values.map((v) => ({ matchExpressions: [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: v }] })) } },
    });
    assert.equal(runs({ affinity: terms(['h100-sxm'], ['l40s']) }), true, 'one term of several is enough');
    assert.equal(runs({ affinity: terms(['h100-sxm']) }), false);
  });

  it('leaves out a DaemonSet being deleted and one whose template cannot be read', () => {
    assert.equal(daemonSetPod(daemonSet('gone', { deleting: true })), undefined);
    assert.equal(daemonSetPod({ metadata: { name: 'broken' }, spec: { template: { spec: { containers: [] } } } }), undefined);
  });
});

describe('DaemonSet overhead in the plan', () => {
  const offers = catalogOffers('fr-par-2');
  const gpuPod = pod({ name: 'train', requests: { 'nvidia.com/gpu': '1', cpu: '6', memory: '8Gi' }, tolerations: TOLERATES_GPU });
  const planned = (...sets: Record<string, unknown>[]) => {
    const result = plan({ pods: [gpuPod], nodePools: [{ ...planPool(GPU_POOL), daemonSetOverhead: daemonSetOverhead(nodePool(GPU_POOL), sets.map(podOf)) }], offers });
    assert.equal(result.nodeClaims.length, 1, JSON.stringify(result.podErrors));
    return result.nodeClaims[0]!;
  };

  it('sizes the node for the pod and the DaemonSets that run there', () => {
    // 6 CPUs fit an 8-vCPU L4-1-24G (7.91 allocatable); 6 + 2 do not, the next GPU type with room is L4-2-24G.
    assert.equal(planned().offering.commercialType, 'L4-1-24G');
    const sized = planned(daemonSet('gpu-agent', { tolerations: TOLERATES_GPU }));
    assert.equal(sized.offering.commercialType, 'L4-2-24G');
    assert.equal(sized.resources.requests.cpu, '8');
    assert.equal(sized.resources.requests.pods, '2');
  });

  it('adds nothing for a DaemonSet that does not tolerate the taint', () => {
    const unchanged = planned(daemonSet('log-agent', { requests: { cpu: '4' } }));
    assert.equal(unchanged.offering.commercialType, 'L4-1-24G');
    assert.equal(unchanged.resources.requests.cpu, '6');
  });
});

describe('DaemonSet pods still to come on an existing node', () => {
  const node = parseNode({
    metadata: { name: 'gpu-1', labels: { 'kubernetes.io/hostname': 'gpu-1', 'karpenter.sh/nodepool': 'gpu', 'karpenter.scaleway.com/instance-gpu-name': 'l4' } },
    // Just registered: the ephemeral taints do not keep DaemonSets off, the pool's taint does.
    spec: { providerID: 'scaleway://instance/fr-par-2/gpu-1', taints: [GPU_TAINT, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'karpenter.sh/unregistered', effect: 'NoExecute' }] },
    status: { allocatable: { cpu: '8', memory: '46Gi', pods: '110', 'nvidia.com/gpu': '1', 'ephemeral-storage': '90Gi' } },
  });
  const agentPod = (nodeName: string) => parsePod({
    metadata: { name: 'gpu-agent-x7k2p', namespace: 'kube-system', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'gpu-agent', uid: 'gpu-agent-uid', controller: true }] },
    spec: { nodeName, containers: [{ name: 'agent', resources: { requests: { cpu: '2', memory: '1Gi' } } }] },
    status: { phase: 'Running' },
  });
  const daemons = [daemonSet('gpu-agent', { tolerations: TOLERATES_GPU }), daemonSet('log-agent'), daemonSet('other-gpu', { tolerations: TOLERATES_GPU, nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'h100-sxm' } })].map(podOf);

  it('keeps room for the DaemonSets that will run there and have no pod there yet', () => {
    const entry = existingFromNode(node, []);
    const coming = daemonSetsStillToCome(entry, daemons, []);
    assert.equal(coming.cpu, 2, 'gpu-agent only: log-agent does not tolerate the taint, other-gpu selects another GPU');
    assert.equal(coming.pods, 1);
    assert.equal(daemonSetsStillToCome(entry, daemons, [agentPod('gpu-1')]).cpu, 0, 'nothing once its pod is bound there');
  });

  it('sends a pod that the DaemonSet will crowd out to a new node', () => {
    const train = pod({ name: 'train', requests: { 'nvidia.com/gpu': '1', cpu: '7' }, tolerations: TOLERATES_GPU });
    const entry = existingFromNode(node, []);
    const withRoom = plan({ pods: [train], nodePools: [planPool(GPU_POOL)], offers: catalogOffers('fr-par-2'), existing: [entry] });
    assert.deepEqual(withRoom.nominations.map((n) => n.name), ['gpu-1'], 'without DaemonSets the 8-CPU node takes the 7-CPU pod');
    const crowded = { ...entry, available: subtractResources(toAmounts(entry.available), daemonSetsStillToCome(entry, daemons, [])) };
    const result = plan({ pods: [train], nodePools: [planPool(GPU_POOL)], offers: catalogOffers('fr-par-2'), existing: [crowded] });
    assert.equal(result.nominations.find((n) => n.kind === 'Node'), undefined);
    assert.equal(result.nodeClaims.length, 1);
  });
});
