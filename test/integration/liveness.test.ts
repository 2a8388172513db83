// The watcher's backstops on the real stack: a NodeClaim whose provisioning
// workflow was terminated before it launched is deleted once past its launch
// timeout (LaunchTimeout Event), leaving nothing behind; a termination workflow
// terminated mid-way is started again (TerminationRestarted Event) and finishes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { clusterPath } from '../../kube/objects.ts';
import { ANNOTATION_SERVER_CREATE_ATTEMPTED, ANNOTATION_TERMINATION_WORKFLOW_ID, ANNOTATION_WORKFLOW_ID, NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { parseProviderId } from '../../kube/api/provider-id.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';

const L4 = [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }];
const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };

describe('watcher liveness backstops', () => {
  let stack: ProvisioningStack;
  const serversOf = (uid: string): Record<string, unknown>[] =>
    stack.simulator.servers().filter((s) => (s.tags as string[]).includes(`karpenter.scaleway.com/nodeclaim-uid=${uid}`));
  const eventsOf = async (name: string): Promise<{ reason: string; message: string; type: string }[]> =>
    (await stack.product.adminKube.get<{ items: { reason: string; message: string; type: string }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items;
  const untilGone = (name: string, timeoutMs = 90_000): Promise<boolean> =>
    eventually(`${name} deleted`, async () => ((await getNodeClaim(stack, name)) === undefined ? true : undefined), timeoutMs);
  const terminate = (workflowId: string): Promise<unknown> => stack.product.worker.client.workflow.getHandle(workflowId).terminate('test: terminated by hand');

  before(async () => {
    // A 2 s resync instead of a minute: the backstops act on resyncs.
    stack = await useProvisioningStack({ product: { watcher: { resyncMs: 2_000 } } });
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('quick-launch', { timeouts: { launch: '20s' } }));
    await stack.product.adminKube.post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
  });

  it('deletes a NodeClaim whose provisioning workflow was terminated before launch, and leaks nothing', async () => {
    // The create lands a few seconds after the workflow is gone: the lost create a crash leaves.
    stack.simulator.faults.addLatency({ kind: 'createServer', ms: 4_000, times: 1 });
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject('terminated-early', { nodeClass: 'quick-launch', requirements: L4, requests: GPU_REQUEST }));
    const nc = await eventually('the create attempt', async () => {
      const current = await getNodeClaim(stack, 'terminated-early');
      return current?.metadata.annotations?.[ANNOTATION_SERVER_CREATE_ATTEMPTED] && current.metadata.annotations[ANNOTATION_WORKFLOW_ID] ? current : undefined;
    });
    const uid = nc.metadata.uid ?? '';
    await terminate(nc.metadata.annotations?.[ANNOTATION_WORKFLOW_ID] ?? '');
    await untilGone('terminated-early');
    const events = await eventsOf('terminated-early');
    const timeout = events.find((e) => e.reason === 'LaunchTimeout');
    assert.ok(timeout, `a LaunchTimeout Event (got ${events.map((e) => e.reason).join(', ')})`);
    assert.equal(timeout.type, 'Warning');
    assert.match(timeout.message, /terminated/);
    assert.deepEqual(serversOf(uid), [], 'no server tagged with its UID in any zone');
    assert.deepEqual(stack.simulator.volumes().filter((v) => v.name === `scw-karpenter-sandbox-${uid}`), [], 'no root volume left');
  });

  it('starts a terminated termination workflow again, and the NodeClaim finishes deleting', async () => {
    await stack.product.adminKube.post(clusterPath(NODECLAIM_GVR), nodeClaimObject('restarted-termination', { nodeClass: 'gpu', requirements: L4, requests: GPU_REQUEST }));
    const nc = await eventually('restarted-termination Ready', async () => {
      const current = await getNodeClaim(stack, 'restarted-termination');
      return conditionOf(current, 'Ready')?.status === 'True' ? current : undefined;
    });
    const uid = nc.metadata.uid ?? '';
    const server = parseProviderId(nc.status.providerID ?? '');
    assert.ok(server);
    // Locked: the termination waits on it, so it is still running when terminated.
    stack.simulator.faults.lock(server.serverId);
    await stack.product.adminKube.delete(clusterPath(NODECLAIM_GVR, 'restarted-termination'));
    const workflowId = await eventually('the termination workflow', async () => (await getNodeClaim(stack, 'restarted-termination'))?.metadata.annotations?.[ANNOTATION_TERMINATION_WORKFLOW_ID]);
    await eventually('the termination to wait on the locked server', async () => (conditionOf(await getNodeClaim(stack, 'restarted-termination'), 'InstanceTerminating')?.status === 'True' ? true : undefined));
    await terminate(workflowId);
    const restarted = await eventually('a TerminationRestarted Event', async () => (await eventsOf('restarted-termination')).find((e) => e.reason === 'TerminationRestarted'));
    assert.equal(restarted.type, 'Warning');
    assert.match(restarted.message, /terminated/);
    stack.simulator.faults.unlock(server.serverId);
    await untilGone('restarted-termination', 120_000);
    assert.deepEqual(serversOf(uid), [], 'its server released');
  });
});
