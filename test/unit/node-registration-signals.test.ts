// The watcher wakes a provisioning workflow when its Node joins and when the
// Node becomes initialized, not on each of the Node's changes in between (each
// signal is a workflow task: a GPU node changed eight times on its way to Ready).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { parseNode } from '../../kube/api/core.ts';
import { parseNodeClaim } from '../../kube/api/schemas.ts';
import { NodeRegistrationSignals } from '../../watcher/node-registration.ts';
import { provisioningWorkflowId } from '../../workflows/contract.ts';

const NODE = 'scw-gpu-abcde';
const PROVIDER_ID = 'scaleway://instance/fr-par-2/0b6c3a57-3f3c-4a34-9a58-6b1f5d0e2f11';
const STARTUP_TAINT = { key: 'example.com/gpu-operator-not-ready', effect: 'NoExecute' };

function nodeClaim(initialized = false) {
  return parseNodeClaim({
    metadata: { name: 'gpu-abcde', uid: 'a1b2c3d4-0000-4000-8000-000000000001' },
    spec: {
      nodeClassRef: { group: 'karpenter.scaleway.com', kind: 'ScalewayNodeClass', name: 'gpu' },
      requirements: [],
      resources: { requests: { 'nvidia.com/gpu': '2' } },
      startupTaints: [STARTUP_TAINT],
    },
    status: {
      providerID: PROVIDER_ID,
      capacity: { 'nvidia.com/gpu': '2' },
      conditions: initialized ? [{ type: 'Initialized', status: 'True', reason: 'Initialized', lastTransitionTime: '2026-12-03T08:00:00Z' }] : [],
    },
  });
}

function node(opts: { ready: boolean; taints?: { key: string; effect: string }[]; gpus?: string; heartbeat?: string }) {
  return parseNode({
    metadata: { name: NODE, resourceVersion: opts.heartbeat ?? '1' },
    spec: { providerID: PROVIDER_ID, taints: opts.taints ?? [] },
    status: {
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False', lastHeartbeatTime: opts.heartbeat ?? '2026-12-03T08:00:00Z' }],
      allocatable: opts.gpus ? { 'nvidia.com/gpu': opts.gpus } : {},
    },
  });
}

function recordingTemporal() {
  const signalled: string[] = [];
  const temporal = {
    workflow: {
      getHandle: (workflowId: string) => ({
        signal: (_signal: unknown, payload: { nodeName: string }): Promise<void> => {
          signalled.push(`${workflowId} ${payload.nodeName}`);
          return Promise.resolve();
        },
      }),
    },
  } as unknown as Client;
  return { temporal, signalled };
}

describe('signals to a provisioning workflow about its Node', () => {
  it('come when the Node joins and when it is initialized, not for the changes in between', async () => {
    const { temporal, signalled } = recordingTemporal();
    const signals = new NodeRegistrationSignals(temporal);
    const owner = nodeClaim();
    const told = `${provisioningWorkflowId(owner.metadata.name, owner.metadata.uid ?? '')} ${NODE}`;

    await signals.onNode(node({ ready: false }), owner);
    assert.deepEqual(signalled, [told], 'the Node joined');
    // Its kubelet's updates, the startup taint the registration adds, then Ready with the taint still on.
    await signals.onNode(node({ ready: false, heartbeat: '2' }), owner);
    await signals.onNode(node({ ready: false, taints: [STARTUP_TAINT], heartbeat: '3' }), owner);
    await signals.onNode(node({ ready: true, taints: [STARTUP_TAINT], heartbeat: '4' }), owner);
    // The taint gone, but the device plugin has not reported the GPUs yet.
    await signals.onNode(node({ ready: true, heartbeat: '5' }), owner);
    assert.equal(signalled.length, 1, 'nothing the workflow waits for changed');
    await signals.onNode(node({ ready: true, gpus: '2', heartbeat: '6' }), owner);
    assert.equal(signalled.length, 2, 'the Node is initialized');
    await signals.onNode(node({ ready: true, gpus: '2', heartbeat: '7' }), owner);
    assert.equal(signalled.length, 2);
    // Initialized on the NodeClaim: nothing more to tell, nothing kept.
    await signals.onNode(node({ ready: true, gpus: '2', heartbeat: '8' }), nodeClaim(true));
    assert.equal(signalled.length, 2);
    assert.equal(signals.size, 0);
  });

  it('come again when an initialized Node falls back before its NodeClaim says so', async () => {
    const { temporal, signalled } = recordingTemporal();
    const signals = new NodeRegistrationSignals(temporal);
    const owner = nodeClaim();
    await signals.onNode(node({ ready: true, gpus: '2' }), owner);
    await signals.onNode(node({ ready: false, gpus: '2', heartbeat: '2' }), owner);
    await signals.onNode(node({ ready: true, gpus: '2', heartbeat: '3' }), owner);
    assert.equal(signalled.length, 3);
  });

  it('start over for a Node that went away and came back', async () => {
    const { temporal, signalled } = recordingTemporal();
    const signals = new NodeRegistrationSignals(temporal);
    const owner = nodeClaim();
    await signals.onNode(node({ ready: false }), owner);
    signals.forget(NODE);
    assert.equal(signals.size, 0);
    await signals.onNode(node({ ready: false, heartbeat: '2' }), owner);
    assert.equal(signalled.length, 2);
  });
});
