// The provisioning workflow's branches, on a real Temporal server with stub
// activities: the signal wake-up, the offering fallback, every rollback and
// timeout, the NodeClaim going away, and a delete cancelling it. Every exit
// but a delete must leave a record (recordFailure or rollback) behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { ProvisionNodeClaimResult } from '../../workflows/provision-nodeclaim.ts';
import { nodeRegisteredSignal, provisioningWorkflowId, statusQuery, WORKFLOW } from '../../workflows/contract.ts';
import type { FailureRecord, ProvisioningStatus, RollbackInput } from '../../activities/contract.ts';
import { callsOf, nodeClaim, OFFERING_A, OFFERING_B, READY_NODECLASS, SERVER, startWorkflowStage, until, type Call, type Stubs, type WorkflowStage } from './workflow-env.ts';

describe('provisioning workflow', { concurrency: true }, () => {
  let stage: WorkflowStage;
  before(async () => {
    stage = await startWorkflowStage('provision');
  });
  after(async () => {
    await stage.stop();
  });

  /** Starts the workflow for a fresh NodeClaim named after the test, with its activities scripted. */
  const provision = (test: string, stubs: Stubs): { calls: Call[]; workflowId: string; result: Promise<ProvisionNodeClaimResult> } => {
    const ref = nodeClaim(test);
    const workflowId = provisioningWorkflowId(ref.name, ref.uid);
    const calls = stage.script(workflowId, stubs);
    const result = stage.env.client.workflow.start(WORKFLOW.provisionNodeClaim, { taskQueue: stage.taskQueue, workflowId, args: [{ nodeClaim: ref }] })
      .then((handle) => handle.result() as Promise<ProvisionNodeClaimResult>);
    return { calls, workflowId, result };
  };
  const status = (workflowId: string): Promise<ProvisioningStatus> => stage.env.client.workflow.getHandle(workflowId).query(statusQuery);
  const rollbacksOf = (calls: Call[]): RollbackInput[] => callsOf(calls, 'rollback') as RollbackInput[];
  const recordsOf = (calls: Call[]): FailureRecord[] => callsOf(calls, 'recordFailure') as FailureRecord[];

  it('reaches Ready, woken by the watcher\'s signal before its own check is due', async () => {
    const { calls, workflowId, result } = provision('signalled', { checkNodeRegistration: () => Promise.resolve({ registered: false }) });
    await until('the workflow to wait for the node', async () => ((await status(workflowId).catch(() => undefined))?.step === 'WaitingForNode' ? true : undefined));
    const signalledAt = Date.now();
    await stage.env.client.workflow.getHandle(workflowId).signal(nodeRegisteredSignal, { nodeName: 'node-signalled' });
    const outcome = await result;
    assert.equal(outcome.outcome, 'Ready');
    assert.ok(Date.now() - signalledAt < 10_000, 'woken at once, not at the 15 s periodic check');
    assert.deepEqual(callsOf(calls, 'registerNode'), [{ ref: nodeClaim('signalled'), nodeName: 'node-signalled' }]);
    assert.deepEqual(rollbacksOf(calls), []);
    assert.deepEqual(recordsOf(calls), []);
  });

  it('moves on to the next offering when one has no capacity', async () => {
    const { calls, workflowId, result } = provision('fallback', {
      createServer: ({ offering }) => Promise.resolve(offering.zone === OFFERING_A.zone
        ? { ok: false, reason: 'OutOfStock', message: 'out of stock' }
        : { ok: true, server: { ...SERVER, zone: offering.zone }, reused: false }),
    });
    const outcome = await result;
    assert.equal(outcome.outcome, 'Ready');
    assert.deepEqual(outcome.outcome === 'Ready' && outcome.offering, OFFERING_B);
    assert.deepEqual((await status(workflowId)).attempts.map((a) => `${a.zone} ${a.outcome}`), ['fr-par-2 OutOfStock', 'nl-ams-1 Created']);
    assert.equal(callsOf(calls, 'createServer').length, 2);
  });

  it('rolls back and deletes the NodeClaim when every offering is out of capacity', async () => {
    const { calls, result } = provision('no-capacity', { createServer: () => Promise.resolve({ ok: false, reason: 'QuotaExceeded', message: 'quota' }) });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'InsufficientCapacity');
    const [rollback] = rollbacksOf(calls);
    assert.equal(rollback?.reason, 'InsufficientCapacity');
    assert.equal(rollback.server, undefined, 'released by tag: a lost create may have made a server');
    assert.equal(rollback.deleteNodeClaim, true);
    assert.match(rollback.message, /L4-1-24G@fr-par-2 QuotaExceeded, L4-1-24G@nl-ams-1 QuotaExceeded/);
  });

  it('deletes the NodeClaim, with the reason, when its NodeClass is not ready; buys nothing', async () => {
    const { calls, result } = provision('class-not-ready', {
      resolveNodeClass: () => Promise.resolve({ ready: false, nodeClassName: 'gpu', reason: 'NodeClassNotReady', message: 'Secret kube-system/k3s-token does not exist' }),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'NodeClassNotReady');
    assert.deepEqual(rollbacksOf(calls).map((r) => [r.conditionType, r.reason, r.deleteNodeClaim]), [['Launched', 'NodeClassNotReady', true]]);
    assert.equal(callsOf(calls, 'createServer').length, 0);
  });

  it('deletes the NodeClaim when the NodeClass is refused at create time', async () => {
    const { calls, result } = provision('class-refused-at-create', {
      createServer: () => Promise.reject(ApplicationFailure.nonRetryable('ScalewayNodeClass "gpu" does not exist', 'NodeClassNotFound')),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'NodeClassNotFound');
    assert.equal(rollbacksOf(calls)[0]?.deleteNodeClaim, true);
    assert.equal(callsOf(calls, 'createServer').length, 1, 'not retried: the NodeClass verdict is final');
  });

  it('keeps a NodeClaim no offering can serve, with the reason recorded', async () => {
    const { calls, result } = provision('no-offering', { chooseOfferings: () => Promise.resolve({ ok: false, reason: 'NoCompatibleOffering', message: 'no GPU type named k80' }) });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'NoCompatibleOffering');
    assert.deepEqual(recordsOf(calls).map((r) => [r.conditionType, r.reason, r.status]), [['Launched', 'NoCompatibleOffering', undefined]]);
    assert.deepEqual(rollbacksOf(calls), []);
  });

  it('retries a create error that is not about capacity, shows it as Launched=Unknown, and rolls back at the launch timeout', async () => {
    const { calls, result } = provision('create-keeps-failing', {
      createServer: () => Promise.reject(ApplicationFailure.nonRetryable('the image is not available for this type', 'InvalidArguments')),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'LaunchTimeout');
    assert.ok(callsOf(calls, 'createServer').length >= 2, 'tried again within the launch timeout');
    const notes = recordsOf(calls);
    assert.ok(notes.length >= 1);
    assert.ok(notes.every((n) => n.status === 'Unknown' && n.reason === 'InvalidArguments' && /retrying/.test(n.message)), JSON.stringify(notes));
    const [rollback] = rollbacksOf(calls);
    assert.equal(rollback?.reason, 'LaunchTimeout');
    assert.equal(rollback.server, undefined);
    assert.equal(rollback.deleteNodeClaim, true);
    assert.match(rollback.message, /within the launch timeout \(3 s\).*the image is not available/);
  });

  // (An outage of the NodeClass and offering reads is bounded the same way, but its first round, run before the
  // NodeClass's own timeout is known, lasts up to a minute: too long for this suite.)
  it('rolls back at the launch timeout when Scaleway stays unreachable (an outage longer than a retry)', async () => {
    const { calls, result } = provision('scaleway-outage', {
      createServer: () => Promise.reject(ApplicationFailure.retryable('connect ECONNREFUSED', 'ScalewayUnreachable')),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'LaunchTimeout');
    const [rollback] = rollbacksOf(calls);
    assert.deepEqual([rollback?.server, rollback?.deleteNodeClaim], [undefined, true]);
    assert.match(rollback?.message ?? '', /ECONNREFUSED/);
    assert.ok(callsOf(calls, 'createServer').length >= 2, 'retried within the launch timeout');
  });

  it('rides out a create that fails once with a retryable error', async () => {
    let attempts = 0;
    const { calls, result } = provision('create-retried', {
      createServer: () => (++attempts === 1 ? Promise.reject(ApplicationFailure.retryable('bad gateway', 'ScalewayServerError')) : Promise.resolve({ ok: true, server: SERVER, reused: false })),
    });
    assert.equal((await result).outcome, 'Ready');
    assert.equal(callsOf(calls, 'createServer').length, 2);
    assert.deepEqual(rollbacksOf(calls), []);
  });

  for (const type of ['NodeClaimDeleting', 'NodeClaimNotFound']) {
    it(`ends quietly, buying nothing, when createServer says ${type}`, async () => {
      const { calls, result } = provision(`gone-${type.toLowerCase()}`, { createServer: () => Promise.reject(ApplicationFailure.nonRetryable(`the NodeClaim: ${type}`, type)) });
      assert.deepEqual(await result, { outcome: 'Gone', reason: type });
      assert.equal(callsOf(calls, 'createServer').length, 1);
      assert.deepEqual(rollbacksOf(calls), [], 'the termination workflow owns cleanup');
      assert.deepEqual(recordsOf(calls), []);
    });
  }

  it('ends quietly when the NodeClaim is gone before its NodeClass is read', async () => {
    const { calls, result } = provision('gone-early', { resolveNodeClass: () => Promise.resolve({ ready: false, nodeClassName: '', reason: 'NodeClaimNotFound', message: 'gone' }) });
    assert.deepEqual(await result, { outcome: 'Gone', reason: 'NodeClaimNotFound' });
    assert.deepEqual(rollbacksOf(calls), []);
  });

  it('rolls back a node that does not register within the registration timeout', async () => {
    const { calls, result } = provision('never-registers', {
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, registrationTimeoutSeconds: 2 }),
      checkNodeRegistration: () => Promise.resolve({ registered: false }),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'RegistrationTimeout');
    const [rollback] = rollbacksOf(calls);
    assert.deepEqual([rollback?.conditionType, rollback?.server, rollback?.deleteNodeClaim], ['Registered', SERVER, true]);
    assert.match(rollback?.message ?? '', /did not join within 2 s/);
    assert.equal(callsOf(calls, 'registerNode').length, 0);
  });

  it('rolls back a node that does not initialize within the initialization timeout', async () => {
    const { calls, result } = provision('never-initializes', {
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, initializationTimeoutSeconds: 2 }),
      checkNodeInitialization: () => Promise.resolve({ initialized: false, waitingFor: 'nvidia.com/gpu is not allocatable yet' }),
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'InitializationTimeout');
    const [rollback] = rollbacksOf(calls);
    assert.equal(rollback?.conditionType, 'Initialized');
    assert.match(rollback?.message ?? '', /within 2 s: waiting for nvidia.com\/gpu/);
    assert.equal(callsOf(calls, 'cleanupBootstrap').length, 1, 'the join token went once the node registered');
  });

  it('marks the NodeClaim Launched as soon as the create returns, before the server boots', async () => {
    const { calls, workflowId, result } = provision('launched-on-create', { checkNodeRegistration: () => Promise.resolve({ registered: false }) });
    await until('the workflow to wait for the node', async () => ((await status(workflowId).catch(() => undefined))?.step === 'WaitingForNode' ? true : undefined));
    const names = calls.map((c) => c.name);
    assert.deepEqual(names.slice(names.indexOf('createServer'), names.indexOf('waitForServerRunning') + 1), ['createServer', 'markLaunched', 'configureBootstrap', 'powerOnServer', 'waitForServerRunning']);
    assert.equal(callsOf(calls, 'markLaunched').length, 1, 'marked once, not again once the server runs');
    assert.equal((await status(workflowId)).providerID, `scaleway://instance/${SERVER.zone}/${SERVER.serverId}`);
    await stage.env.client.workflow.getHandle(workflowId).signal(nodeRegisteredSignal, { nodeName: 'node-launched-on-create' });
    assert.equal((await result).outcome, 'Ready');
  });

  it('rolls back a server marked Launched whose boot then fails', async () => {
    const { calls, result } = provision('launched-then-stopped', { waitForServerRunning: () => Promise.reject(ApplicationFailure.nonRetryable('server stopped while starting', 'ServerStopped')) });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'ServerStopped');
    assert.equal(callsOf(calls, 'markLaunched').length, 1);
    const [rollback] = rollbacksOf(calls);
    assert.deepEqual([rollback?.conditionType, rollback?.server, rollback?.deleteNodeClaim], ['Launched', SERVER, true]);
    assert.equal(callsOf(calls, 'checkNodeRegistration').length, 0);
  });

  it('rolls back the server when a step after the create fails in a way retrying cannot fix', async () => {
    const { calls, result } = provision('bootstrap-refused', { configureBootstrap: () => Promise.reject(ApplicationFailure.nonRetryable('user data refused', 'InvalidArguments')) });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'InvalidArguments');
    const [rollback] = rollbacksOf(calls);
    assert.deepEqual([rollback?.conditionType, rollback?.server, rollback?.deleteNodeClaim], ['Launched', SERVER, true]);
    assert.match(rollback?.message ?? '', /configureBootstrap: user data refused/);
    assert.equal(callsOf(calls, 'powerOnServer').length, 0);
  });

  it('keeps retrying the rollback until the resources are gone (CleanupPending, an apiserver outage)', async () => {
    let attempts = 0;
    const { calls, result } = provision('rollback-pending', {
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, registrationTimeoutSeconds: 1 }),
      checkNodeRegistration: () => Promise.resolve({ registered: false }),
      rollback: () => {
        attempts++;
        if (attempts === 1) return Promise.reject(ApplicationFailure.retryable('server is starting: waiting on it', 'CleanupPending'));
        if (attempts === 2) return Promise.reject(ApplicationFailure.retryable('apiserver unavailable', 'KubernetesServiceUnavailable'));
        return Promise.resolve({ servers: 1, volumes: 1 });
      },
    });
    const outcome = await result;
    assert.deepEqual(outcome.outcome === 'Failed' && outcome.reason, 'RegistrationTimeout');
    assert.equal(rollbacksOf(calls).length, 3);
  });

  it('stops at a delete without rolling back: the termination workflow owns cleanup', async () => {
    const { calls, workflowId, result } = provision('deleted-while-waiting', {
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, registrationTimeoutSeconds: 60 }),
      checkNodeRegistration: () => Promise.resolve({ registered: false }),
    });
    await until('the workflow to wait for the node', async () => ((await status(workflowId).catch(() => undefined))?.step === 'WaitingForNode' ? true : undefined));
    await stage.env.client.workflow.getHandle(workflowId).cancel();
    await assert.rejects(result, (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    assert.deepEqual(rollbacksOf(calls), []);
    assert.deepEqual(recordsOf(calls), []);
  });

  it('stops at a delete during the launch, without a record', async () => {
    const { calls, workflowId, result } = provision('deleted-while-launching', {
      createServer: () => Promise.reject(ApplicationFailure.nonRetryable('refused', 'InvalidArguments')),
      resolveNodeClass: () => Promise.resolve({ ...READY_NODECLASS, launchTimeoutSeconds: 60 }),
    });
    await until('a failed create', () => (callsOf(calls, 'createServer').length > 0 ? true : undefined));
    await stage.env.client.workflow.getHandle(workflowId).cancel();
    await assert.rejects(result, (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
    assert.deepEqual(rollbacksOf(calls), []);
  });
});
