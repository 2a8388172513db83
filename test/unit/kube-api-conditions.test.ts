import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONDITION,
  NODEPOOL_READY_DEPENDENTS,
  REASON,
  conditionsEqual,
  findCondition,
  initializeConditions,
  isConditionFalse,
  isConditionTrue,
  removeCondition,
  setCondition,
  setLifecycleCondition,
  summarizeReady,
  withReadyCondition,
  type Condition,
} from '../../kube/api/index.ts';

const T0 = new Date('2026-08-01T10:00:00.123Z');
const T1 = new Date('2026-08-01T10:05:00Z');
const T2 = new Date('2026-08-01T10:09:00Z');

describe('setCondition', () => {
  it('adds a condition with the transition time in whole seconds', () => {
    const out = setCondition(undefined, { type: 'Launched', status: 'True', reason: 'Launched' }, T0, 1);
    assert.deepEqual(out, [{ type: 'Launched', status: 'True', reason: 'Launched', message: '', lastTransitionTime: '2026-08-01T10:00:00Z', observedGeneration: 1 }]);
  });

  it('keeps lastTransitionTime when the status does not change, but takes the new reason and message', () => {
    const first = setCondition([], { type: 'Registered', status: 'Unknown', reason: 'NodeNotFound', message: 'waiting' }, T0, 1);
    const second = setCondition(first, { type: 'Registered', status: 'Unknown', reason: 'NodeNotFound', message: 'still waiting' }, T1, 2);
    assert.equal(second[0]?.lastTransitionTime, '2026-08-01T10:00:00Z');
    assert.equal(second[0]?.message, 'still waiting');
    assert.equal(second[0]?.observedGeneration, 2);
    const third = setCondition(second, { type: 'Registered', status: 'True', reason: 'Registered' }, T1);
    assert.equal(third[0]?.lastTransitionTime, '2026-08-01T10:05:00Z');
    // No generation given: the previous one stays.
    assert.equal(third[0]?.observedGeneration, 2);
  });

  it('does not modify its input and keeps the list sorted by type', () => {
    const input: Condition[] = [{ type: 'Ready', status: 'Unknown', reason: 'AwaitingReconciliation', message: '', lastTransitionTime: '2026-08-01T09:00:00Z' }];
    const snapshot = structuredClone(input);
    const out = setCondition(input, { type: 'Launched', status: 'True', reason: 'Launched' }, T0);
    assert.deepEqual(input, snapshot);
    assert.deepEqual(out.map((c) => c.type), ['Launched', 'Ready']);
    assert.deepEqual(setCondition(out, { type: 'Initialized', status: 'False', reason: 'InitializationTimeout' }, T1).map((c) => c.type), ['Initialized', 'Launched', 'Ready']);
  });

  it('rejects reasons the CRD would refuse', () => {
    assert.throws(() => setCondition([], { type: 'Launched', status: 'False', reason: 'out of stock' }, T0), /reason "out of stock" is not CamelCase/);
    assert.throws(() => setCondition([], { type: 'Launched', status: 'False', reason: 'X' }, 'yesterday'), /invalid time yesterday/);
  });

  it('reads and removes conditions', () => {
    const cs = setCondition(setCondition([], { type: 'Drifted', status: 'True', reason: 'ImageDrifted' }, T0), { type: 'Launched', status: 'False', reason: 'LaunchFailed' }, T0);
    assert.ok(isConditionTrue(cs, 'Drifted'));
    assert.ok(!isConditionTrue(cs, 'Launched'));
    assert.ok(isConditionFalse(cs, 'Launched'));
    assert.ok(!isConditionTrue(undefined, 'Ready'));
    assert.equal(findCondition(removeCondition(cs, 'Drifted'), 'Drifted'), undefined);
    assert.ok(conditionsEqual(cs, [...cs].reverse()));
    assert.ok(!conditionsEqual(cs, removeCondition(cs, 'Drifted')));
  });
});

