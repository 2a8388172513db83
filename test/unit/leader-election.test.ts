// The Lease arithmetic of leader election: when a standby may take over, and
// what the leader writes when it acquires, renews and releases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeError, type KubeRest } from '../../kube/rest.ts';
import {
  DEFAULT_LEASE_NAMESPACE,
  heldSpec,
  judgeLease,
  leaderElectionSettings,
  microTime,
  observe,
  releasedSpec,
  startLeaderElection,
  type LeaseSpec,
} from '../../watcher/leader-election.ts';

const T0 = Date.parse('2026-12-02T08:00:00.000Z');
const held: LeaseSpec = { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(new Date(T0)), renewTime: microTime(new Date(T0)), leaseTransitions: 2 };

describe('leader election: judging a Lease', () => {
  it('writes MicroTime with six fractional digits, as the apiserver parses it', () => {
    assert.equal(microTime(new Date('2026-12-02T08:00:01.234Z')), '2026-12-02T08:00:01.234000Z');
  });

  it('lets a standby take over only after it saw the same record for a lease duration', () => {
    const seen = observe(undefined, held, T0 + 1_000);
    assert.equal(judgeLease(held, 'b', seen.atMs, T0 + 15_999), 'held');
    assert.equal(judgeLease(held, 'b', seen.atMs, T0 + 16_000), 'expired');
  });

  it('judges expiry on its own clock, not on renewTime: a skewed clock cannot steal a live lease', () => {
    // renewTime says an hour ago (the leader's clock is behind), but we have just seen it.
    const skewed = { ...held, renewTime: microTime(new Date(T0 - 3_600_000)) };
    const seen = observe(undefined, skewed, T0);
    assert.equal(judgeLease(skewed, 'b', seen.atMs, T0 + 2_000), 'held');
  });

  it('restarts the clock when the leader renews, and keeps it when nothing changed', () => {
    const first = observe(undefined, held, T0);
    assert.equal(observe(first, { ...held }, T0 + 5_000), first);
    const renewed = observe(first, { ...held, renewTime: microTime(new Date(T0 + 2_000)) }, T0 + 5_000);
    assert.equal(renewed.atMs, T0 + 5_000);
    assert.equal(judgeLease(held, 'b', renewed.atMs, T0 + 16_000), 'held');
  });

  it('takes a released lease at once, and sees its own as its own', () => {
    const released = releasedSpec(held, new Date(T0));
    assert.equal(judgeLease(released, 'b', T0, T0), 'free');
    assert.equal(judgeLease(held, 'a', T0, T0), 'ours');
  });
});

describe('leader election: writing a Lease', () => {
  it('creates with no transitions, renews keeping acquireTime, counts a new holder as a transition', () => {
    const created = heldSpec(undefined, 'a', 15_000, new Date(T0));
    assert.deepEqual(created, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(new Date(T0)), renewTime: microTime(new Date(T0)), leaseTransitions: 0 });
    const renewed = heldSpec(created, 'a', 15_000, new Date(T0 + 2_000));
    assert.equal(renewed.acquireTime, created.acquireTime);
    assert.equal(renewed.renewTime, microTime(new Date(T0 + 2_000)));
    assert.equal(renewed.leaseTransitions, 0);
    const taken = heldSpec(renewed, 'b', 15_000, new Date(T0 + 20_000));
    assert.equal(taken.holderIdentity, 'b');
    assert.equal(taken.acquireTime, microTime(new Date(T0 + 20_000)));
    assert.equal(taken.leaseTransitions, 1);
  });

  it('releases by clearing the holder, keeping the transition count', () => {
    const released = releasedSpec(held, new Date(T0 + 1_000));
    assert.equal(released.holderIdentity, '');
    assert.equal(released.leaseDurationSeconds, 1);
    assert.equal(released.leaseTransitions, 2);
  });
});

describe('leader election: settings', () => {
  const config = { LEADER_ELECTION: 'true' as const, LEADER_ELECTION_LEASE_NAME: 'scw-karpenter-watcher' };

  it('uses the Pod name as identity and the Pod namespace for the Lease', () => {
    const s = leaderElectionSettings(config, { POD_NAME: 'watcher-7d9f-abcde', POD_NAMESPACE: 'scw-karpenter' });
    assert.deepEqual(s, { enabled: true, namespace: 'scw-karpenter', name: 'scw-karpenter-watcher', identity: 'watcher-7d9f-abcde' });
  });

  it('outside a Pod: kube-system, and a hostname with a random suffix, unique per process', () => {
    const a = leaderElectionSettings(config, {});
    const b = leaderElectionSettings(config, {});
    assert.equal(a.namespace, DEFAULT_LEASE_NAMESPACE);
    assert.match(a.identity, /_[0-9a-f]{8}$/);
    assert.notEqual(a.identity, b.identity);
  });

  it('lets LEADER_ELECTION_NAMESPACE win over the Pod namespace, and LEADER_ELECTION=false turn it off', () => {
    assert.equal(leaderElectionSettings({ ...config, LEADER_ELECTION_NAMESPACE: 'ops' }, { POD_NAMESPACE: 'scw-karpenter' }).namespace, 'ops');
    assert.equal(leaderElectionSettings({ ...config, LEADER_ELECTION: 'false' }, {}).enabled, false);
  });
});

