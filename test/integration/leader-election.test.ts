// Leader election on a real kube-apiserver, with client-go's timings (lease
// 15 s, renew deadline 10 s, retry 2 s): one candidate acts at a time; a
// leader killed without releasing is replaced within about a lease duration,
// never before it expired; a graceful stop hands over at once; a leader that
// finds its Lease taken stops acting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { parse as parseYaml } from 'yaml';
import { createKubeRest, type KubeRest } from '../../kube/rest.ts';
import { loadKubeCredentials } from '../../kube/credentials.ts';
import { clusterPath } from '../../kube/objects.ts';
import { NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseNodeClaim } from '../../kube/api/schemas.ts';
import { microTime, startLeaderElection, type LeaderElection, type LeaseSpec } from '../../watcher/leader-election.ts';
import type { RunningWatcher } from '../../watcher/watcher.ts';
import type { ProvisioningStack } from '../harness/provisioning.ts';
import type { ControlPlane } from '../../sandbox/control-plane.ts';
import { useControlPlane } from '../harness/stack.ts';

const NAMESPACE = 'kube-system';

// Not the harness's: that one imports the whole product, which this file does not need.
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** What a candidate runs while leading: it only records when it started and stopped. */
interface Acting {
  startedAt: number;
  stoppedAt?: number;
  stop(): Promise<void>;
}

interface Candidate {
  election: LeaderElection<Acting>;
  runs: Acting[];
}

