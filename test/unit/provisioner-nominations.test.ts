// Pods a NodeClaim was made for stay its own until the scheduler can bind them:
// a plan that ran between "node initialized" and "pod bound" once bought the
// same capacity twice (the latency benchmark's 200-pod burst made 119 nodes for 100).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdsNominations, NOMINATION_GRACE_MS } from '../../watcher/provisioner/controller.ts';
import { parseNodeClaim } from '../../kube/api/schemas.ts';

const T0 = Date.parse('2026-11-25T12:00:00Z');

function nodeClaim(conditions: { type: string; status: string; lastTransitionTime: string }[], deleting = false) {
  return parseNodeClaim({
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: { name: 'pool-abc', uid: '0b6c3a57-3f3c-4a34-9a58-6b1f5d0e2f11', ...(deleting ? { deletionTimestamp: new Date(T0).toISOString() } : {}) },
    spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: [] },
    status: { conditions: conditions.map((c) => ({ ...c, reason: c.type })) },
  });
}

describe('nominations of a NodeClaim', () => {
  it('are held while it launches', () => {
    assert.equal(holdsNominations(nodeClaim([{ type: 'Launched', status: 'True', lastTransitionTime: '2026-11-25T11:59:00Z' }]), T0), true);
  });

  it('are held for a grace period after the node is initialized, then released', () => {
    const initializedAt = new Date(T0).toISOString();
    const nc = nodeClaim([{ type: 'Initialized', status: 'True', lastTransitionTime: initializedAt }]);
    assert.equal(holdsNominations(nc, T0 + 1_000), true);
    assert.equal(holdsNominations(nc, T0 + NOMINATION_GRACE_MS - 1), true);
    assert.equal(holdsNominations(nc, T0 + NOMINATION_GRACE_MS + 1), false);
  });

  it('are released when its launch failed for good', () => {
    assert.equal(holdsNominations(nodeClaim([{ type: 'Launched', status: 'False', lastTransitionTime: '2026-11-25T11:59:00Z' }]), T0), false);
  });

  it('are released at once when the NodeClaim is being deleted', () => {
    assert.equal(holdsNominations(nodeClaim([], true), T0), false);
  });
});
