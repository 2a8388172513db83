// Disruption decisions on parsed objects: emptiness and consolidateAfter,
// blockers, budgets in a pass, underutilization by simulation, expiration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode, parsePod, type Node, type Pod } from '../../kube/api/core.ts';
import { decideDisruptions, priceFromOffers, type DisruptionInput, type DisruptionPlan } from '../../watcher/disruption/decide.ts';
import { nodeEmptiness, quietSince } from '../../watcher/disruption/emptiness.ts';
import { expiresAt } from '../../watcher/disruption/expiration.ts';
import { podRequests } from '../../watcher/disruption/pods.ts';
import type { ServerTypeOffer } from '../../scaleway/cloud.ts';
import { parseNodeClaim, parseNodePool, type NodeClaim, type NodePool } from '../../kube/api/schemas.ts';

/** A Monday. */
const NOW = new Date('2026-03-02T10:00:00Z');
const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();
const secondsAgo = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();

const NODE_CLASS_REF = { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' };

function pool(name: string, disruption: Record<string, unknown> = {}): NodePool {
  return parseNodePool({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name },
    spec: { template: { spec: { nodeClassRef: NODE_CLASS_REF, requirements: [] } }, disruption },
  });
}

interface ClaimOptions {
  pool?: string;
  type?: string;
  /** Minutes ago the NodeClaim was initialized; undefined: never. */
  initialized?: number | undefined;
  lastPodEventTime?: string;
  created?: string;
  expireAfter?: string;
  annotations?: Record<string, string>;
  deleting?: boolean;
}

const providerID = (name: string): string => `scaleway://instance/fr-par-2/${name}`;

function claim(name: string, o: ClaimOptions = {}): NodeClaim {
  const initializedMinutes = 'initialized' in o ? o.initialized : 60;
  const conditions =
    initializedMinutes === undefined
      ? [{ type: 'Initialized', status: 'Unknown', lastTransitionTime: minutesAgo(90) }]
      : [
          { type: 'Initialized', status: 'True', lastTransitionTime: minutesAgo(initializedMinutes) },
          { type: 'Ready', status: 'True', lastTransitionTime: minutesAgo(initializedMinutes) },
        ];
  return parseNodeClaim({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: {
      name,
      creationTimestamp: o.created ?? minutesAgo(120),
      labels: { 'karpenter.sh/nodepool': o.pool ?? 'gpu', 'node.kubernetes.io/instance-type': o.type ?? 'L4-1-24G' },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: minutesAgo(1) } : {}),
    },
    spec: { nodeClassRef: NODE_CLASS_REF, requirements: [], ...(o.expireAfter ? { expireAfter: o.expireAfter } : {}) },
    status: { providerID: providerID(name), nodeName: name, conditions, ...(o.lastPodEventTime ? { lastPodEventTime: o.lastPodEventTime } : {}) },
  });
}

interface NodeOptions {
  gpus?: number;
  gpuName?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
  annotations?: Record<string, string>;
  ready?: boolean;
  /** A node Karpenter does not manage (no providerID of ours). */
  foreign?: boolean;
}

function node(name: string, o: NodeOptions = {}): Node {
  const gpus = o.gpus ?? 1;
  const gpuName = o.gpuName ?? 'l4';
  return parseNode({
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'node.kubernetes.io/instance-type': 'L4-1-24G',
        ...(gpus > 0 ? { 'karpenter.scaleway.com/instance-gpu-name': gpuName, 'karpenter.sh/instance-type': gpuName } : {}),
        ...o.labels,
      },
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: { ...(o.foreign ? {} : { providerID: providerID(name) }), taints: o.taints ?? [] },
    status: {
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
      allocatable: { cpu: o.cpu ?? '7', memory: o.memory ?? '40Gi', pods: '110', 'ephemeral-storage': '100Gi', ...(gpus > 0 ? { 'nvidia.com/gpu': String(gpus) } : {}) },
    },
  });
}

