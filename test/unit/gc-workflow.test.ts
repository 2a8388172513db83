// The garbage collection workflow on a real Temporal server with stub
// activities: a dry run releases nothing, each kind of entry goes to its own
// release activity, and one release that fails lets every other go ahead
// before the run fails with the list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { GarbageAction, GarbagePlan } from '../../activities/garbage-collection-plan.ts';
import type { GarbageCollectionResult } from '../../workflows/garbage-collection.ts';
import { callsOf, startWorkflowStage, type Call, type Stubs, type WorkflowStage } from './workflow-env.ts';

const server = (n: number): GarbageAction => ({
  kind: 'server', zone: 'fr-par-2', serverId: `s-${n}`, serverName: `gpu-${n}`, nodeClaimUid: `uid-${n}`, nodeClaim: undefined, volumes: [], reason: 'NodeClaimNotFound', message: `server s-${n}`,
});
const ACTIONS: GarbageAction[] = [
  server(1),
  { kind: 'volume', zone: 'fr-par-2', volumeId: 'v-1', volumeName: 'scw-karpenter-sandbox-uid', nodeClaimUid: 'uid', reason: 'NodeClaimNotFound', message: 'volume v-1' },
  { kind: 'token', secretName: 'bootstrap-token-abcdef', nodeClaimUid: 'uid', reason: 'NodeClaimNotFound', message: 'token abcdef' },
  { kind: 'nodeclaim', nodeClaim: { name: 'gpu-x', uid: 'uid-x' }, providerID: 'scaleway://instance/fr-par-2/x', reason: 'ServerNotFound', message: 'NodeClaim gpu-x' },
];
const plan = (actions: GarbageAction[]): Stubs['planGarbageCollection'] => () => Promise.resolve<GarbagePlan>({ actions, zones: ['fr-par-2'], skippedZones: [] });

describe('garbage collection workflow', { concurrency: true }, () => {
  let stage: WorkflowStage;
  before(async () => {
    stage = await startWorkflowStage('gc');
  });
  after(async () => {
    await stage.stop();
  });

  const collect = (test: string, dryRun: boolean, stubs: Stubs): { calls: Call[]; result: Promise<GarbageCollectionResult> } => {
    const workflowId = `gc-test/${test}`;
    const calls = stage.script(workflowId, stubs);
    const result = stage.env.client.workflow.execute('garbageCollect', { taskQueue: stage.taskQueue, workflowId, args: [{ gracePeriodMs: 1_000, dryRun }] }) as Promise<GarbageCollectionResult>;
    return { calls, result };
  };
  const releaseCalls = (calls: Call[]): Call[] => calls.filter((c) => c.name !== 'planGarbageCollection');

  it('plans and releases nothing in a dry run', async () => {
    const { calls, result } = collect('dry', true, { planGarbageCollection: plan(ACTIONS) });
    const outcome = await result;
    assert.equal(outcome.dryRun, true);
    assert.deepEqual(outcome.planned, ['NodeClaimNotFound: server s-1', 'NodeClaimNotFound: volume v-1', 'NodeClaimNotFound: token abcdef', 'ServerNotFound: NodeClaim gpu-x']);
    assert.equal(outcome.released, 0);
    assert.deepEqual(releaseCalls(calls), []);
    assert.deepEqual(callsOf(calls, 'planGarbageCollection'), [{ gracePeriodMs: 1_000, dryRun: true }]);
  });

  it('sends each entry to its release activity, and counts what was found done already', async () => {
    const { calls, result } = collect('release', false, {
      planGarbageCollection: plan(ACTIONS),
      deleteGarbageToken: () => Promise.resolve({ released: false, why: 'already gone' }),
    });
    const outcome = await result;
    assert.equal(outcome.released, 3);
    assert.equal(outcome.skipped, 1);
    assert.deepEqual(releaseCalls(calls).map((c) => c.name).sort(), ['deleteGarbageToken', 'deleteGarbageVolume', 'deleteNodeClaimWithoutServer', 'releaseGarbageServer']);
    // As it crossed the wire: JSON, so the undefined fields are gone.
    assert.deepEqual(callsOf(calls, 'releaseGarbageServer'), [JSON.parse(JSON.stringify(ACTIONS[0]))]);
  });

  it('releases every batch of a large plan', async () => {
    const many = Array.from({ length: 25 }, (_, i) => server(i));
    const { calls, result } = collect('many', false, { planGarbageCollection: plan(many) });
    assert.equal((await result).released, 25);
    assert.equal(callsOf(calls, 'releaseGarbageServer').length, 25);
  });

  it('goes on past a release that fails, then fails the run with it', async () => {
    const { calls, result } = collect('failing', false, {
      planGarbageCollection: plan(ACTIONS),
      deleteGarbageVolume: () => Promise.reject(ApplicationFailure.nonRetryable('volume v-1 refused', 'PermissionDenied')),
    });
    await assert.rejects(result, (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.equal((err.cause as { type?: string } | undefined)?.type, 'GarbageCollectionIncomplete');
      assert.match(err.cause?.message ?? '', /released 3, failed on 1: volume v-1: volume v-1 refused/);
      return true;
    });
    assert.equal(releaseCalls(calls).length, 4);
  });
});