describe('leader election on a Lease (real apiserver)', () => {
  let kube: KubeRest;
  let cp: ControlPlane;
  before(async () => {
    cp = await useControlPlane();
    kube = createKubeRest(loadKubeCredentials(cp.kubeconfig));
  });
  // Now rather than at the end of the file: the next suite starts a whole stack of its own.
  after(() => cp.stop());

  const candidates: Candidate[] = [];
  const candidate = (identity: string, lease: string): Candidate => {
    const runs: Acting[] = [];
    const election = startLeaderElection<Acting>({
      kube,
      namespace: NAMESPACE,
      name: lease,
      identity,
      start: () => {
        const run: Acting = { startedAt: Date.now(), stop: () => Promise.resolve(void (run.stoppedAt = Date.now())) };
        runs.push(run);
        return Promise.resolve(run);
      },
    });
    const c = { election, runs };
    candidates.push(c);
    return c;
  };
  const acting = (c: Candidate): boolean => c.runs.some((r) => r.stoppedAt === undefined);
  const leaseSpec = async (lease: string): Promise<LeaseSpec & { resourceVersion: string }> => {
    const got = await kube.get<{ metadata: { resourceVersion: string }; spec: LeaseSpec }>(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/${lease}`);
    return { ...got.spec, resourceVersion: got.metadata.resourceVersion };
  };
  const theLeader = (cs: Candidate[]): Promise<Candidate> =>
    eventually('a leader', () => Promise.resolve(cs.filter((c) => c.election.isLeader() && acting(c)).length === 1 ? cs.find((c) => c.election.isLeader()) : undefined), 20_000, 100);
  const stopAll = async (): Promise<void> => {
    for (const c of candidates.splice(0)) await c.election.stop();
  };

  it('lets exactly one of two candidates lead, the one the Lease names', async () => {
    try {
      const cs = [candidate('alpha', 'one-leads'), candidate('beta', 'one-leads')];
      const leader = await theLeader(cs);
      // Three retry periods: the standby looks again and again, and never starts.
      const until = Date.now() + 6_000;
      while (Date.now() < until) {
        assert.deepEqual(cs.map((c) => c.election.isLeader()), cs.map((c) => c === leader), 'exactly one leads, always the same');
        assert.deepEqual(cs.map(acting), cs.map((c) => c === leader), 'only the leader acts');
        await sleep(100);
      }
      const spec = await leaseSpec('one-leads');
      assert.equal(spec.holderIdentity, leader.election.identity);
      assert.equal(spec.leaseDurationSeconds, 15);
      assert.ok(Date.now() - Date.parse(spec.renewTime ?? '') < 5_000, `renewed every retry period (last ${spec.renewTime})`);
      assert.equal(cs.find((c) => c !== leader)?.runs.length, 0, 'the standby never started');
    } finally {
      await stopAll();
    }
  });

  it('replaces a leader killed without releasing within about a lease duration, not before it expired', async () => {
    try {
      const cs = [candidate('gamma', 'killed'), candidate('delta', 'killed')];
      const leader = await theLeader(cs);
      const standby = cs.find((c) => c !== leader) as Candidate;
      await sleep(3_000); // the standby has seen a renewal or two
      const killedAt = Date.now();
      await leader.election.kill(); // stops renewing; the Lease still names it
      assert.equal((await leaseSpec('killed')).holderIdentity, leader.election.identity, 'not released');
      await eventually('the standby to lead', () => Promise.resolve(standby.election.isLeader() && acting(standby) ? true : undefined), 40_000, 100);
      const took = (Date.now() - killedAt) / 1000;
      console.log(`[leader-election test] standby took over ${took.toFixed(1)} s after the leader was killed`);
      // Liveness: about 15 s (the lease) plus up to a retry period or two; the bound has margin for a loaded machine.
      assert.ok(took < 25, `took over within 25 s (${took.toFixed(1)} s)`);
      // Safety: not before the dead leader's lease (15 s from its last renewal, at most a retry period before the kill) ran out.
      assert.ok(took > 12, `not before the lease expired (${took.toFixed(1)} s)`);
      const spec = await leaseSpec('killed');
      assert.equal(spec.holderIdentity, standby.election.identity);
      assert.equal(spec.leaseTransitions, 1);
      const events = await kube.get<{ items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>(`/api/v1/namespaces/${NAMESPACE}/events`);
      const takeover = events.items.find((e) => e.involvedObject.kind === 'Lease' && e.involvedObject.name === 'killed' && e.message.startsWith(`${standby.election.identity} became leader`));
      assert.ok(takeover, 'an Event on the Lease says who took over');
      assert.equal(takeover.reason, 'LeaderElection');
      assert.match(takeover.message, new RegExp(`taking over from ${leader.election.identity}, whose lease expired`));
    } finally {
      await stopAll();
    }
  });

  it('hands over at once on a graceful stop: released, the standby leads within a retry period', async () => {
    try {
      const cs = [candidate('epsilon', 'released'), candidate('zeta', 'released')];
      const leader = await theLeader(cs);
      const standby = cs.find((c) => c !== leader) as Candidate;
      const stoppedAt = Date.now();
      await leader.election.stop();
      candidates.splice(candidates.indexOf(leader), 1);
      await eventually('the standby to lead', () => Promise.resolve(standby.election.isLeader() && acting(standby) ? true : undefined), 20_000, 100);
      const took = (Date.now() - stoppedAt) / 1000;
      assert.ok(took < 5, `took over within 5 s (${took.toFixed(1)} s)`);
      const [old] = leader.runs;
      const [current] = standby.runs;
      assert.ok(old?.stoppedAt !== undefined && current && old.stoppedAt <= current.startedAt, 'the old leader stopped acting before the new one started');
      assert.equal((await leaseSpec('released')).holderIdentity, standby.election.identity);
    } finally {
      await stopAll();
    }
  });

  it('stops acting as soon as it finds its Lease held by another', async () => {
    try {
      const c = candidate('eta', 'taken');
      await theLeader([c]);
      const spec = await leaseSpec('taken');
      const now = microTime(new Date());
      // Another holder writes the Lease, as a replica that (wrongly) judged it expired would.
      await kube.put(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/taken`, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
        metadata: { name: 'taken', namespace: NAMESPACE, resourceVersion: spec.resourceVersion },
        spec: { holderIdentity: 'intruder', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 1 },
      });
      const takenAt = Date.now();
      await eventually('the leader to stop', () => Promise.resolve(!c.election.isLeader() && !acting(c) ? true : undefined), 10_000, 100);
      assert.ok(Date.now() - takenAt < 4_000, 'at its next renewal, not after the renew deadline');
      assert.equal((await leaseSpec('taken')).holderIdentity, 'intruder', 'it did not overwrite the new holder');
    } finally {
      await stopAll();
    }
  });
});