interface PodOptions {
  phase?: string;
  owner?: string;
  requests?: Record<string, string>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: 'Exists' | 'Equal'; value?: string; effect?: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
  deleting?: boolean;
  affinity?: Record<string, unknown>;
}

function pod(name: string, nodeName: string | undefined, o: PodOptions = {}): Pod {
  return parsePod({
    metadata: {
      name,
      namespace: 'ml',
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner, name: `${name}-owner`, uid: `${name}-uid`, controller: true }] } : {}),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.deleting ? { deletionTimestamp: secondsAgo(5) } : {}),
    },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      tolerations: o.tolerations ?? [],
      containers: [{ name: 'main', resources: { requests: o.requests ?? { cpu: '500m', memory: '1Gi' } } }],
    },
    status: { phase: o.phase ?? 'Running' },
  });
}

const PRICES: Record<string, number> = { 'L4-1-24G': 0.75, 'L40S-1-48G': 1.4, 'H100-1-80G': 2.73 };

function decide(partial: Partial<DisruptionInput> & Pick<DisruptionInput, 'nodeClaims' | 'nodes'>): DisruptionPlan {
  return decideDisruptions({
    nodePools: [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '30s', budgets: [{ nodes: '100%' }] })],
    pods: [],
    now: NOW,
    priceOf: (nc) => PRICES[nc.metadata.labels?.['node.kubernetes.io/instance-type'] ?? ''],
    ...partial,
  });
}

const names = (list: readonly { nodeClaim: { metadata: { name: string } } }[]): string[] => list.map((d) => d.nodeClaim.metadata.name);

describe('emptiness and consolidateAfter', () => {
  it('removes a node empty for longer than consolidateAfter, and not one empty for less', () => {
    const plan = decide({
      nodeClaims: [claim('idle', { lastPodEventTime: secondsAgo(31) }), claim('recent', { lastPodEventTime: secondsAgo(10) })],
      nodes: [node('idle'), node('recent')],
    });
    assert.deepEqual(names(plan.decisions), ['idle']);
    assert.equal(plan.decisions[0]!.reason, 'Empty');
    assert.equal(plan.decisions[0]!.message, `empty since ${secondsAgo(31).replace('.000Z', 'Z')} (consolidateAfter 30s)`);
    assert.deepEqual(plan.blocked, []);
  });

  it("waits for the caller's later pod event over an older lastPodEventTime", () => {
    const nodeClaims = [claim('a', { lastPodEventTime: minutesAgo(5) })];
    assert.deepEqual(names(decide({ nodeClaims, nodes: [node('a')], lastPodEventAt: new Map([['a', secondsAgo(10)]]) }).decisions), []);
    assert.deepEqual(names(decide({ nodeClaims, nodes: [node('a')], lastPodEventAt: new Map([['a', secondsAgo(40)]]) }).decisions), ['a']);
  });

  it('counts from initialization when no pod event is known', () => {
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m', budgets: [{ nodes: '100%' }] })];
    const plan = decide({ nodePools: pools, nodeClaims: [claim('new', { initialized: 2 }), claim('old', { initialized: 6 })], nodes: [node('new'), node('old')] });
    assert.deepEqual(names(plan.decisions), ['old']);
    assert.equal(quietSince(claim('x', { initialized: 6 }))?.toISOString(), minutesAgo(6));
  });

  it('never consolidates with consolidateAfter Never', () => {
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: 'Never' })];
    assert.deepEqual(decide({ nodePools: pools, nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(600) })], nodes: [node('a')] }).decisions, []);
  });

  it('ignores DaemonSet, mirror, finished and terminating pods', () => {
    const pods = [
      pod('ds', 'a', { owner: 'DaemonSet' }),
      pod('static', 'a', { annotations: { 'kubernetes.io/config.mirror': 'abc' } }),
      pod('done', 'a', { phase: 'Succeeded', owner: 'Job' }),
      pod('crashed', 'a', { phase: 'Failed' }),
      pod('leaving', 'a', { owner: 'ReplicaSet', deleting: true }),
      pod('elsewhere', 'b'),
    ];
    const plan = decide({ nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(1) })], nodes: [node('a'), node('b', { foreign: true })], pods });
    assert.deepEqual(names(plan.decisions), ['a']);
  });

  it('keeps a node with a running workload pod or a terminating StatefulSet pod', () => {
    assert.equal(nodeEmptiness([pod('web', 'a', { owner: 'ReplicaSet' })]).empty, false);
    assert.equal(nodeEmptiness([pod('db-0', 'a', { owner: 'StatefulSet', deleting: true })]).empty, false);
    const plan = decide({ nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(1) })], nodes: [node('a')], pods: [pod('web', 'a')] });
    assert.deepEqual(plan.decisions, []);
  });

  it('does not treat a node whose pods are still starting as empty, nor as underutilized', () => {
    const starting = pod('train', 'a', { phase: 'Pending', requests: { 'nvidia.com/gpu': '1' } });
    const e = nodeEmptiness([starting]);
    assert.equal(e.empty, false);
    assert.deepEqual(e.startingPods.map((p) => p.metadata.name), ['train']);
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '100%' }] })];
    const plan = decide({ nodePools: pools, nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(2) }), claim('b')], nodes: [node('a'), node('b')], pods: [starting] });
    assert.deepEqual(names(plan.decisions), ['b']);
    assert.deepEqual(plan.unconsolidatable, []);
  });

  it('leaves NodeClaims that are not initialized, have no node, or are already deleting', () => {
    const plan = decide({
      nodeClaims: [claim('booting', { initialized: undefined }), claim('nonode'), claim('deleting', { deleting: true, lastPodEventTime: minutesAgo(5) })],
      nodes: [node('booting'), node('deleting')],
    });
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.blocked, []);
  });
});

