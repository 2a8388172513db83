// Drift: the NodePool and ScalewayNodeClass hashes and their stability, the
// drift reasons of a NodeClaim, the Drifted condition, and drifted nodes going
// through the disruption pass (budgets, do-not-disrupt, PDBs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode, parsePod, type Node, type Pod } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, parseScalewayNodeClass, type NodeClaim, type NodePool, type ScalewayNodeClass } from '../../kube/api/schemas.ts';
import { findCondition } from '../../kube/api/conditions.ts';
import { nodeClassHash, nodeClassHashAnnotations, nodePoolHash, nodePoolHashAnnotations, NODEPOOL_HASH_VERSION } from '../../watcher/drift-hashes.ts';
import { driftOf } from '../../watcher/disruption/drift.ts';
import { withDisruptionConditions } from '../../watcher/disruption/conditions.ts';
import { decideDisruptions, type DisruptionInput } from '../../watcher/disruption/decide.ts';

const NOW = new Date('2026-03-02T10:00:00Z');
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const REF = { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' };
const GPU_REQUIREMENT = { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4', 'l40s'] };

function gpuPool(template: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown> } = {}, disruption: Record<string, unknown> = {}): NodePool {
  return parseNodePool({
    metadata: { name: 'gpu' },
    spec: {
      template: {
        metadata: { ...(template.labels ? { labels: template.labels } : {}), ...(template.annotations ? { annotations: template.annotations } : {}) },
        spec: { nodeClassRef: REF, requirements: [GPU_REQUIREMENT], ...template.spec },
      },
      disruption: { consolidateAfter: 'Never', budgets: [{ nodes: '100%' }], ...disruption },
    },
  });
}

function gpuClass(spec: Record<string, unknown> = {}): ScalewayNodeClass {
  return parseScalewayNodeClass({ metadata: { name: 'gpu' }, spec: { bootstrap: { mode: 'kubeadm' }, zones: ['fr-par-2'], ...spec } });
}

interface Made {
  /** The pool and class the NodeClaim was made from (their hashes are stamped). */
  pool?: NodePool | undefined;
  nodeClass?: ScalewayNodeClass | undefined;
  labels?: Record<string, string>;
  launched?: boolean;
  conditions?: unknown[];
  annotations?: Record<string, string>;
}

function madeClaim(name: string, o: Made = {}): NodeClaim {
  const launched = o.launched ?? true;
  return parseNodeClaim({
    metadata: {
      name,
      uid: `${name}-uid`,
      creationTimestamp: ago(120),
      labels: {
        'karpenter.sh/nodepool': 'gpu',
        'node.kubernetes.io/instance-type': 'L4-1-24G',
        'topology.kubernetes.io/zone': 'fr-par-2',
        'karpenter.scaleway.com/instance-gpu-name': 'l4',
        'karpenter.sh/capacity-type': 'on-demand',
        ...o.labels,
      },
      annotations: { ...(o.pool ? nodePoolHashAnnotations(o.pool) : {}), ...(o.nodeClass ? nodeClassHashAnnotations(o.nodeClass) : {}), ...o.annotations },
    },
    spec: { nodeClassRef: REF, requirements: [] },
    status: {
      providerID: `scaleway://instance/fr-par-2/${name}`,
      nodeName: name,
      conditions: o.conditions ?? [
        { type: 'Launched', status: launched ? 'True' : 'Unknown', lastTransitionTime: ago(100) },
        { type: 'Initialized', status: launched ? 'True' : 'Unknown', lastTransitionTime: ago(90) },
      ],
    },
  });
}

function readyNode(name: string): Node {
  return parseNode({
    metadata: { name, labels: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' } },
    spec: { providerID: `scaleway://instance/fr-par-2/${name}` },
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '7', memory: '40Gi', pods: '110', 'nvidia.com/gpu': '1' } },
  });
}

