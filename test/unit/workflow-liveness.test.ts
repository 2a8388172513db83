// The watcher's liveness backstop: when a NodeClaim its workflow no longer looks
// after is overdue (launch timeout from creation, registration timeout from launch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeClaim, type NodeClaim } from '../../kube/api/schemas.ts';
import { livenessDeadline, livenessTimeouts } from '../../watcher/nodeclaim-liveness.ts';

const CREATED = '2026-12-01T10:00:00Z';
const TIMEOUTS = { launchMs: 5 * 60_000, registrationMs: 15 * 60_000 };

function claim(conditions: { type: string; status: string; reason?: string; lastTransitionTime?: string }[], extra: { deletionTimestamp?: string } = {}): NodeClaim {
  return parseNodeClaim({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: { name: 'gpu-a', uid: 'uid-a', creationTimestamp: CREATED, ...extra, ...(extra.deletionTimestamp ? { finalizers: ['karpenter.sh/termination'] } : {}) },
    spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: [], resources: { requests: {} } },
    status: { conditions: conditions.map((c) => ({ lastTransitionTime: CREATED, message: '', reason: c.reason ?? 'X', ...c })) },
  });
}

describe('liveness deadline', () => {
  it('is the launch timeout from creation while not launched, naming a recorded failure', () => {
    const deadline = livenessDeadline(claim([{ type: 'Launched', status: 'False', reason: 'NoCompatibleOffering' }]), TIMEOUTS);
    assert.equal(deadline?.reason, 'LaunchTimeout');
    assert.equal(deadline.at, Date.parse(CREATED) + 5 * 60_000);
    assert.match(deadline.message, /did not launch within 300 s .*NoCompatibleOffering/);
    assert.equal(livenessDeadline(claim([]), TIMEOUTS)?.reason, 'LaunchTimeout');
  });

  it('is the registration timeout from the launch once launched', () => {
    const launchedAt = '2026-12-01T10:03:00Z';
    const deadline = livenessDeadline(claim([{ type: 'Launched', status: 'True', lastTransitionTime: launchedAt }, { type: 'Registered', status: 'Unknown' }]), TIMEOUTS);
    assert.equal(deadline?.reason, 'RegistrationTimeout');
    assert.equal(deadline.at, Date.parse(launchedAt) + 15 * 60_000);
  });

  it('ends once registered, and does not apply to a NodeClaim being deleted', () => {
    assert.equal(livenessDeadline(claim([{ type: 'Launched', status: 'True' }, { type: 'Registered', status: 'True' }]), TIMEOUTS), undefined);
    assert.equal(livenessDeadline(claim([], { deletionTimestamp: '2026-12-01T10:01:00Z' }), TIMEOUTS), undefined);
  });

  it('takes the NodeClass timeouts, or upstream defaults without a usable NodeClass', () => {
    assert.deepEqual(livenessTimeouts(undefined), TIMEOUTS);
    assert.deepEqual(livenessTimeouts({ not: 'a NodeClass' }), TIMEOUTS);
  });
});
