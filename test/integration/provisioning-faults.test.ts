// What goes wrong, and what is left afterwards: stock-outs, nodes that never
// join, bad NodeClasses, deletions, and restarts of the worker and the watcher.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { clusterPath, getNode } from '../../kube/objects.ts';
import { NODECLAIM_GVR, SCALEWAY_NODECLASS_GVR } from '../../kube/api/constants.ts';
import { conditionOf, eventually, getNodeClaim, nodeClaimObject, nodeClassObject, useProvisioningStack, type ProvisioningStack } from '../harness/provisioning.ts';
import type { NodeClaim } from '../../kube/api/schemas.ts';
import { Client, Connection } from '@temporalio/client';
import { temporalDataConverter } from '../../runtime/payload-codec.ts';
import { startWatcher } from '../../watcher/watcher.ts';

const L4 = [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['l4'] }];
const GPU_REQUEST = { 'nvidia.com/gpu': '1', cpu: '2', memory: '8Gi' };

describe('provisioning faults and cleanup', () => {
  let stack: ProvisioningStack;
  const post = (path: string, body: unknown): Promise<unknown> => stack.product.adminKube.post(path, body);
  const serversOf = (uid: string): Record<string, unknown>[] =>
    stack.simulator.servers().filter((s) => (s.tags as string[]).includes(`karpenter.scaleway.com/nodeclaim-uid=${uid}`));
  const volumesOf = (uid: string): Record<string, unknown>[] =>
    stack.simulator.volumes().filter((v) => v.name === `scw-karpenter-sandbox-${uid}`);
  const createNodeClaim = async (name: string, nodeClass = 'gpu', requirements: unknown[] = L4): Promise<NodeClaim> => {
    await post(clusterPath(NODECLAIM_GVR), nodeClaimObject(name, { nodeClass, requirements, requests: GPU_REQUEST }));
    const nc = await getNodeClaim(stack, name);
    assert.ok(nc);
    return nc;
  };
  const untilReady = (name: string): Promise<NodeClaim> => eventually(`${name} Ready`, async () => {
    const nc = await getNodeClaim(stack, name);
    return conditionOf(nc, 'Ready')?.status === 'True' ? nc : undefined;
  });
  const untilGone = (name: string, timeoutMs = 60_000): Promise<boolean> =>
    eventually(`${name} deleted`, async () => ((await getNodeClaim(stack, name)) === undefined ? true : undefined), timeoutMs);
  const eventsOf = async (name: string): Promise<{ reason: string; message: string; type: string }[]> =>
    (await stack.product.adminKube.get<{ items: { reason: string; message: string; type: string }[] }>(`/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items;

  before(async () => {
    stack = await useProvisioningStack({ product: { refuseToJoin: (server) => server.name.startsWith('never-joins') } });
    await post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('gpu'));
    await post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('quick-timeout', { timeouts: { registration: '8s' } }));
    await post(clusterPath(SCALEWAY_NODECLASS_GVR), nodeClassObject('missing-secret', {
      bootstrap: { mode: 'k3s', k3s: { serverURL: 'https://k3s.example.internal:6443', tokenSecretRef: { name: 'k3s-token', namespace: 'kube-system' } } },
    }));
  });

  it('moves on to the next offering when the cheapest is out of stock, and skips it for the next NodeClaim', async () => {
    stack.simulator.faults.failNext({ kind: 'createServer', zone: 'fr-par-2', commercialType: 'L4-1-24G', error: 'out_of_stock', times: 1 });
    await createNodeClaim('stock-a');
    const nc = await untilReady('stock-a');
    assert.notEqual(nc.metadata.labels?.['node.kubernetes.io/instance-type'], 'L4-1-24G');
    assert.equal(nc.metadata.labels?.['karpenter.scaleway.com/instance-gpu-name'], 'l4');
    assert.equal(serversOf(nc.metadata.uid ?? '').length, 1, 'exactly one server');
    const creates = stack.simulator.requests.filter((r) => r.kind === 'createServer' && r.path.includes('fr-par-2'));
    assert.ok(creates.some((r) => r.status === 503), 'the out-of-stock answer was seen');
  });

  it('rolls back a node that never joins: server terminated, volume deleted, reason recorded, NodeClaim deleted', async () => {
    const nc = await createNodeClaim('never-joins-1', 'quick-timeout');
    const uid = nc.metadata.uid ?? '';
    await eventually('the server and its named root volume to exist', () => Promise.resolve(serversOf(uid).length === 1 && volumesOf(uid).length === 1 ? true : undefined));
    await untilGone('never-joins-1', 90_000);
    assert.equal(serversOf(uid).length, 0, 'server terminated');
    assert.equal(volumesOf(uid).length, 0, 'root volume deleted');
    const events = await eventsOf('never-joins-1');
    const timeout = events.find((e) => e.reason === 'RegistrationTimeout');
    assert.ok(timeout, `a RegistrationTimeout event (got ${events.map((e) => e.reason).join(', ')})`);
    assert.match(timeout.message, /did not join within 8 s/);
    assert.match(timeout.message, /rolled back \(1 server\(s\), 1 volume\(s\) released\)/);
  });

  it('rolls back a server that was never powered on: deleted (Scaleway refuses to terminate it), volume deleted', async () => {
    // A refusal no retry can fix, between the create and the poweron: the server is left stopped.
    stack.simulator.faults.failNext({ kind: 'setServerUserData', error: 'invalid_arguments', times: 1 });
    const created = (): number => stack.simulator.countRequests({ kind: 'createServer', status: 201 });
    const createdBefore = created();
    const nc = await createNodeClaim('bootstrap-refused');
    const uid = nc.metadata.uid ?? '';
    await untilGone('bootstrap-refused', 60_000);
    assert.equal(created(), createdBefore + 1, 'a server was created for it');
    assert.equal(serversOf(uid).length, 0, 'server deleted');
    assert.equal(volumesOf(uid).length, 0, 'root volume deleted');
    assert.ok(stack.simulator.requests.some((r) => r.kind === 'deleteServer' && r.status === 204), 'deleted, not terminated');
    const events = await eventsOf('bootstrap-refused');
    assert.ok(events.some((e) => /rolled back \(1 server\(s\), 1 volume\(s\) released\)/.test(e.message)), `rolled back (got ${events.map((e) => e.message).join(' | ')})`);
  });

  it('creates nothing for a NodeClass that is not ready, says why, and deletes the NodeClaim', async () => {
    await eventually('the NodeClass verdict', async () => {
      const raw = await stack.product.adminKube.get<{ status?: { conditions?: { type: string; status: string; reason: string }[] } }>(clusterPath(SCALEWAY_NODECLASS_GVR, 'missing-secret'));
      const ready = raw.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'False' && ready.reason === 'SecretNotFound' ? true : undefined;
    });
    const created = stack.simulator.countRequests({ kind: 'createServer' });
    // A finalizer of the test's own holds the deleted NodeClaim, so its last condition can be read.
    const hold = 'test.scw-karpenter.dev/hold';
    await post(clusterPath(NODECLAIM_GVR), { ...nodeClaimObject('bad-class', { nodeClass: 'missing-secret', requirements: L4, requests: GPU_REQUEST }), metadata: { name: 'bad-class', labels: { 'karpenter.sh/nodepool': 'gpu' }, finalizers: [hold] } });
    const nc = await getNodeClaim(stack, 'bad-class');
    assert.ok(nc);
    // Karpenter: a NodeClass that is not ready deletes the NodeClaim, so its pods are planned again.
    const deleted = await eventually('the NodeClaim deleted, its termination done', async () => {
      const got = await getNodeClaim(stack, 'bad-class');
      return got?.metadata.deletionTimestamp && !(got.metadata.finalizers ?? []).includes('karpenter.sh/termination') ? got : undefined;
    });
    const launched = conditionOf(deleted, 'Launched');
    assert.equal(launched?.status, 'False');
    assert.equal(launched?.reason, 'NodeClassNotReady');
    assert.match(launched?.message ?? '', /Secret kube-system\/k3s-token does not exist/);
    const warning = (await eventsOf('bad-class')).find((e) => e.type === 'Warning' && e.reason === 'NodeClassNotReady');
    assert.ok(warning, 'a Warning Event with the reason');
    assert.match(warning.message, /Secret kube-system\/k3s-token does not exist/);
    assert.equal(serversOf(nc.metadata.uid ?? '').length, 0);
    assert.equal(stack.simulator.countRequests({ kind: 'createServer' }), created, 'no create call at all');
    await stack.product.adminKube.patch(clusterPath(NODECLAIM_GVR, 'bad-class'), { metadata: { finalizers: (deleted.metadata.finalizers ?? []).filter((f) => f !== hold) } });
    await untilGone('bad-class');
  });

  it('keeps a NodeClaim asking for an unknown GPU, with the GPUs that exist in the message', async () => {
    await createNodeClaim('no-such-gpu', 'gpu', [{ key: 'karpenter.scaleway.com/instance-gpu-name', operator: 'In', values: ['k80'] }]);
    const failed = await eventually('Launched=False', async () => {
      const launched = conditionOf(await getNodeClaim(stack, 'no-such-gpu'), 'Launched');
      return launched?.status === 'False' ? launched : undefined;
    });
    assert.equal(failed.reason, 'NoCompatibleOffering');
    assert.match(failed.message ?? '', /no GPU type named k80 in fr-par-2; known GPUs: .*l4/);
  });

  it('reuses the server after the workflow is reset to before its create: one server, Ready', async () => {
    // `temporal workflow reset` to the first workflow task: the launch's local activities, createServer
    // included, run again in a new run. The NodeClaim says a create was attempted, so it looks first.
    stack.simulator.faults.stickInStarting({ zone: 'fr-par-2', times: 1 });
    const nc = await createNodeClaim('reset-after-create');
    const uid = nc.metadata.uid ?? '';
    await eventually('the server to be starting', () => Promise.resolve(serversOf(uid)[0]?.state === 'starting' ? true : undefined));
    assert.ok((await getNodeClaim(stack, 'reset-after-create'))?.metadata.annotations?.['karpenter.scaleway.com/server-create-attempted'], 'the first create was recorded on the NodeClaim');
    const client = stack.product.worker.client;
    const workflowId = `provision/reset-after-create/${uid}`;
    const before = await client.workflow.getHandle(workflowId).describe();
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const firstTaskStarted = history.events?.find((e) => e.workflowTaskStartedEventAttributes);
    assert.ok(firstTaskStarted?.eventId);
    const lookups = (): number => stack.simulator.requests.filter((r) => r.kind === 'listServers' && r.query.includes(uid)).length;
    assert.equal(lookups(), 0, 'the first create looked for nothing');
    await client.workflowService.resetWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId, runId: before.runId },
      workflowTaskFinishEventId: firstTaskStarted.eventId,
      reason: 'test: replay the launch',
      requestId: `reset-${uid}`,
    });
    stack.simulator.releaseStuck();
    await untilReady('reset-after-create');
    const after = await client.workflow.getHandle(workflowId).describe();
    assert.notEqual(after.runId, before.runId, 'a new run did the launch');
    assert.equal(serversOf(uid).length, 1, 'exactly one server');
    assert.ok(lookups() >= 1, 'the new run looked for the server by its tag before creating one');
  });

  it('survives a worker restart while the server boots: one server, Ready', async () => {
    stack.simulator.faults.stickInStarting({ zone: 'fr-par-2', times: 1 });
    const nc = await createNodeClaim('worker-restart');
    const uid = nc.metadata.uid ?? '';
    await eventually('the server to be starting', () => Promise.resolve(serversOf(uid)[0]?.state === 'starting' ? true : undefined));
    await stack.product.restartWorker();
    stack.simulator.releaseStuck();
    await untilReady('worker-restart');
    assert.equal(serversOf(uid).length, 1, 'exactly one server');
  });

  it('survives a watcher restart with a second watcher running: one workflow, one server', async () => {
    await stack.product.restartWatcher();
    // A second replica, as a Deployment with two replicas and no leader election would run.
    const connection = await Connection.connect({ address: stack.temporal.address });
    const second = await startWatcher({
      kube: stack.product.adminKube,
      // The product's codec: a watcher without it cannot read the workflows it finds.
      temporal: new Client({ connection, namespace: stack.temporal.namespace, dataConverter: temporalDataConverter(stack.product.payloadCodec) }),
      cloud: stack.product.cloud,
      namespace: stack.temporal.namespace,
      temporalUiUrl: stack.temporal.uiUrl,
    });
    try {
      const nc = await createNodeClaim('two-watchers');
      await untilReady('two-watchers');
      assert.equal(serversOf(nc.metadata.uid ?? '').length, 1);
      const runs: string[] = [];
      for await (const wf of stack.product.worker.client.workflow.list({ query: `WorkflowId = 'provision/two-watchers/${nc.metadata.uid ?? ''}'` })) runs.push(wf.runId);
      assert.equal(runs.length, 1, 'one provisioning run');
    } finally {
      await second.stop();
      await connection.close();
    }
  });

  it('terminates a deleted NodeClaim: pods evicted, server and volume gone, Node deleted, finalizer removed', async () => {
    await createNodeClaim('to-delete');
    const nc = await untilReady('to-delete');
    const uid = nc.metadata.uid ?? '';
    const nodeName = nc.status.nodeName ?? '';
    await post('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'trainer' },
      spec: { nodeName, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'c', image: 'registry.invalid/trainer:1' }] },
    });
    await stack.product.adminKube.delete(clusterPath(NODECLAIM_GVR, 'to-delete'));
    await untilGone('to-delete', 90_000);
    assert.equal(serversOf(uid).length, 0, 'server gone');
    assert.equal(volumesOf(uid).length, 0, 'volume gone');
    assert.equal(await getNode(stack.product.adminKube, nodeName), undefined, 'Node deleted');
    const pod = await stack.product.adminKube.getOrUndefined<{ metadata: { deletionTimestamp?: string } }>('/api/v1/namespaces/default/pods/trainer');
    assert.ok(pod === undefined || pod.metadata.deletionTimestamp, 'the pod was evicted');
    const reasons = (await eventsOf('to-delete')).map((e) => e.reason);
    assert.ok(reasons.includes('Terminating'), `events: ${reasons.join(', ')}`);
  });
});