describe('Ready summary', () => {
  it('starts every dependent and Ready as Unknown/AwaitingReconciliation', () => {
    const cs = initializeConditions(undefined, T0, 1);
    assert.deepEqual(cs.map((c) => `${c.type}=${c.status}/${c.reason}`), [
      'Initialized=Unknown/AwaitingReconciliation',
      'Launched=Unknown/AwaitingReconciliation',
      'Ready=Unknown/AwaitingReconciliation',
      'Registered=Unknown/AwaitingReconciliation',
    ]);
    // Idempotent: existing conditions are left alone.
    assert.deepEqual(initializeConditions(cs, T1, 1), cs);
  });

  it('is Unknown while dependents are pending, listing them', () => {
    let cs = initializeConditions(undefined, T0, 1);
    cs = setLifecycleCondition(cs, { type: 'Launched', status: 'True', reason: REASON.Launched }, T1, 1);
    const ready = findCondition(cs, 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'ReconcilingDependents');
    assert.equal(ready?.message, 'Registered=Unknown, Initialized=Unknown');
  });

  it('becomes True only when Launched, Registered and Initialized are all True', () => {
    let cs: Condition[] = [];
    cs = setLifecycleCondition(cs, { type: 'Launched', status: 'True', reason: 'Launched' }, T0, 1);
    cs = setLifecycleCondition(cs, { type: 'Registered', status: 'True', reason: 'Registered' }, T1, 1);
    assert.equal(findCondition(cs, 'Ready')?.status, 'Unknown');
    assert.equal(findCondition(cs, 'Ready')?.message, 'Initialized=Unknown');
    cs = setLifecycleCondition(cs, { type: 'Initialized', status: 'True', reason: 'Initialized' }, T2, 1);
    const ready = findCondition(cs, 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'Ready');
    assert.equal(ready?.lastTransitionTime, '2026-08-01T10:09:00Z');
  });

  it('is False as soon as a dependent fails, most recent transition listed first', () => {
    let cs = initializeConditions(undefined, T0, 1);
    cs = setLifecycleCondition(cs, { type: 'Launched', status: 'True', reason: 'Launched' }, T0, 1);
    cs = setLifecycleCondition(cs, { type: 'Registered', status: 'False', reason: 'RegistrationTimeout', message: 'no node after 15m' }, T2, 1);
    const ready = findCondition(cs, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'UnhealthyDependents');
    assert.equal(ready?.message, 'Registered=False, Initialized=Unknown');
  });

  it('treats dependents computed for an older generation as not yet known', () => {
    const cs: Condition[] = ['Launched', 'Registered', 'Initialized'].map((type) => ({ type, status: 'True', reason: type, message: '', lastTransitionTime: '2026-08-01T10:00:00Z', observedGeneration: 1 }));
    assert.equal(summarizeReady(cs, undefined, 1).status, 'True');
    const stale = summarizeReady(cs, undefined, 2);
    assert.equal(stale.status, 'Unknown');
    assert.equal(stale.message, 'Launched=True, Registered=True, Initialized=True');
    // A False from an older generation does not make Ready False.
    cs[0] = { ...cs[0]!, status: 'False' };
    assert.equal(summarizeReady(cs, undefined, 2).status, 'Unknown');
    assert.equal(summarizeReady(cs, undefined, 1).status, 'False');
  });

  it('summarizes other dependents, e.g. a NodePool', () => {
    let cs = setCondition([], { type: CONDITION.ValidationSucceeded, status: 'True', reason: 'ValidationSucceeded' }, T0);
    cs = setCondition(cs, { type: CONDITION.NodeClassReady, status: 'True', reason: 'NodeClassReady' }, T0);
    cs = withReadyCondition(cs, T1, undefined, NODEPOOL_READY_DEPENDENTS);
    assert.equal(findCondition(cs, 'Ready')?.status, 'True');
    // Conditions outside the dependents (Drifted) do not count.
    cs = setCondition(cs, { type: 'Drifted', status: 'False', reason: 'NodeClassDrifted' }, T1);
    assert.equal(summarizeReady(cs, NODEPOOL_READY_DEPENDENTS).status, 'True');
  });
});
