// Workflow IDs and names shared by the watcher, the worker and the CLI. One ID
// per NodeClaim UID makes starts idempotent: a second start (another watcher
// replica, a restart) finds the running workflow instead of creating another.

export const TASK_QUEUE = 'scw-karpenter';

/** Readable in the Web UI and unique per NodeClaim object (a re-created NodeClaim of the same name gets a new UID). */
export function provisioningWorkflowId(name: string, uid: string): string {
  return `provision/${name}/${uid}`;
}

export function terminationWorkflowId(name: string, uid: string): string {
  return `terminate/${name}/${uid}`;
}

export const SIGNAL_NODE_REGISTERED = 'nodeRegistered';
export const QUERY_STATUS = 'status';
