// The termination workflow's branches, on a real Temporal server with stub
// activities: the runbook's order, cleanup that keeps trying while Scaleway
// holds on to a server (CleanupPending) or the apiserver is away, and a delete
// that cancels a provisioning still under way, which then leaves cleanup to it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TerminateNodeClaimResult } from '../../workflows/terminate-nodeclaim.ts';
import { provisioningWorkflowId, statusQuery, terminationWorkflowId, WORKFLOW } from '../../workflows/contract.ts';
import type { NodeClaimRef } from '../../activities/contract.ts';
import { callsOf, nodeClaim, READY_NODECLASS, startWorkflowStage, until, type Call, type Stubs, type WorkflowStage } from './workflow-env.ts';

describe('termination workflow', { concurrency: true }, () => {
  let stage: WorkflowStage;
  before(async () => {
    stage = await startWorkflowStage('terminate');
  });
  after(async () => {
    await stage.stop();
  });

  const terminate = (ref: NodeClaimRef, stubs: Stubs): { calls: Call[]; result: Promise<TerminateNodeClaimResult> } => {
    const workflowId = terminationWorkflowId(ref.name, ref.uid);
    const calls = stage.script(workflowId, stubs);
    const result = stage.env.client.workflow.start(WORKFLOW.terminateNodeClaim, { taskQueue: stage.taskQueue, workflowId, args: [{ nodeClaim: ref }] })
      .then((handle) => handle.result() as Promise<TerminateNodeClaimResult>);
    return { calls, result };
  };

  it('stops provisioning, drains, releases the servers, then lets Kubernetes forget the NodeClaim', async () => {
    const { calls, result } = terminate(nodeClaim('in-order'), {});
    assert.deepEqual(await result, { evicted: 2, forced: 0, serversDeleted: 1, volumesDeleted: 1 });
    assert.deepEqual(calls.map((c) => c.name), ['stopProvisioning', 'drainNode', 'releaseServers', 'deleteNode', 'releaseBootstrapCredentials', 'removeFinalizer']);
  });

  it('keeps releasing while Scaleway holds on to the server (CleanupPending), then finishes', async () => {
    let attempts = 0;
    const { calls, result } = terminate(nodeClaim('cleanup-pending'), {
      releaseServers: () => (++attempts < 3
        ? Promise.reject(ApplicationFailure.retryable('server is starting: waiting on it before terminating', 'CleanupPending'))
        : Promise.resolve({ servers: 1, volumes: 1 })),
    });
    assert.equal((await result).serversDeleted, 1);
    assert.equal(callsOf(calls, 'releaseServers').length, 3);
    assert.equal(calls.at(-1)?.name, 'removeFinalizer', 'the finalizer goes only after the servers');
  });

  it('rides out an apiserver outage on its last steps', async () => {
    let attempts = 0;
    const { calls, result } = terminate(nodeClaim('apiserver-outage'), {
      removeFinalizer: () => (++attempts < 3 ? Promise.reject(ApplicationFailure.retryable('connect ECONNREFUSED', 'KubernetesServiceUnavailable')) : Promise.resolve()),
    });
    await result;
    assert.equal(callsOf(calls, 'removeFinalizer').length, 3);
  });

  it('cancels a provisioning under way; the provisioning does not roll back, the termination releases', async () => {
    const ref = nodeClaim('deleted-mid-boot');
    const provisioningId = provisioningWorkflowId(ref.name, ref.uid);
    const provisioningCalls = stage.script(provisioningId, {
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, registrationTimeoutSeconds: 60 }),
      checkNodeRegistration: () => Promise.resolve({ registered: false }),
    });
    const provisioning = await stage.env.client.workflow.start(WORKFLOW.provisionNodeClaim, { taskQueue: stage.taskQueue, workflowId: provisioningId, args: [{ nodeClaim: ref }] });
    await until('the server to be booted and the node awaited', async () => ((await provisioning.query(statusQuery).catch(() => undefined))?.step === 'WaitingForNode' ? true : undefined));

    // The real stopProvisioning: cancel the run and wait for it to close.
    const { calls, result } = terminate(ref, {
      stopProvisioning: async () => {
        await provisioning.cancel();
        await provisioning.result().catch(() => undefined);
      },
    });
    assert.equal((await result).serversDeleted, 1);
    await assert.rejects(provisioning.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    assert.deepEqual(callsOf(provisioningCalls, 'rollback'), [], 'cleanup belongs to the termination');
    assert.deepEqual(calls.map((c) => c.name).slice(0, 3), ['stopProvisioning', 'drainNode', 'releaseServers']);
  });
});
