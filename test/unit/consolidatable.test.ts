// The Consolidatable condition: its timing (consolidateAfter after the later of
// lastPodEventTime, the last pod event seen and initialization), and that the
// condition and the emptiness decision are one reading.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNode } from '../../kube/api/core.ts';
import { parseNodeClaim, parseNodePool, type NodeClaim, type NodePool } from '../../kube/api/schemas.ts';
import { findCondition, isConditionTrue } from '../../kube/api/conditions.ts';
import { withDisruptionConditions } from '../../watcher/disruption/conditions.ts';
import { decideDisruptions } from '../../watcher/disruption/decide.ts';

const NOW = new Date('2026-03-02T10:00:00Z');
const secondsAgo = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();
const REF = { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' };

const poolAfter = (consolidateAfter: string): NodePool =>
  parseNodePool({ metadata: { name: 'gpu' }, spec: { template: { spec: { nodeClassRef: REF, requirements: [] } }, disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter, budgets: [{ nodes: '100%' }] } } });

/** Initialized `initializedAgo` seconds ago (undefined: not initialized), with extra conditions and a lastPodEventTime. */
function quietClaim(name: string, initializedAgo: number | undefined, o: { lastPodEventAgo?: number; conditions?: unknown[] } = {}): NodeClaim {
  return parseNodeClaim({
    metadata: { name, labels: { 'karpenter.sh/nodepool': 'gpu' } },
    spec: { nodeClassRef: REF, requirements: [] },
    status: {
      providerID: `scaleway://instance/fr-par-2/${name}`,
      conditions: [
        { type: 'Initialized', status: initializedAgo === undefined ? 'Unknown' : 'True', lastTransitionTime: secondsAgo(initializedAgo ?? 600) },
        ...(o.conditions ?? []),
      ],
      ...(o.lastPodEventAgo === undefined ? {} : { lastPodEventTime: secondsAgo(o.lastPodEventAgo) }),
    },
  });
}

const consolidatable = (claim: NodeClaim, pool: NodePool, observedAgo?: number): boolean =>
  isConditionTrue(withDisruptionConditions(claim, pool, undefined, NOW, observedAgo === undefined ? undefined : secondsAgo(observedAgo)), 'Consolidatable');

describe('Consolidatable condition', () => {
  const pool = poolAfter('30s');

  it('is True consolidateAfter after initialization when no pod came or went', () => {
    assert.equal(consolidatable(quietClaim('a', 31), pool), true);
    assert.equal(consolidatable(quietClaim('a', 29), pool), false);
    const set = findCondition(withDisruptionConditions(quietClaim('a', 31), pool, undefined, NOW), 'Consolidatable');
    assert.deepEqual([set?.status, set?.reason], ['True', 'Consolidatable']);
  });

  it('counts from the later of lastPodEventTime and the last pod event seen', () => {
    assert.equal(consolidatable(quietClaim('a', 600, { lastPodEventAgo: 10 }), pool), false);
    assert.equal(consolidatable(quietClaim('a', 600, { lastPodEventAgo: 40 }), pool), true);
    assert.equal(consolidatable(quietClaim('a', 600, { lastPodEventAgo: 40 }), pool, 5), false, 'a pod event not yet written');
  });

  it('is removed again when a pod event happens, with Never, and before initialization', () => {
    const wasTrue = [{ type: 'Consolidatable', status: 'True', reason: 'Consolidatable', lastTransitionTime: secondsAgo(60) }];
    const busyAgain = withDisruptionConditions(quietClaim('a', 600, { lastPodEventAgo: 2, conditions: wasTrue }), pool, undefined, NOW);
    assert.equal(findCondition(busyAgain, 'Consolidatable'), undefined);
    assert.equal(consolidatable(quietClaim('a', 6000, { conditions: wasTrue }), poolAfter('Never')), false);
    assert.equal(consolidatable(quietClaim('a', undefined, { conditions: wasTrue }), pool), false);
  });

  it('keeps its transition time while it stays True', () => {
    const wasTrue = [{ type: 'Consolidatable', status: 'True', reason: 'Consolidatable', message: '', lastTransitionTime: '2026-03-02T09:59:00Z' }];
    const again = findCondition(withDisruptionConditions(quietClaim('a', 600, { conditions: wasTrue }), pool, undefined, NOW), 'Consolidatable');
    assert.equal(again?.lastTransitionTime, '2026-03-02T09:59:00Z');
  });
});

describe('the condition and the emptiness decision agree', () => {
  it('removes exactly the empty nodes it marks Consolidatable in the same pass', () => {
    const pool = poolAfter('30s');
    const claims = [
      quietClaim('settled', 600),
      quietClaim('fresh', 10),
      quietClaim('recent-event', 600, { lastPodEventAgo: 20 }),
      quietClaim('seen-event', 600, { lastPodEventAgo: 100 }),
      quietClaim('booting', undefined),
    ];
    const nodes = claims.map((c) =>
      parseNode({ metadata: { name: c.metadata.name }, spec: { providerID: c.status.providerID }, status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi' } } }));
    const plan = decideDisruptions({ nodePools: [pool], nodeClaims: claims, nodes, pods: [], now: NOW, lastPodEventAt: new Map([['seen-event', secondsAgo(15)]]) });
    const marked = plan.conditions.filter((c) => isConditionTrue(c.conditions, 'Consolidatable')).map((c) => c.nodeClaim.metadata.name);
    assert.deepEqual(marked, ['settled']);
    assert.deepEqual(plan.decisions.map((d) => d.nodeClaim.metadata.name), marked);
  });
});