function workload(name: string, nodeName: string, extra: { annotations?: Record<string, string>; labels?: Record<string, string> } = {}): Pod {
  return parsePod({
    metadata: { name, namespace: 'ml', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid' }], ...extra },
    spec: { nodeName, containers: [{ name: 'main', resources: { requests: { cpu: '1', 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running' },
  });
}

describe('drift hashes', () => {
  it('hashes a NodePool template the same whatever the key order, taint order or spelled-out defaults', () => {
    const taints = [{ key: 'a', value: '1', effect: 'NoSchedule' }, { key: 'b', effect: 'NoExecute' }];
    const one = gpuPool({ labels: { team: 'ml', tier: 'gpu' }, spec: { taints } });
    const other = gpuPool({ labels: { tier: 'gpu', team: 'ml' }, annotations: {}, spec: { taints: [...taints].reverse(), expireAfter: '720h', startupTaints: [] } });
    assert.equal(nodePoolHash(one), nodePoolHash(other));
    assert.match(nodePoolHash(one), /^[0-9a-f]{16}$/);
  });

  it('changes the NodePool hash with labels, annotations, taints, expireAfter, terminationGracePeriod and nodeClassRef, not with requirements or disruption', () => {
    const base = nodePoolHash(gpuPool());
    for (const changed of [
      gpuPool({ labels: { team: 'ml' } }),
      gpuPool({ annotations: { note: 'x' } }),
      gpuPool({ spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] } }),
      gpuPool({ spec: { startupTaints: [{ key: 'init', effect: 'NoSchedule' }] } }),
      gpuPool({ spec: { expireAfter: '24h' } }),
      gpuPool({ spec: { terminationGracePeriod: '1h' } }),
      gpuPool({ spec: { nodeClassRef: { ...REF, name: 'other' } } }),
    ]) assert.notEqual(nodePoolHash(changed), base);
    assert.equal(nodePoolHash(gpuPool({ spec: { requirements: [] } })), base);
    assert.equal(nodePoolHash(gpuPool({}, { consolidateAfter: '1m', budgets: [{ nodes: '1' }] })), base);
    assert.deepEqual(Object.keys(nodePoolHashAnnotations(gpuPool())).sort(), ['karpenter.sh/nodepool-hash', 'karpenter.sh/nodepool-hash-version']);
    assert.equal(nodePoolHashAnnotations(gpuPool())['karpenter.sh/nodepool-hash-version'], NODEPOOL_HASH_VERSION);
  });

  it('hashes what a server was built with: not zones, timeouts, the token TTL or tag order', () => {
    const base = nodeClassHash(gpuClass({ tags: ['a', 'b'] }));
    assert.equal(nodeClassHash(gpuClass({ tags: ['b', 'a'], zones: ['fr-par-1', 'fr-par-2'], timeouts: { launch: '10m' }, bootstrap: { mode: 'kubeadm', kubeadm: { tokenTTL: '1h' } } })), base);
    for (const changed of [
      gpuClass({ tags: ['a', 'b', 'c'] }),
      gpuClass({ tags: ['a', 'b'], image: 'ubuntu_noble_gpu_os_13_nvidia' }),
      gpuClass({ tags: ['a', 'b'], userData: '#cloud-config\n' }),
      gpuClass({ tags: ['a', 'b'], kubelet: { maxPods: 50 } }),
      gpuClass({ tags: ['a', 'b'], bootstrap: { mode: 'kubeadm', kubeadm: { kubernetesVersion: 'v1.35.1' } } }),
    ]) assert.notEqual(nodeClassHash(changed), base);
    assert.deepEqual(Object.keys(nodeClassHashAnnotations(gpuClass())).sort(), ['karpenter.scaleway.com/nodeclass-hash', 'karpenter.scaleway.com/nodeclass-hash-version']);
  });
});

describe('drift reasons', () => {
  const pool = gpuPool({ labels: { team: 'ml' } });
  const nodeClass = gpuClass();

  it('is not drifted while the NodePool and NodeClass are as they were', () => {
    assert.equal(driftOf(madeClaim('a', { pool, nodeClass }), pool, nodeClass), undefined);
  });

  it('is NodePoolDrifted when the template changed, and only with a stamp of our hash version', () => {
    const changed = gpuPool({ labels: { team: 'research' } });
    const drift = driftOf(madeClaim('a', { pool, nodeClass }), changed, nodeClass);
    assert.equal(drift?.reason, 'NodePoolDrifted');
    assert.match(drift?.message ?? '', /NodePool gpu's template changed since the NodeClaim was made \(hash [0-9a-f]{16}, now [0-9a-f]{16}\)/);
    assert.equal(driftOf(madeClaim('by-hand'), changed, nodeClass), undefined, 'no stamp: never drifted by hash');
    const oldVersion = madeClaim('old', { pool, annotations: { 'karpenter.sh/nodepool-hash-version': 'v3' } });
    assert.equal(driftOf(oldVersion, changed, nodeClass), undefined, "upstream's hash version is not ours");
    assert.equal(driftOf(madeClaim('booting', { pool, launched: false }), changed, nodeClass), undefined, 'not launched: not drifted');
  });

  it('is RequirementsDrifted when its labels no longer satisfy the requirements, reading GPU and capacity-type names canonically', () => {
    const requiring = (...requirements: unknown[]): NodePool => gpuPool({ spec: { requirements } });
    const claim = madeClaim('a', { labels: { 'example.com/team': 'ml' } });
    const drift = driftOf(claim, requiring({ ...GPU_REQUIREMENT, values: ['l40s'] }), undefined);
    assert.deepEqual(drift, { reason: 'RequirementsDrifted', message: "NodePool gpu's requirements changed: label karpenter.scaleway.com/instance-gpu-name=l4 does not satisfy karpenter.scaleway.com/instance-gpu-name In [l40s]" });
    const h100 = madeClaim('h', { labels: { 'karpenter.scaleway.com/instance-gpu-name': 'h100-pcie' } });
    assert.equal(driftOf(h100, requiring({ ...GPU_REQUIREMENT, values: ['h100'] }, { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['scaleway-gpu'] }), undefined), undefined);
    assert.equal(driftOf(claim, requiring({ key: 'example.com/rack', operator: 'In', values: ['r1', 'r2'] }), undefined), undefined, 'a multi-valued custom key leaves no label to compare');
    assert.equal(driftOf(claim, requiring({ key: 'example.com/rack', operator: 'In', values: ['r1'] }), undefined)?.reason, 'RequirementsDrifted', 'a pinned key would have been labelled');
    assert.equal(driftOf(claim, requiring({ key: 'example.com/team', operator: 'NotIn', values: ['ml'] }), undefined)?.reason, 'RequirementsDrifted');
    assert.equal(driftOf(claim, requiring({ key: 'karpenter.scaleway.com/instance-gpu-count', operator: 'Gt', values: ['1'] }), undefined)?.reason, 'RequirementsDrifted', 'a well-known label it lacks');
  });

  it('is NodeClassDrifted when the NodeClass changed or its zone left the NodeClass, only with a stamp', () => {
    const claim = madeClaim('a', { pool, nodeClass });
    assert.deepEqual(driftOf(claim, pool, gpuClass({ zones: ['fr-par-1'] })), { reason: 'NodeClassDrifted', message: "zone fr-par-2 is no longer one of ScalewayNodeClass gpu's zones (fr-par-1)" });
    assert.equal(driftOf(claim, pool, gpuClass({ zones: ['fr-par-1', 'fr-par-2'] })), undefined, 'a zone added drifts nothing');
    assert.equal(driftOf(claim, pool, gpuClass({ image: 'ubuntu_noble_gpu_os_13_nvidia' }))?.reason, 'NodeClassDrifted');
    assert.equal(driftOf(madeClaim('by-hand', { pool }), pool, gpuClass({ image: 'ubuntu_noble_gpu_os_13_nvidia', zones: ['fr-par-1'] })), undefined);
  });

  it('sets Drifted with the reason, and removes it once no longer drifted', () => {
    const claim = madeClaim('a', { pool, nodeClass });
    const changed = gpuPool({ labels: { team: 'research' } });
    const drifted = withDisruptionConditions(claim, changed, nodeClass, NOW);
    assert.deepEqual(
      (({ status, reason, lastTransitionTime }) => ({ status, reason, lastTransitionTime }))(findCondition(drifted, 'Drifted')!),
      { status: 'True', reason: 'NodePoolDrifted', lastTransitionTime: '2026-03-02T10:00:00Z' },
    );
    const reverted = withDisruptionConditions({ ...claim, status: { ...claim.status, conditions: drifted } }, pool, nodeClass, NOW);
    assert.equal(findCondition(reverted, 'Drifted'), undefined);
  });
});

describe('drifted nodes in the disruption pass', () => {
  const made = gpuPool();
  const nodeClass = gpuClass();
  const changed = (budgets: unknown[] = [{ nodes: '100%' }]): NodePool => gpuPool({ labels: { team: 'ml' } }, { budgets });
  const input = (over: Partial<DisruptionInput> = {}): DisruptionInput => ({
    nodePools: [changed()],
    nodeClasses: [nodeClass],
    nodeClaims: [madeClaim('a', { pool: made, nodeClass }), madeClaim('b', { pool: made, nodeClass })],
    nodes: [readyNode('a'), readyNode('b')],
    pods: [workload('train', 'a')],
    now: NOW,
    ...over,
  });

  it('deletes drifted NodeClaims, busy or not, and writes their Drifted condition in the same pass', () => {
    const plan = decideDisruptions(input());
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason]), [['a', 'Drifted'], ['b', 'Drifted']]);
    assert.match(plan.decisions[0]!.message, /^NodePoolDrifted: NodePool gpu's template changed/);
    assert.deepEqual(plan.conditions.map((c) => [c.nodeClaim.metadata.name, findCondition(c.conditions, 'Drifted')?.reason]), [['a', 'NodePoolDrifted'], ['b', 'NodePoolDrifted']]);
  });

  it('leaves NodeClaims without a stamp alone', () => {
    const plan = decideDisruptions(input({ nodeClaims: [madeClaim('a'), madeClaim('b')] }));
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.conditions, []);
  });

  it('keeps to the Drifted budget, the longest drifted first', () => {
    const driftedAt = (minutes: number): unknown[] => [
      { type: 'Launched', status: 'True', lastTransitionTime: ago(100) },
      { type: 'Initialized', status: 'True', lastTransitionTime: ago(90) },
      { type: 'Drifted', status: 'True', reason: 'NodePoolDrifted', lastTransitionTime: ago(minutes) },
    ];
    const nodeClaims = [madeClaim('a', { pool: made, nodeClass, conditions: driftedAt(5) }), madeClaim('b', { pool: made, nodeClass, conditions: driftedAt(30) })];
    const plan = decideDisruptions(input({ nodeClaims, nodePools: [changed([{ nodes: '1', reasons: ['Drifted'] }, { nodes: '0', reasons: ['Empty'] }])] }));
    assert.deepEqual(plan.decisions.map((d) => d.nodeClaim.metadata.name), ['b']);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.reason, b.blocker]), [['a', 'Drifted', 'Budget']]);
  });

  it('is held by do-not-disrupt and by a PodDisruptionBudget', () => {
    const dnd = decideDisruptions(input({ pods: [workload('train', 'a', { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })] }));
    assert.deepEqual(dnd.decisions.map((d) => d.nodeClaim.metadata.name), ['b']);
    assert.deepEqual(dnd.blocked.map((b) => [b.nodeClaim.metadata.name, b.blocker, b.message]), [['a', 'DoNotDisrupt', 'pod ml/train has karpenter.sh/do-not-disrupt=true']]);
    const pdb = { metadata: { name: 'train', namespace: 'ml' }, spec: { selector: { matchLabels: { app: 'train' } } }, status: { disruptionsAllowed: 0 } };
    const held = decideDisruptions(input({ pods: [workload('train', 'a', { labels: { app: 'train' } })], pdbs: [pdb] }));
    assert.deepEqual(held.blocked.map((b) => [b.nodeClaim.metadata.name, b.blocker]), [['a', 'PodDisruptionBudget']]);
  });
});