describe('two watchers through the election: pending pods are planned once, also across a failover', () => {
  let stack: ProvisioningStack;
  let connection: Connection;
  const elections: LeaderElection<RunningWatcher>[] = [];
  const kube = (): KubeRest => stack.product.adminKube;
  const example = (file: string): Record<string, unknown> => parseYaml(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;
  const pod = (name: string): Record<string, unknown> => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name },
    spec: {
      tolerations: [{ key: 'karpenter.sh/capacity-type', operator: 'Exists', effect: 'NoSchedule' }],
      nodeSelector: { 'karpenter.scaleway.com/instance-gpu-name': 'l4' },
      containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } } }],
    },
  });
  const untilRunning = (names: string[]): Promise<Map<string, string>> => eventually(`${names.join(', ')} Running`, async () => {
    const pods = await Promise.all(names.map((n) => kube().get<{ spec: { nodeName?: string }; status: { phase?: string } }>(`/api/v1/namespaces/default/pods/${n}`)));
    return pods.every((p) => p.status.phase === 'Running') ? new Map(names.map((n, i) => [n, pods[i]?.spec.nodeName ?? ''])) : undefined;
  }, 150_000, 500);
  /** A pod planned twice leaves a NodeClaim that none of the pods runs on. */
  const assertNoDuplicate = async (nodeOfPod: Map<string, string>): Promise<void> => {
    const claims = (await kube().get<{ items: unknown[] }>(clusterPath(NODECLAIM_GVR))).items.map(parseNodeClaim);
    const used = new Set(nodeOfPod.values());
    const unused = claims.filter((c) => !c.status.nodeName || !used.has(c.status.nodeName));
    assert.deepEqual(unused.map((c) => c.metadata.name), [], `every NodeClaim runs one of the pods (${claims.length} NodeClaims for ${nodeOfPod.size} pods)`);
  };

  before(async () => {
    // Imported here: the product is not needed by the suite above.
    const { useProvisioningStack, nodeClassObject } = await import('../harness/provisioning.ts');
    stack = await useProvisioningStack({ product: { withoutWatcher: true } });
    connection = await Connection.connect({ address: stack.temporal.address });
    const { startWatcher } = await import('../../watcher/watcher.ts');
    const { temporalDataConverter } = await import('../../runtime/payload-codec.ts');
    // The product's codec: the worker reads only what it encrypts.
    const dataConverter = temporalDataConverter(stack.product.payloadCodec);
    // Both replicas as the watcher's ServiceAccount, on the chart's Lease in the release namespace, as its Deployment runs.
    for (const identity of ['watcher-a', 'watcher-b']) {
      elections.push(startLeaderElection({
        kube: stack.product.watcherKube,
        namespace: stack.product.leaseNamespace,
        identity,
        start: () => startWatcher({
          kube: stack.product.watcherKube,
          temporal: new Client({ connection, namespace: stack.temporal.namespace, dataConverter }),
          cloud: stack.product.cloud,
          namespace: stack.temporal.namespace,
          temporalUiUrl: stack.temporal.uiUrl,
          batchIdleMs: 300,
          batchMaxMs: 3_000,
        }),
      }));
    }
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await kube().post(clusterPath(NODEPOOL_GVR), example('nodepool-gpu.yaml'));
  });
  after(async () => {
    for (const e of elections) await e.stop();
    await connection.close();
  });

  it('runs one watcher; a killed leader is replaced and the pods are planned once', async () => {
    await eventually('one watcher leading', () => Promise.resolve(elections.filter((e) => e.current()).length === 1 ? true : undefined), 30_000, 100);
    const leader = elections.find((e) => e.isLeader()) as LeaderElection<RunningWatcher>;
    const standby = elections.find((e) => e !== leader) as LeaderElection<RunningWatcher>;
    assert.equal(standby.current(), undefined, 'the standby runs no watcher');

    for (const name of ['le-1', 'le-2']) await kube().post('/api/v1/namespaces/default/pods', pod(name));
    await assertNoDuplicate(await untilRunning(['le-1', 'le-2']));

    const killedAt = Date.now();
    await leader.kill();
    for (const name of ['le-3', 'le-4']) await kube().post('/api/v1/namespaces/default/pods', pod(name));
    await eventually('the standby watching', () => Promise.resolve(standby.current() ? true : undefined), 40_000, 100);
    const took = (Date.now() - killedAt) / 1000;
    assert.ok(took < 25, `the standby took over within 25 s (${took.toFixed(1)} s)`);
    await assertNoDuplicate(await untilRunning(['le-1', 'le-2', 'le-3', 'le-4']));
  });
});
