// Issue 8, scenario 5: a NodeClass whose nodes never join must not buy a
// server every 15 minutes forever. Failures back off per offering (1 min
// doubling to 30 min), stop the pool after 3 in a row, and are kept in the
// NodePool's annotation, so a restarted watcher still holds back; a NodeClass
// change or a node that registers lifts it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeClaim, parseNodePool, parseScalewayNodeClass, type NodeClaim } from '../../kube/api/schemas.ts';
import { ANNOTATION_NODECLASS_HASH, ANNOTATION_REGISTRATION_HEALTH, REASON } from '../../kube/api/constants.ts';
import {
  REGISTRATION_BACKOFF_MAX_MS,
  RegistrationFailureInbox,
  backoffUntil,
  currentGate,
  healthEpoch,
  readHealth,
  registrationCondition,
  registrationFailureOf,
  registrationGate,
  updateHealth,
  type RegistrationHealth,
} from '../../watcher/registration-health.ts';
import { nodeClassRegistrationCondition } from '../../watcher/nodeclass-status.ts';
import { plan } from '../../watcher/provisioner/planner.ts';
import { catalogOffers, planPool, pod } from './planner-fixtures.ts';

const T0 = Date.parse('2026-12-02T08:00:00Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pool(annotations: Record<string, string> = {}, generation = 1) {
  return parseNodePool({
    metadata: { name: 'gpu', generation, annotations },
    spec: { template: { spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' }, requirements: [] } } },
  });
}
function nodeClass(generation = 1, hash = 'h1') {
  return parseScalewayNodeClass({ metadata: { name: 'default', generation, annotations: { [ANNOTATION_NODECLASS_HASH]: hash } }, spec: { bootstrap: { mode: 'kubeadm' } } });
}

/** A NodeClaim as the rollback leaves it: launched as `type` in `zone`, Registered=False RegistrationTimeout. */
function failed(name: string, minute: number, type = 'L4-1-24G', zone = 'fr-par-2'): NodeClaim {
  return parseNodeClaim({
    metadata: { name, uid: `uid-${name}`, labels: { 'karpenter.sh/nodepool': 'gpu', 'node.kubernetes.io/instance-type': type, 'topology.kubernetes.io/zone': zone } },
    spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' }, requirements: [] },
    status: {
      providerID: `scaleway://instance/${zone}/11111111-2222-4333-8444-555555555555`,
      conditions: [{ type: 'Registered', status: 'False', reason: 'RegistrationTimeout', message: 'the node did not join within 900 s of launch', lastTransitionTime: at(minute) }],
    },
  });
}
function registered(name: string, minute: number, type = 'L4-1-24G', zone = 'fr-par-2'): NodeClaim {
  const nc = failed(name, minute, type, zone);
  nc.status.conditions = [{ type: 'Registered', status: 'True', reason: 'Registered', message: '', lastTransitionTime: at(minute) }];
  return nc;
}

const epoch = healthEpoch(pool(), nodeClass());
const start = (): RegistrationHealth => readHealth(pool(), epoch, new Date(T0));

describe('registration health', () => {
  it('reads a NodeClaim rolled back for RegistrationTimeout as a failure of its pool and offering', () => {
    const f = registrationFailureOf(failed('a', 0));
    assert.deepEqual(f && { pool: f.nodePool, offering: f.offering, uid: f.uid }, { pool: 'gpu', offering: 'L4-1-24G@fr-par-2', uid: 'uid-a' });
    assert.equal(registrationFailureOf(registered('b', 0)), undefined);
  });

  it('backs an offering off 1 min, doubling to 30 min, and counts each NodeClaim once', () => {
    let h = updateHealth(start(), [registrationFailureOf(failed('a', 0))!], []);
    assert.equal(backoffUntil(h.offerings['L4-1-24G@fr-par-2']!), T0 + 60_000);
    h = updateHealth(h, [registrationFailureOf(failed('a', 0))!], []);
    assert.equal(h.consecutive, 1, 'the same NodeClaim seen again (a re-list) is not a second failure');
    h = updateHealth(h, [registrationFailureOf(failed('b', 20))!], []);
    assert.equal(backoffUntil(h.offerings['L4-1-24G@fr-par-2']!), T0 + 22 * 60_000);
    const many = { ...h, offerings: { 'L4-1-24G@fr-par-2': { failures: 9, lastAt: at(0) } } };
    assert.equal(backoffUntil(many.offerings['L4-1-24G@fr-par-2']), T0 + REGISTRATION_BACKOFF_MAX_MS);

    const gate = registrationGate('gpu', 'default', h, new Date(T0 + 21 * 60_000));
    assert.match(gate.blocked({ commercialType: 'L4-1-24G', zone: 'fr-par-2' }) ?? '', /backed off until 2026-12-02T08:22:00Z after 2 registration failure/);
    assert.equal(gate.blocked({ commercialType: 'L4-1-24G', zone: 'fr-par-1' }), undefined, 'per offering: the same type elsewhere is fine');
    assert.equal(registrationGate('gpu', 'default', h, new Date(T0 + 23 * 60_000)).blocked({ commercialType: 'L4-1-24G', zone: 'fr-par-2' }), undefined);
    assert.equal(gate.stopped, undefined);
    const condition = registrationCondition('gpu', 'default', h, [], new Date(T0 + 21 * 60_000));
    assert.deepEqual([condition.status, condition.reason], ['False', REASON.RegistrationFailed]);
    assert.match(condition.message ?? '', /2 consecutive node\(s\) of NodePool gpu failed to register .*L4-1-24G in fr-par-2 until 2026-12-02T08:22:00Z/);
  });

  it('stops the pool after 3 consecutive failures, and says so on the pods, the NodePool and the NodeClass', () => {
    const h = updateHealth(start(), [failed('a', 0), failed('b', 20, 'L4-2-24G'), failed('c', 40, 'L40S-1-48G')].map((nc) => registrationFailureOf(nc)!), []);
    const now = new Date(T0 + 120 * 60_000);
    const gate = registrationGate('gpu', 'default', h, now);
    assert.match(gate.stopped ?? '', /NodePool gpu stopped buying after 3 consecutive registration failures \(last: NodeClaim c on L40S-1-48G in fr-par-2: the node did not join within 900 s of launch\); fix ScalewayNodeClass default/);
    const condition = registrationCondition('gpu', 'default', h, [], now);
    assert.deepEqual([condition.status, condition.reason], ['False', REASON.RegistrationStopped]);

    const result = plan({ pods: [pod({ name: 'p', requests: { 'nvidia.com/gpu': '1' } })], nodePools: [{ ...planPool({ name: 'gpu' }), ...gate }], offers: catalogOffers('fr-par-2') });
    assert.equal(result.nodeClaims.length, 0);
    assert.match(result.podErrors[0]?.reason ?? '', /stopped buying after 3 consecutive registration failures/);

    const onClass = nodeClassRegistrationCondition('default', [{ metadata: { name: 'gpu' }, spec: { template: { spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'default' } } } }, status: { conditions: [{ ...condition, lastTransitionTime: at(0) }] } }]);
    assert.deepEqual([onClass?.status, onClass?.reason], ['False', REASON.RegistrationStopped]);
    assert.match(onClass?.message ?? '', /^NodePool gpu: NodePool gpu stopped buying/);
  });

  it('survives a restart: the counters come back from the annotation', () => {
    const h = updateHealth(start(), [failed('a', 0), failed('b', 20), failed('c', 40)].map((nc) => registrationFailureOf(nc)!), []);
    const stored = pool({ [ANNOTATION_REGISTRATION_HEALTH]: JSON.stringify(h) });
    const gate = currentGate(stored, nodeClass(), new RegistrationFailureInbox(), new Date(T0 + 120 * 60_000));
    assert.ok(gate.stopped, 'a new watcher with an empty memory still stops');
    assert.deepEqual(readHealth(pool({ [ANNOTATION_REGISTRATION_HEALTH]: '{not json' }), epoch, new Date(T0)).consecutive, 0);
  });

  it('resumes when the NodeClass or the NodePool changes, or a node of the pool registers', () => {
    const h = updateHealth(start(), [failed('a', 0), failed('b', 20), failed('c', 40)].map((nc) => registrationFailureOf(nc)!), []);
    const stored = pool({ [ANNOTATION_REGISTRATION_HEALTH]: JSON.stringify(h) });
    const now = new Date(T0 + 60 * 60_000);
    assert.equal(currentGate(stored, nodeClass(2, 'h2'), undefined, now).stopped, undefined, 'a new NodeClass generation resets');
    assert.equal(currentGate(stored, nodeClass(1, 'h2'), undefined, now).stopped, undefined, 'a new drift hash resets');
    const editedPool = pool({ [ANNOTATION_REGISTRATION_HEALTH]: JSON.stringify(h) }, 2);
    assert.equal(currentGate(editedPool, nodeClass(), undefined, now).stopped, undefined, 'a NodePool edit resets (as upstream)');
    const reset = readHealth(stored, healthEpoch(pool(), nodeClass(2, 'h2')), now);
    assert.equal(registrationCondition('gpu', 'default', reset, [registered('old', 10)], now).status, 'Unknown', 'a node registered before the change proves nothing');
    // A failure of the old NodeClass reported after the change does not count.
    assert.equal(updateHealth(reset, [registrationFailureOf(failed('late', 50))!], []).consecutive, 0);

    const healed = updateHealth(h, [], [registered('d', 30), registered('e', 50)]);
    assert.equal(healed.consecutive, 0, 'a registration after the last failure');
    assert.equal(healed.offerings['L4-1-24G@fr-par-2'], undefined);
    assert.deepEqual([registrationCondition('gpu', 'default', healed, [registered('e', 50)], now).status], ['True']);
    assert.equal(updateHealth(h, [], [registered('d', 30)]).consecutive, 3, 'a registration before the last failure does not heal');
  });

  it('keeps failures seen on events until the annotation holds them', () => {
    const inbox = new RegistrationFailureInbox();
    assert.ok(inbox.observe(failed('a', 0) as never));
    assert.equal(inbox.observe(failed('a', 0) as never), undefined, 'one NodeClaim, one failure');
    const gate = currentGate(pool(), nodeClass(), inbox, new Date(T0 + 30_000));
    assert.ok(gate.blocked({ commercialType: 'L4-1-24G', zone: 'fr-par-2' }), 'the planner holds back before the annotation is written');
    const h = updateHealth(start(), inbox.pending('gpu'), []);
    inbox.settle('gpu', h);
    assert.deepEqual(inbox.pending('gpu'), []);
  });
});
