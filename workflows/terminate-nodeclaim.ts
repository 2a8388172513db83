// The durable runbook for a deleted NodeClaim: stop its provisioning, drain its
// Node, give its server and root volume back to Scaleway, then let Kubernetes
// forget it. Every step is idempotent, so a restart at any point resumes safely.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { NodeClaimRef } from '../activities/contract.ts';

export interface TerminateNodeClaimInput {
  nodeClaim: NodeClaimRef;
}

export interface TerminateNodeClaimResult {
  evicted: number;
  forced: number;
  serversDeleted: number;
  volumesDeleted: number;
}

// Cleanup keeps trying until the resources are gone: no schedule-to-close, unlimited attempts, backoff
// capped at a minute. A server still starting or locked, or a volume not yet detached, makes
// releaseServers throw the retryable CleanupPending (and say so on the NodeClaim) until Scaleway lets go.
// A failure retrying cannot fix fails the run; the watcher starts a new one and says so in an Event.
const api = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Long waits heartbeat: a worker that dies is noticed within a minute and the wait resumes elsewhere.
const waits = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function terminateNodeClaim(input: TerminateNodeClaimInput): Promise<TerminateNodeClaimResult> {
  const ref = input.nodeClaim;
  // A provisioning still running would race us to create the server: stop it first.
  await waits.stopProvisioning(ref);
  const drained = await waits.drainNode(ref);
  const released = await waits.releaseServers(ref);
  await api.deleteNode(ref);
  await api.releaseBootstrapCredentials(ref);
  await api.removeFinalizer(ref);
  return { evicted: drained.evicted, forced: drained.forced, serversDeleted: released.servers, volumesDeleted: released.volumes };
}