describe('do-not-disrupt', () => {
  it('holds an empty node when a pod on it has the annotation, naming the pod', () => {
    const pods = [pod('ds', 'a', { owner: 'DaemonSet', annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })];
    const plan = decide({ nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(5) })], nodes: [node('a')], pods });
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.reason, b.blocker, b.message]), [
      ['a', 'Empty', 'DoNotDisrupt', 'pod ml/ds has karpenter.sh/do-not-disrupt=true'],
    ]);
  });

  it('holds a node with the annotation on the node or the NodeClaim', () => {
    const plan = decide({
      nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(5) }), claim('b', { lastPodEventTime: minutesAgo(5), annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })],
      nodes: [node('a', { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } }), node('b')],
    });
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.message]), [
      ['a', 'node a has karpenter.sh/do-not-disrupt=true'],
      ['b', 'NodeClaim b has karpenter.sh/do-not-disrupt=true'],
    ]);
  });

  it('ignores the annotation on a finished pod and a value other than "true"', () => {
    const pods = [pod('job', 'a', { phase: 'Succeeded', annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })];
    const plan = decide({ nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(5) })], nodes: [node('a', { annotations: { 'karpenter.sh/do-not-disrupt': 'false' } })], pods });
    assert.deepEqual(names(plan.decisions), ['a']);
  });
});

