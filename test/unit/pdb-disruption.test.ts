// PodDisruptionBudgets as the watcher's cache holds them (policy/v1 objects
// with the status kube-controller-manager writes) in disruption decisions:
// voluntary disruption (underutilization, drift) keeps a node whose pods a
// budget cannot spare; expiration is forceful and does not look.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode, parsePod, type Node, type Pod } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, type NodeClaim, type NodePool } from '../../kube/api/schemas.ts';
import { decideDisruptions, type DisruptionPlan } from '../../watcher/disruption/decide.ts';
import { parsePodDisruptionBudget } from '../../watcher/disruption/pdbs.ts';
import type { PodDisruptionBudgetLike } from '../../watcher/disruption/blockers.ts';

const NOW = new Date('2026-12-02T10:00:00Z');
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const REF = { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' };

const POOL: NodePool = parseNodePool({
  apiVersion: 'karpenter.sh/v1', kind: 'NodePool', metadata: { name: 'gpu' },
  spec: { template: { spec: { nodeClassRef: REF, requirements: [] } }, disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '100%' }] } },
});

function claim(name: string, o: { expireAfter?: string; price?: number } = {}): NodeClaim {
  return parseNodeClaim({
    apiVersion: 'karpenter.sh/v1', kind: 'NodeClaim',
    metadata: { name, uid: `${name}-uid`, creationTimestamp: ago(120), labels: { 'karpenter.sh/nodepool': 'gpu', 'node.kubernetes.io/instance-type': 'L4-1-24G' } },
    spec: { nodeClassRef: REF, requirements: [], ...(o.expireAfter ? { expireAfter: o.expireAfter } : {}) },
    status: {
      providerID: `scaleway://instance/fr-par-2/${name}`, nodeName: name,
      conditions: [{ type: 'Initialized', status: 'True', lastTransitionTime: ago(60) }, { type: 'Ready', status: 'True', lastTransitionTime: ago(60) }],
    },
  });
}

function node(name: string, o: { gpus?: number; ours?: boolean } = {}): Node {
  return parseNode({
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'karpenter.scaleway.com/instance-gpu-name': 'l4' } },
    spec: { ...(o.ours === false ? {} : { providerID: `scaleway://instance/fr-par-2/${name}` }) },
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '15', memory: '90Gi', pods: '110', 'nvidia.com/gpu': String(o.gpus ?? 1) } },
  });
}

function workload(name: string, nodeName: string, namespace = 'ml', labels: Record<string, string> = { app: 'train' }): Pod {
  return parsePod({
    metadata: { name, namespace, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'train-5d9', uid: 'rs-uid', controller: true }] },
    spec: { nodeName, containers: [{ name: 'main', resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running' },
  });
}

/** A policy/v1 PodDisruptionBudget as the apiserver lists it. */
function pdb(name: string, disruptionsAllowed: number | undefined, o: { namespace?: string; selector?: Record<string, unknown> } = {}): PodDisruptionBudgetLike {
  const parsed = parsePodDisruptionBudget({
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
    metadata: { name, namespace: o.namespace ?? 'ml', uid: `${name}-uid`, generation: 1 },
    spec: { maxUnavailable: 0, selector: o.selector ?? { matchLabels: { app: 'train' } } },
    ...(disruptionsAllowed === undefined ? {} : { status: { currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed, expectedPods: 1, observedGeneration: 1 } }),
  });
  assert.ok(parsed, `PodDisruptionBudget ${name} parses`);
  return parsed;
}

/** Node `a` (one pod) could move its pod onto `spare`, a node with a free GPU that we do not manage. */
function underutilized(pdbs: PodDisruptionBudgetLike[], pods: Pod[] = [workload('x', 'a')]): DisruptionPlan {
  return decideDisruptions({ nodePools: [POOL], nodeClaims: [claim('a')], nodes: [node('a'), node('spare', { gpus: 4, ours: false })], pods, now: NOW, pdbs });
}

describe('PodDisruptionBudgets in disruption', () => {
  it('keeps an underutilized node whose pod a budget with disruptionsAllowed 0 covers, in Karpenter wording', () => {
    assert.deepEqual(underutilized([]).decisions.map((d) => [d.nodeClaim.metadata.name, d.reason]), [['a', 'Underutilized']], 'without a budget the node goes');
    const held = underutilized([pdb('train', 0)]);
    assert.deepEqual(held.decisions, []);
    assert.deepEqual(held.blocked.map((b) => [b.nodeClaim.metadata.name, b.reason, b.blocker]), [['a', 'Underutilized', 'PodDisruptionBudget']]);
    assert.match(held.blocked[0]!.message, /^pdb prevents pod evictions \(PodDisruptionBudget=\[ml\/train\]\)/);
  });

  it('lets the node go once the budget allows a disruption', () => {
    assert.deepEqual(underutilized([pdb('train', 1)]).decisions.map((d) => d.nodeClaim.metadata.name), ['a']);
  });

  it('holds on a budget whose status was never written, as the Eviction API does', () => {
    assert.equal(underutilized([pdb('fresh', undefined)]).blocked[0]?.blocker, 'PodDisruptionBudget');
  });

  it('only counts budgets of the pod\'s namespace whose selector matches it; an empty selector matches all', () => {
    assert.equal(underutilized([pdb('other-ns', 0, { namespace: 'web' })]).decisions.length, 1);
    assert.equal(underutilized([pdb('other-app', 0, { selector: { matchLabels: { app: 'serve' } } })]).decisions.length, 1);
    assert.equal(underutilized([pdb('everything', 0, { selector: {} })]).decisions.length, 0);
  });

  it('never spends one allowance on two nodes in the same pass', () => {
    const plan = decideDisruptions({
      nodePools: [POOL],
      nodeClaims: [claim('a'), claim('b')],
      nodes: [node('a'), node('b'), node('spare', { gpus: 4, ours: false })],
      pods: [workload('x', 'a'), workload('y', 'b')],
      now: NOW,
      pdbs: [pdb('train', 1)],
    });
    assert.equal(plan.decisions.length, 1);
    assert.deepEqual(plan.blocked.map((b) => b.blocker), ['PodDisruptionBudget']);
  });

  it('does not hold expiration, which is forceful', () => {
    const plan = decideDisruptions({ nodePools: [POOL], nodeClaims: [claim('a', { expireAfter: '1h' })], nodes: [node('a')], pods: [workload('x', 'a')], now: NOW, pdbs: [pdb('train', 0)] });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason]), [['a', 'Expired']]);
  });

  it('reads nothing it cannot parse as a budget', () => {
    assert.equal(parsePodDisruptionBudget({ metadata: {} }), undefined);
  });
});
