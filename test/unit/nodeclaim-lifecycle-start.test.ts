// A NodeClaim the provisioner just made is started once: its reconcile (the
// watch event comes long before the start returns in a burst) waits for the
// provisioner's start instead of sending a second one to Temporal, and starts
// the workflow itself only when that start failed or was never issued.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { KubeRest } from '../../kube/rest.ts';
import { reconcileNodeClaim, startProvisioningOfNew, type LifecycleDeps } from '../../watcher/nodeclaim-lifecycle.ts';
import { ANNOTATION_WORKFLOW_ID, FINALIZER_TERMINATION } from '../../kube/api/constants.ts';
import { provisioningWorkflowId } from '../../workflows/contract.ts';

const REF = { name: 'gpu-abcde', uid: '6f1c2d7e-0a4b-4c5d-8e9f-1a2b3c4d5e6f' };
const WORKFLOW_ID = provisioningWorkflowId(REF.name, REF.uid);

const rawNodeClaim = {
  apiVersion: 'karpenter.sh/v1',
  kind: 'NodeClaim',
  metadata: { name: REF.name, uid: REF.uid, finalizers: [FINALIZER_TERMINATION], labels: { 'karpenter.sh/nodepool': 'gpu' } },
  spec: { nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' }, requirements: [] },
  status: {},
};

interface Deferred {
  promise: Promise<unknown>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = () => res({ workflowId: WORKFLOW_ID });
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A Temporal client whose starts answer when the test says, and the apiserver writes in the order they came. */
function fakes() {
  const starts: Deferred[] = [];
  const writes: string[] = [];
  const temporal = {
    workflow: {
      start: (_type: string, options: { workflowId: string }) => {
        assert.equal(options.workflowId, WORKFLOW_ID);
        const d = deferred();
        starts.push(d);
        return d.promise;
      },
    },
  } as unknown as Client;
  const write = (method: string) => (path: string, body: unknown): Promise<never> => {
    writes.push(`${method} ${path.includes('/events') ? 'Event' : JSON.stringify(body)}`);
    return Promise.resolve({} as never);
  };
  const kube = { get: write('GET'), getOrUndefined: write('GET'), post: write('POST'), put: write('PUT'), patch: write('PATCH'), delete: write('DELETE') } as unknown as KubeRest;
  const deps: LifecycleDeps = { kube, temporal, taskQueue: 'test', temporalUiUrl: 'http://ui', namespace: 'default', justStarted: new Map() };
  return { deps, starts, writes };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the provisioning start of a new NodeClaim', () => {
  it('is sent once: the reconcile waits for the provisioner\'s start still in flight', async () => {
    const { deps, starts, writes } = fakes();
    const provisioner = startProvisioningOfNew(deps, REF);
    const reconcile = reconcileNodeClaim(deps, rawNodeClaim);
    await settle();
    assert.equal(starts.length, 1);
    assert.deepEqual(writes, [], 'nothing is written before the start answered');
    starts[0]?.resolve();
    await Promise.all([provisioner, reconcile]);
    assert.equal(starts.length, 1);
    assert.deepEqual(writes, [`PATCH ${JSON.stringify({ metadata: { annotations: { [ANNOTATION_WORKFLOW_ID]: WORKFLOW_ID } } })}`, 'POST Event']);
    assert.equal(deps.justStarted?.size, 0, 'the entry is used once');
  });

  it('is sent again by the reconcile when the provisioner\'s start failed', async () => {
    const { deps, starts } = fakes();
    const provisioner = startProvisioningOfNew(deps, REF).catch((err: unknown) => err);
    const reconcile = reconcileNodeClaim(deps, rawNodeClaim);
    await settle();
    starts[0]?.reject(new Error('temporal unavailable'));
    assert.match(String(await provisioner), /temporal unavailable/);
    await settle();
    assert.equal(starts.length, 2);
    starts[1]?.resolve();
    await reconcile;
  });

  it('is sent by the reconcile for a NodeClaim the provisioner did not start', async () => {
    const { deps, starts } = fakes();
    const reconcile = reconcileNodeClaim(deps, rawNodeClaim);
    await settle();
    assert.equal(starts.length, 1);
    starts[0]?.resolve();
    await reconcile;
    assert.equal(starts.length, 1);
  });
});