describe('budgets within a pass', () => {
  const three = () => ({
    nodeClaims: [
      claim('l4', { type: 'L4-1-24G', lastPodEventTime: minutesAgo(5) }),
      claim('h100', { type: 'H100-1-80G', lastPodEventTime: minutesAgo(5) }),
      claim('l40s', { type: 'L40S-1-48G', lastPodEventTime: minutesAgo(5) }),
    ],
    nodes: [node('l4'), node('h100'), node('l40s')],
  });
  const withBudgets = (budgets: unknown[]) => [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '30s', budgets })];

  it('removes the most expensive nodes first when a count budget limits', () => {
    const plan = decide({ ...three(), nodePools: withBudgets([{ nodes: '1' }]) });
    assert.deepEqual(names(plan.decisions), ['h100']);
    assert.equal(plan.decisions[0]!.pricePerHour, 2.73);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.blocker]), [['l40s', 'Budget'], ['l4', 'Budget']]);
    assert.match(plan.blocked[0]!.message, /NodePool gpu's budget for Empty allows 1 of 3 node\(s\) now and 1 are already being disrupted/);
  });

  it('rounds a percentage up', () => {
    assert.deepEqual(names(decide({ ...three(), nodePools: withBudgets([{ nodes: '50%' }]) }).decisions), ['h100', 'l40s']);
    assert.deepEqual(names(decide({ ...three(), nodePools: withBudgets([{ nodes: '10%' }]) }).decisions), ['h100']);
    assert.deepEqual(names(decide({ ...three(), nodePools: withBudgets([{ nodes: '0%' }]) }).decisions), []);
  });

  it('takes the most restrictive budget that applies to the reason', () => {
    assert.deepEqual(names(decide({ ...three(), nodePools: withBudgets([{ nodes: '3' }, { nodes: '0', reasons: ['Underutilized', 'Drifted'] }]) }).decisions), ['h100', 'l40s', 'l4']);
    assert.deepEqual(names(decide({ ...three(), nodePools: withBudgets([{ nodes: '3' }, { nodes: '0', reasons: ['Empty'] }]) }).decisions), []);
  });

  it('applies a scheduled budget only inside its window', () => {
    const businessHours = withBudgets([{ nodes: '0', schedule: '0 9 * * mon-fri', duration: '8h' }]);
    assert.deepEqual(names(decide({ ...three(), nodePools: businessHours }).decisions), [], 'Monday 10:00 is inside 09:00 + 8h');
    const evening = new Date('2026-03-02T17:30:00Z');
    assert.equal(decide({ ...three(), nodePools: businessHours, now: evening }).decisions.length, 3);
  });

  it('subtracts nodes already being disrupted, and NotReady ones', () => {
    const base = three();
    const deleting = claim('old', { deleting: true, lastPodEventTime: minutesAgo(5) });
    const plan = decide({ nodeClaims: [...base.nodeClaims, deleting], nodes: [...base.nodes, node('old')], nodePools: withBudgets([{ nodes: '2' }]) });
    assert.deepEqual(names(plan.decisions), ['h100']);
    const tainted = decide({
      nodeClaims: [...base.nodeClaims, claim('t')],
      nodes: [...base.nodes, node('t', { taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] })],
      nodePools: withBudgets([{ nodes: '2' }]),
    });
    assert.deepEqual(names(tainted.decisions), ['h100']);
    const notReady = decide({ nodeClaims: [...base.nodeClaims, claim('sick')], nodes: [...base.nodes, node('sick', { ready: false })], nodePools: withBudgets([{ nodes: '1' }]) });
    assert.deepEqual(notReady.decisions, []);
  });

  it('keeps budgets per NodePool', () => {
    const plan = decide({
      nodePools: [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '30s', budgets: [{ nodes: '1' }] }), pool('batch', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '30s', budgets: [{ nodes: '1' }] })],
      nodeClaims: [claim('a', { lastPodEventTime: minutesAgo(5) }), claim('b', { lastPodEventTime: minutesAgo(5) }), claim('c', { pool: 'batch', lastPodEventTime: minutesAgo(5) })],
      nodes: [node('a'), node('b'), node('c')],
    });
    assert.deepEqual(names(plan.decisions), ['a', 'c']);
    assert.deepEqual(names(plan.blocked), ['b']);
  });

  it('reports an unreadable budget and fails closed', () => {
    const plan = decide({ ...three(), nodePools: withBudgets([{ nodes: '5', schedule: 'every day', duration: '1h' }]) });
    assert.deepEqual(plan.decisions, []);
    assert.match(plan.errors[0]!, /NodePool gpu budget 0: invalid cron schedule "every day"/);
  });
});

