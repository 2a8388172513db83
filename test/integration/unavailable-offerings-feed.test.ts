// The planner learns what the launch found empty. The planner runs in the
// watcher, the launch in the worker: the worker records a refused create on
// its NodeClaim, the watcher feeds its own unavailable offerings from the
// NodeClaims it watches, and the next plan asks for the next offering instead
// of the empty one, also after the watcher restarts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_NOMINATED_PODS, ANNOTATION_PLANNED_OFFERING, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { ANNOTATION_UNAVAILABLE_OFFERINGS, parseUnavailableOfferings } from '../../kube/api/unavailable-offerings-annotation.ts';
import { type NodeClaim } from '../../kube/api/schemas.ts';
import { conditionOf, eventually, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import { nodeClaimsOfPool } from './fixtures/nodeclaims.ts';
import { gpuPod } from './fixtures/pods.ts';

const POOL = 'scaleway-gpu';
const ZONE = 'fr-par-2';
/** The cheapest L4 in fr-par-2: what the planner asks for first. */
const CHEAPEST = 'L4-1-24G';
const INSTANCE_TYPE = 'node.kubernetes.io/instance-type';

describe('out-of-stock offerings seen by the launch reach the planner', () => {
  let stack: ProvisioningStack;
  const kube = (): ProvisioningStack['product']['adminKube'] => stack.product.adminKube;
  const claims = (): Promise<NodeClaim[]> => nodeClaimsOfPool(kube(), POOL);
  // Each pod keeps the others off its node (hostname anti-affinity): every pod needs a NodeClaim of its own.
  const stockPod = (name: string): Record<string, unknown> => gpuPod(name, { cpu: '2', memory: '4Gi', antiAffinityApp: 'stock' });
  const claimFor = (podName: string): Promise<NodeClaim> =>
    eventually(`a NodeClaim nominated for ${podName}`, async () => (await claims()).find((c) => (c.metadata.annotations?.[ANNOTATION_NOMINATED_PODS] ?? '').split(',').includes(`default/${podName}`)), 60_000);
  /** The types the planner allowed, cheapest first: the launch tries them in this order. */
  const plannedTypes = (c: NodeClaim): string[] => c.spec.requirements.find((r) => r.key === INSTANCE_TYPE && r.operator === 'In')?.values ?? [];
  const createsOf = (type: string): number =>
    stack.simulator.requests.filter((r) => r.kind === 'createServer' && r.zone === ZONE && r.commercialType === type).length;

  before(async () => {
    stack = await useProvisioningStack({ product: { watcher: { batchIdleMs: 300, batchMaxMs: 3_000 } } });
    await kube().post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu', { zones: [ZONE] }));
    await kube().post(clusterPath(NODEPOOL_GVR), parseYaml(readFileSync(new URL('../../examples/nodepool-gpu.yaml', import.meta.url), 'utf8')));
  });

  it('plans the next offering once a launch found the cheapest out of stock, before and after a watcher restart', async () => {
    stack.simulator.faults.failNext({ kind: 'createServer', zone: ZONE, commercialType: CHEAPEST, error: 'out_of_stock', times: 1 });
    await kube().post('/api/v1/namespaces/default/pods', stockPod('first'));
    const first = await claimFor('first');
    assert.equal(plannedTypes(first)[0], CHEAPEST, 'the first plan asks for the cheapest L4');

    // The launch falls back, and says on the NodeClaim what it found empty.
    const launched = await eventually('first launched', async () => {
      const c = (await claims()).find((x) => x.metadata.name === first.metadata.name);
      return conditionOf(c, 'Launched')?.status === 'True' ? c : undefined;
    }, 120_000);
    assert.notEqual(launched.metadata.labels?.[INSTANCE_TYPE], CHEAPEST, 'launched on the fallback');
    const records = parseUnavailableOfferings(launched.metadata.annotations?.[ANNOTATION_UNAVAILABLE_OFFERINGS]);
    assert.deepEqual(records.map((r) => [r.zone, r.commercialType, r.reason]), [[ZONE, CHEAPEST, 'out of stock']]);
    assert.equal(createsOf(CHEAPEST), 1, 'one refused create');

    // The next plan, in the watcher, no longer offers the empty one.
    await kube().post('/api/v1/namespaces/default/pods', stockPod('second'));
    const second = await claimFor('second');
    assert.ok(second.metadata.name !== first.metadata.name, 'a NodeClaim of its own');
    assert.ok(plannedTypes(second).length > 0, 'planned some L4');
    assert.ok(!plannedTypes(second).includes(CHEAPEST), `planned ${plannedTypes(second).join(', ')}: not the empty ${CHEAPEST}`);
    assert.ok(!(second.metadata.annotations?.[ANNOTATION_PLANNED_OFFERING] ?? '').startsWith(`${CHEAPEST}@`));

    // Each pod on its own node before the third comes: the scheduler knows nothing of nominations, and would
    // bind the third to the second's new node if it joined while both were pending.
    for (const name of ['first', 'second']) {
      await eventually(`${name} bound`, async () => ((await kube().get<{ spec: { nodeName?: string } }>(`/api/v1/namespaces/default/pods/${name}`)).spec.nodeName ? true : undefined), 120_000);
    }

    // A restarted watcher relearns it from the NodeClaims it lists (the record is within its TTL).
    await stack.product.restartWatcher();
    await kube().post('/api/v1/namespaces/default/pods', stockPod('third'));
    const third = await claimFor('third');
    assert.ok(plannedTypes(third).length > 0 && !plannedTypes(third).includes(CHEAPEST), `planned ${plannedTypes(third).join(', ')} after the restart`);
    assert.equal(createsOf(CHEAPEST), 1, 'no create asked for the empty offering again');
  });
});