/**
 * An apiserver that stores one kind of object with optimistic concurrency,
 * and can be made to fail or hang every call (the real one is in the
 * integration test; this one is for what a real one cannot do on cue).
 */
function fakeApiserver(): { kube: KubeRest; mode: 'up' | 'failing' | 'hanging'; stored(path: string): { spec: LeaseSpec } | undefined } {
  const objects = new Map<string, Record<string, unknown> & { metadata: { resourceVersion: string } }>();
  let version = 0;
  const state = { mode: 'up' as 'up' | 'failing' | 'hanging' };
  const gate = async (): Promise<void> => {
    if (state.mode === 'failing') throw new KubeError(503, 'ServiceUnavailable', 'apiserver down');
    if (state.mode === 'hanging') await new Promise(() => undefined);
  };
  const write = (path: string, body: { metadata: Record<string, unknown> }): unknown => {
    const stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
    objects.set(path, stored);
    return structuredClone(stored);
  };
  const kube = {
    getOrUndefined: async (path: string) => {
      await gate();
      const o = objects.get(path);
      return o === undefined ? undefined : structuredClone(o);
    },
    post: async (collection: string, body: { metadata: { name: string } }) => {
      await gate();
      if (collection.endsWith('/events')) return body; // the LeaderElection Events: not what this checks
      const path = `${collection}/${body.metadata.name}`;
      if (objects.has(path)) throw new KubeError(409, 'AlreadyExists', 'exists');
      return write(path, body);
    },
    put: async (path: string, body: { metadata: { resourceVersion?: string } }) => {
      await gate();
      if (objects.get(path)?.metadata.resourceVersion !== body.metadata.resourceVersion) throw new KubeError(409, 'Conflict', 'stale');
      return write(path, body);
    },
  } as unknown as KubeRest;
  return {
    kube,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
    },
    stored: (path) => objects.get(path) as { spec: LeaseSpec } | undefined,
  };
}

describe('leader election: a leader that cannot renew', () => {
  const timings = { leaseDurationMs: 600, renewDeadlineMs: 300, retryPeriodMs: 50 };
  const leasePath = '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l';

  for (const mode of ['failing', 'hanging'] as const) {
    it(`stops acting within the renew deadline when the apiserver is ${mode}, and leads again when it is back`, async () => {
      const api = fakeApiserver();
      let acting = 0;
      const election = startLeaderElection({
        kube: api.kube, namespace: 'ns', name: 'l', identity: 'me', ...timings,
        start: () => {
          acting++;
          return Promise.resolve({ stop: () => Promise.resolve(void acting--) });
        },
      });
      try {
        await election.leading();
        assert.equal(acting, 1);
        api.mode = mode;
        const downAt = Date.now();
        while (election.isLeader()) await sleep(10);
        const stoppedAfter = Date.now() - downAt;
        assert.ok(stoppedAfter <= timings.renewDeadlineMs + timings.retryPeriodMs + 150, `stopped after ${stoppedAfter} ms`);
        // Longer than a retry period: a standby's attempts hang too, and must not stall the campaign.
        await sleep(timings.retryPeriodMs * 3);
        assert.equal(acting, 0, 'what it ran is stopped');
        api.mode = 'up';
        await election.leading();
        assert.equal(acting, 1, 'its own Lease, renewed: it leads again at once');
      } finally {
        api.mode = 'up';
        await election.stop();
      }
      assert.equal(acting, 0);
      assert.equal(api.stored(leasePath)?.spec.holderIdentity, '', 'released on stop');
    });
  }

  it('steps down when starting as leader fails, tells who waits, and tries again', async () => {
    const api = fakeApiserver();
    let attempts = 0;
    const election = startLeaderElection({
      kube: api.kube, namespace: 'ns', name: 'l', identity: 'me', ...timings,
      start: () => (++attempts === 1 ? Promise.reject(new Error('informers would not sync')) : Promise.resolve({ stop: () => Promise.resolve() })),
    });
    try {
      await assert.rejects(election.leading(), /informers would not sync/);
      await election.leading();
      assert.equal(attempts, 2);
    } finally {
      await election.stop();
    }
  });

  it('refuses timings where a standby could take over before the leader stops', () => {
    assert.throws(() => startLeaderElection({ kube: fakeApiserver().kube, namespace: 'ns', identity: 'me', leaseDurationMs: 10_000, renewDeadlineMs: 10_000, start: () => Promise.resolve({ stop: () => Promise.resolve() }) }), /renewDeadline < leaseDuration/);
  });
});