describe('underutilized', () => {
  const consolidating = [pool('gpu', { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '100%' }] })];
  const gpuPod = (name: string, nodeName: string, extra: PodOptions = {}) => pod(name, nodeName, { owner: 'ReplicaSet', requests: { cpu: '1', memory: '4Gi', 'nvidia.com/gpu': '1' }, ...extra });
  const quiet = { lastPodEventTime: minutesAgo(10) };

  it('removes a node whose GPU pod fits on a node with a free GPU, the most expensive first', () => {
    const plan = decide({
      nodePools: consolidating,
      nodeClaims: [claim('busy', { ...quiet, type: 'L40S-1-48G' }), claim('spare', { ...quiet, type: 'L4-1-24G' })],
      nodes: [node('busy', { gpus: 1 }), node('spare', { gpus: 2 })],
      pods: [gpuPod('train', 'busy'), gpuPod('infer', 'spare')],
    });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason, d.message]), [['busy', 'Underutilized', '1 pod, e.g. ml/train fit on spare']]);
  });

  it('keeps a node whose GPU pod would find no free GPU elsewhere', () => {
    const plan = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', quiet), claim('b', quiet)],
      nodes: [node('a'), node('b', { gpus: 1 })],
      pods: [gpuPod('train', 'a'), gpuPod('infer', 'b')],
    });
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.unconsolidatable.map((u) => u.nodeClaim.metadata.name), ['a', 'b']);
    assert.match(plan.unconsolidatable[0]!.message, /pod ml\/train fits on no other node \(b: needs 1 nvidia.com\/gpu, 0 free\)/);
  });

  it('does not consolidate non-empty nodes under WhenEmpty', () => {
    const plan = decide({ nodeClaims: [claim('a', quiet)], nodes: [node('a'), node('b', { gpus: 4, foreign: true })], pods: [gpuPod('train', 'a')] });
    assert.deepEqual(plan.decisions, []);
    assert.deepEqual(plan.unconsolidatable, []);
  });

  it('needs all pods to fit together', () => {
    const pods = [gpuPod('p1', 'a'), gpuPod('p2', 'a')];
    const oneSpare = decide({ nodePools: consolidating, nodeClaims: [claim('a', { ...quiet, type: 'H100-1-80G' })], nodes: [node('a', { gpus: 2 }), node('b', { gpus: 1, foreign: true })], pods });
    assert.deepEqual(oneSpare.decisions, []);
    const twoSpares = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', { ...quiet, type: 'H100-1-80G' })],
      nodes: [node('a', { gpus: 2 }), node('b', { gpus: 1, foreign: true }), node('c', { gpus: 1, foreign: true })],
      pods,
    });
    assert.deepEqual(twoSpares.decisions.map((d) => d.message), ['2 pods, e.g. ml/p1 fit on b, c']);
  });

  it("honours the seed's GPU name selector against node labels (h100 → h100-pcie)", () => {
    const pinned = gpuPod('train', 'a', { nodeSelector: { 'karpenter.sh/instance-type': 'h100' } });
    const l4Only = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', { ...quiet, type: 'H100-1-80G' })],
      nodes: [node('a', { gpuName: 'h100-pcie' }), node('l4', { gpus: 1, foreign: true })],
      pods: [pinned],
    });
    assert.deepEqual(l4Only.decisions, []);
    assert.match(l4Only.unconsolidatable[0]!.message, /karpenter.scaleway.com\/instance-gpu-name=l4 does not satisfy/);
    const h100Spare = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', { ...quiet, type: 'H100-1-80G' })],
      nodes: [node('a', { gpuName: 'h100-pcie' }), node('l4', { gpus: 1, foreign: true }), node('h', { gpuName: 'h100-pcie', foreign: true })],
      pods: [pinned],
    });
    assert.deepEqual(h100Spare.decisions.map((d) => d.message), ['1 pod, e.g. ml/train fit on h']);
  });

  it('respects taints on the other nodes and the pod tolerations', () => {
    const taints = [{ key: 'karpenter.sh/capacity-type', value: 'scaleway-gpu', effect: 'NoSchedule' as const }];
    const input = { nodePools: consolidating, nodeClaims: [claim('a', quiet)], nodes: [node('a'), node('b', { gpus: 2, taints, foreign: true })] };
    assert.deepEqual(decide({ ...input, pods: [gpuPod('x', 'a')] }).decisions, []);
    assert.deepEqual(names(decide({ ...input, pods: [gpuPod('x', 'a', { tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists' }] })] }).decisions), ['a']);
  });

  it('does not move pods onto nodes that are leaving or not accepting pods', () => {
    const plan = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', quiet), claim('empty', quiet)],
      nodes: [node('a'), node('empty', { gpus: 4 }), node('cordoned', { gpus: 4, foreign: true, taints: [{ key: 'karpenter.sh/disrupted', effect: 'NoSchedule' }] })],
      pods: [gpuPod('x', 'a')],
    });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason]), [['empty', 'Empty']]);
    assert.deepEqual(names(plan.unconsolidatable), ['a']);
  });

  it('does not remove a node that just received pods in the same pass', () => {
    const cpuPod = (name: string, nodeName: string) => pod(name, nodeName, { owner: 'ReplicaSet', requests: { cpu: '1', memory: '1Gi' } });
    const plan = decide({
      nodePools: consolidating,
      nodeClaims: [claim('a', { ...quiet, type: 'L40S-1-48G' }), claim('b', quiet)],
      // c could take y, but b also holds the x we just planned there: b stays.
      nodes: [node('a'), node('b'), node('c', { foreign: true })],
      pods: [cpuPod('x', 'a'), cpuPod('y', 'b')],
    });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.message]), [['a', '1 pod, e.g. ml/x fit on b']]);
    assert.deepEqual(plan.unconsolidatable, []);
  });

  it('is held by a do-not-disrupt pod and by a PodDisruptionBudget with no disruptions left', () => {
    const base = { nodePools: consolidating, nodeClaims: [claim('a', quiet)], nodes: [node('a'), node('b', { gpus: 2, foreign: true })] };
    const dnd = decide({ ...base, pods: [gpuPod('x', 'a', { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })] });
    assert.deepEqual(dnd.blocked.map((b) => [b.reason, b.blocker]), [['Underutilized', 'DoNotDisrupt']]);
    const pdb = { metadata: { name: 'train', namespace: 'ml' }, spec: { selector: { matchLabels: { app: 'train' } } }, status: { disruptionsAllowed: 0 } };
    const held = decide({ ...base, pods: [gpuPod('x', 'a', { labels: { app: 'train' } })], pdbs: [pdb] });
    assert.deepEqual(held.decisions, []);
    assert.deepEqual(held.blocked.map((b) => [b.blocker, b.message]), [['PodDisruptionBudget', 'pdb prevents pod evictions (PodDisruptionBudget=[ml/train]): it allows 0 more disruption(s), evicting would need 1 (pod ml/x)']]);
    const allowed = decide({ ...base, pods: [gpuPod('x', 'a', { labels: { app: 'train' } })], pdbs: [{ ...pdb, status: { disruptionsAllowed: 1 } }] });
    assert.deepEqual(names(allowed.decisions), ['a']);
  });

  it('shares the budget with empty nodes removed in the same pass', () => {
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '30s', budgets: [{ nodes: '1' }] })];
    const plan = decide({ nodePools: pools, nodeClaims: [claim('a', quiet), claim('e', quiet)], nodes: [node('a'), node('e'), node('b', { gpus: 2, foreign: true })], pods: [gpuPod('x', 'a')] });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason]), [['e', 'Empty']]);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.reason, b.blocker]), [['a', 'Underutilized', 'Budget']]);
  });
});

