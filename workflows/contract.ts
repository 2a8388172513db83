// The contract every process shares with the workflows: their task queue,
// their names and IDs, and their signals and queries. The watcher, the worker,
// the activities and the CLI import this module and nothing else of
// workflows/ (types aside). One ID per NodeClaim UID makes starts idempotent:
// a second start (another watcher replica, a restart) finds the running
// workflow instead of creating another.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProvisioningStatus } from '../activities/contract.ts';
import type * as workflows from './index.ts';

export const TASK_QUEUE = 'scw-karpenter';

/** The workflow types the worker registers (workflows/index.ts), by the name a client starts them with. */
export const WORKFLOW = {
  provisionNodeClaim: 'provisionNodeClaim',
  terminateNodeClaim: 'terminateNodeClaim',
  garbageCollect: 'garbageCollect',
} as const satisfies { [name in keyof typeof workflows]: name };

/**
 * The workflows' patch markers (`patched()`), one per change that older histories must replay
 * around. Temporal's SDK core records a marker's patch ID in plain JSON, outside the payload codec,
 * so these names hold nothing about a NodeClaim.
 */
export const WORKFLOW_PATCH = {
  /** Launched (providerID, capacity) written when createServer returns, not once the server runs. */
  launchedOnCreate: 'launched-on-create',
} as const;

export type ProvisionNodeClaimWorkflow = typeof workflows.provisionNodeClaim;
export type TerminateNodeClaimWorkflow = typeof workflows.terminateNodeClaim;
export type GarbageCollectWorkflow = typeof workflows.garbageCollect;

/** Readable in the Web UI and unique per NodeClaim object (a re-created NodeClaim of the same name gets a new UID). */
export function provisioningWorkflowId(name: string, uid: string): string {
  return `provision/${name}/${uid}`;
}

export function terminationWorkflowId(name: string, uid: string): string {
  return `terminate/${name}/${uid}`;
}

/** The NodeClaim a provisioning or termination workflow is about, from its ID (log lines carry it). */
export function nodeClaimOfWorkflowId(workflowId: string): string | undefined {
  const match = /^(?:provision|terminate)\/([^/]+)\/[^/]+$/.exec(workflowId);
  return match?.[1];
}

/** One garbage-collection Schedule per cluster, on the Web UI's Schedules page. */
export const gcScheduleId = (clusterName: string): string => `scw-karpenter-gc-${clusterName}`;
/** The Schedule appends each run's start time to it. */
export const gcWorkflowId = (clusterName: string): string => `gc/${clusterName}`;

/** The watcher's word that the NodeClaim's Node appeared or changed: wakes the provisioning workflow's waits. */
export const nodeRegisteredSignal = defineSignal<[{ nodeName: string }]>('nodeRegistered');
/** The provisioning workflow's current step, chosen offering, server and attempts (`temporal workflow query --type status`). */
export const statusQuery = defineQuery<ProvisioningStatus>('status');
