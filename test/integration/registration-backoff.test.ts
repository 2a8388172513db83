// Issue 8 on the real stack. Scenario 11: a NodePool whose zones exclude its
// NodeClass's is told so on the pod and as a NodePool condition. Scenario 5: a
// NodePool whose nodes never join backs off per offering, stops buying after 3
// failures (NodePool and NodeClass say so), and resumes once its NodeClass
// changes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { clusterPath } from '../../kube/objects.ts';
import { NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseNodePool, type NodeClaim } from '../../kube/api/schemas.ts';
import { findCondition } from '../../kube/api/conditions.ts';
import { ANNOTATION_REGISTRATION_HEALTH } from '../../kube/api/constants.ts';
import { eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';

const GPU_REQUEST = { cpu: '500m', memory: '1Gi', 'nvidia.com/gpu': '1' };

function nodePoolObject(name: string, nodeClass: string, requirements: unknown[]): Record<string, unknown> {
  return {
    apiVersion: NODEPOOL_GVR.apiVersion,
    kind: NODEPOOL_GVR.kind,
    metadata: { name },
    spec: {
      template: { spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: nodeClass }, requirements } },
      disruption: { consolidationPolicy: 'WhenEmpty', consolidateAfter: 'Never' },
    },
  };
}

describe('why nothing is bought, and not buying forever', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const pod = (name: string, pool: string): Record<string, unknown> => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name },
    spec: {
      nodeSelector: { 'karpenter.sh/nodepool': pool },
      containers: [{ name: 'c', image: 'registry.invalid/train:1', resources: { requests: GPU_REQUEST, limits: { 'nvidia.com/gpu': '1' } } }],
    },
  });
  const eventsOf = async (kind: string, name: string): Promise<{ reason: string; message: string }[]> =>
    (await kube().get<{ items: { reason: string; message: string; involvedObject: { kind: string } }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items.filter((e) => e.involvedObject.kind === kind);
  const poolCondition = async (pool: string, type: string) => findCondition(parseNodePool(await kube().get(clusterPath(NODEPOOL_GVR, pool))).status.conditions, type);
  const claimsOf = async (pool: string): Promise<NodeClaim[]> =>
    nodeClaimsOfPool(kube(), pool);

  before(async () => {
    stack = await useProvisioningStack({
      product: { refuseToJoin: (server) => server.name.startsWith('never-joins'), watcher: { batchIdleMs: 300, batchMaxMs: 3_000 } },
    });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('quick-timeout', { timeouts: { registration: '8s' } }));
  });

  it('names the zones on each side when a NodePool excludes every zone of its NodeClass (pod Event and NodePool condition)', async () => {
    await kube().post(clusterPath(NODEPOOL_GVR), nodePoolObject('wrong-zone', 'gpu', [
      { key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] },
      { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['nl-ams-1'] },
    ]));
    await kube().post('/api/v1/namespaces/default/pods', pod('zone-pod', 'wrong-zone'));
    const expected = 'NodePool wrong-zone requires topology.kubernetes.io/zone In [nl-ams-1] but ScalewayNodeClass gpu allows only [fr-par-2]';
    const event = await eventually('a FailedScheduling Event naming the zones', async () =>
      (await eventsOf('Pod', 'zone-pod')).find((e) => e.reason === 'FailedScheduling' && e.message.includes(expected)), 60_000);
    assert.doesNotMatch(event.message, /no available instance type meets/);
    const condition = await eventually('InstanceTypesAvailable=False on the NodePool', async () => {
      const c = await poolCondition('wrong-zone', 'InstanceTypesAvailable');
      return c?.status === 'False' ? c : undefined;
    }, 60_000);
    assert.equal(condition.reason, 'ZonesExcluded');
    assert.equal(condition.message, expected);
    assert.ok((await eventsOf('NodePool', 'wrong-zone')).some((e) => e.reason === 'NoCompatibleInstanceTypes' && e.message === expected));
    assert.deepEqual(await claimsOf('wrong-zone'), []);
    await kube().delete('/api/v1/namespaces/default/pods/zone-pod', { gracePeriodSeconds: 0 });
  });

  it('backs off per offering after nodes fail to join, stops after 3, says so, and resumes when the NodeClass changes', async () => {
    await kube().post(clusterPath(NODEPOOL_GVR), nodePoolObject('never-joins', 'quick-timeout', [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }]));
    await kube().post('/api/v1/namespaces/default/pods', pod('lonely', 'never-joins'));
    const creates = (): number => stack.simulator.countRequests({ kind: 'createServer', status: 201 });
    const before = creates();

    const stopped = await eventually('NodeRegistrationHealthy=False RegistrationStopped on the NodePool', async () => {
      const c = await poolCondition('never-joins', 'NodeRegistrationHealthy');
      return c?.status === 'False' && c.reason === 'RegistrationStopped' ? c : undefined;
    }, 240_000, 500);
    assert.match(stopped.message ?? '', /NodePool never-joins stopped buying after 3 consecutive registration failures/);
    const bought = creates() - before;
    assert.equal(bought, 3, `three servers bought, then none (got ${bought})`);
    // Each failed offering is backed off: the three tries were three different offerings.
    const pool = parseNodePool(await kube().get(clusterPath(NODEPOOL_GVR, 'never-joins')));
    const health = JSON.parse(pool.metadata.annotations?.[ANNOTATION_REGISTRATION_HEALTH] ?? '{}') as { consecutive: number; offerings: Record<string, unknown> };
    assert.equal(health.consecutive, 3, 'the counters are on the NodePool, for a restarted watcher');
    assert.equal(Object.keys(health.offerings).length, 3, `three offerings backed off: ${Object.keys(health.offerings).join(', ')}`);

    // The NodeClass follows its NodePools' conditions: it may say RegistrationFailed (the first failures) before
    // it reads the NodePool's RegistrationStopped.
    const onClass = await eventually('NodeRegistrationHealthy=False RegistrationStopped on the NodeClass', async () => {
      const nc = await kube().get<{ status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, 'quick-timeout'));
      const c = nc.status?.conditions?.find((x) => x.type === 'NodeRegistrationHealthy');
      return c?.status === 'False' && c.reason === 'RegistrationStopped' ? c : undefined;
    }, 30_000);
    assert.match(onClass.message, /^NodePool never-joins: /);
    await eventually('the pod told why', async () =>
      (await eventsOf('Pod', 'lonely')).find((e) => e.reason === 'FailedScheduling' && /stopped buying after 3 consecutive registration failures/.test(e.message)), 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(creates() - before, 3, 'nothing more bought while stopped');
    // A new watcher (empty memory) reads the counters back from the NodePool and still buys nothing.
    await stack.product.restartWatcher();
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(creates() - before, 3, 'nothing bought after a watcher restart either');

    // A NodeClass change (a new generation) gives it a fresh chance.
    await kube().patch(clusterPath(SCALEWAY_NODECLASS_GVR, 'quick-timeout'), { spec: { timeouts: { registration: '9s' } } });
    await eventually('a new server bought after the NodeClass changed', () => Promise.resolve(creates() - before > 3 ? true : undefined), 60_000);
    await kube().delete('/api/v1/namespaces/default/pods/lonely', { gracePeriodSeconds: 0 });
  });
});