describe('expiration', () => {
  it('expires a NodeClaim older than expireAfter, ignoring do-not-disrupt, consolidateAfter and budgets', () => {
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: 'Never', budgets: [{ nodes: '0' }] })];
    const old = claim('old', { created: minutesAgo(721 * 60), annotations: { 'karpenter.sh/do-not-disrupt': 'true' } });
    const young = claim('young', { created: minutesAgo(719 * 60) });
    const plan = decide({ nodePools: pools, nodeClaims: [old, young], nodes: [node('old'), node('young')], pods: [pod('busy', 'old', { annotations: { 'karpenter.sh/do-not-disrupt': 'true' } })] });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.reason, d.message]), [
      ['old', 'Expired', `expired at ${minutesAgo(60).replace('.000Z', 'Z')} (expireAfter 720h)`],
    ]);
  });

  it('never expires with expireAfter Never, and expires a NodeClaim whose node never came', () => {
    assert.equal(expiresAt(claim('x', { expireAfter: 'Never' })), undefined);
    const plan = decide({ nodeClaims: [claim('forever', { expireAfter: 'Never', created: minutesAgo(1e6) }), claim('stuck', { expireAfter: '1h', initialized: undefined })], nodes: [] });
    assert.deepEqual(plan.decisions.map((d) => [d.nodeClaim.metadata.name, d.node]), [['stuck', undefined]]);
  });

  it('counts expiring nodes against the budget for the other reasons', () => {
    const pools = [pool('gpu', { consolidationPolicy: 'WhenEmpty', consolidateAfter: '30s', budgets: [{ nodes: '1' }] })];
    const plan = decide({ nodePools: pools, nodeClaims: [claim('old', { expireAfter: '1h' }), claim('idle', { lastPodEventTime: minutesAgo(5) })], nodes: [node('old'), node('idle')], pods: [pod('w', 'old')] });
    assert.deepEqual(plan.decisions.map((d) => d.reason), ['Expired']);
    assert.deepEqual(plan.blocked.map((b) => [b.nodeClaim.metadata.name, b.blocker]), [['idle', 'Budget']]);
  });
});

describe('pod requests and prices', () => {
  it('takes the larger of app containers plus sidecars and the init peak, plus overhead', () => {
    const p = parsePod({
      metadata: { name: 'p' },
      spec: {
        initContainers: [
          { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
          { name: 'download', resources: { requests: { cpu: '3', memory: '1Gi' } } },
        ],
        containers: [{ name: 'a', resources: { requests: { cpu: '1', 'nvidia.com/gpu': '1' } } }, { name: 'b', resources: { requests: { cpu: '500m', memory: '2Gi' } } }],
        overhead: { cpu: '50m' },
      },
    });
    const r = podRequests(p);
    assert.ok(Math.abs(r.cpu - 3.15) < 1e-9, `cpu ${r.cpu}`);
    assert.equal(r.memory, 2 * 2 ** 30);
    assert.equal(r.gpu, 1);
    assert.equal(r.pods, 1);
  });

  it("prices a NodeClaim from its node's instance type and zone", () => {
    const offer = (commercialType: string, zone: string, hourlyPriceEur: number) => ({ commercialType, zone, hourlyPriceEur }) as ServerTypeOffer;
    const priceOf = priceFromOffers([offer('L4-1-24G', 'fr-par-1', 0.9), offer('L4-1-24G', 'fr-par-2', 0.75), offer('L4-1-24G', 'nl-ams-1', 0.8)]);
    const n: Node = parseNode({ metadata: { name: 'n', labels: { 'node.kubernetes.io/instance-type': 'L4-1-24G', 'topology.kubernetes.io/zone': 'fr-par-1' } } });
    assert.equal(priceOf(claim('c'), n), 0.9);
    assert.equal(priceOf(claim('c'), undefined), 0.75, 'without a zone: the cheapest zone');
    assert.equal(priceOf(claim('c', { type: 'B300-SXM-8-288G' }), undefined), undefined);
  });
});
