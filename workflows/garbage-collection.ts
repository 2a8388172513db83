// The garbage collection runbook, started by the `scw-karpenter-gc-<cluster>`
// Schedule: one activity lists everything and returns a plan (what to release
// and why), then one activity per resource releases it. A dry run stops after
// the plan, which the planning activity has logged line by line.
import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { GarbageAction, GarbageCollectionInput } from '../activities/garbage-collection-plan.ts';

export interface GarbageCollectionResult {
  dryRun: boolean;
  /** One line per planned action: `<reason>: <what>`. */
  planned: string[];
  released: number;
  /** Looked again and found nothing to do (gone already, in use again). */
  skipped: number;
  skippedZones: string[];
}

// Listing nine zones and the apiserver: quick, retried a few times; the next run tries again anyway.
const lists = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});

// A server release waits until the server is gone (a GPU server stops in about a minute); it heartbeats.
// Bounded, so a resource that cannot be released fails this run instead of blocking the Schedule (overlap SKIP).
const releases = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Releases at a time: enough to clear a mass leak in a few runs without a burst of API calls. */
const PARALLEL_RELEASES = 10;

function release(action: GarbageAction) {
  switch (action.kind) {
    case 'server':
      return releases.releaseGarbageServer(action);
    case 'volume':
      return releases.deleteGarbageVolume(action);
    case 'token':
      return releases.deleteGarbageToken(action);
    case 'nodeclaim':
      return releases.deleteNodeClaimWithoutServer(action);
  }
}

/** An activity's own failure message, not Temporal's "Activity task failed" around it. */
function whyFailed(reason: unknown): string {
  if (reason instanceof ActivityFailure && reason.cause) return reason.cause.message;
  return reason instanceof Error ? reason.message : String(reason);
}

export async function garbageCollect(input: GarbageCollectionInput): Promise<GarbageCollectionResult> {
  const plan = await lists.planGarbageCollection(input);
  const result: GarbageCollectionResult = {
    dryRun: input.dryRun,
    planned: plan.actions.map((a) => `${a.reason}: ${a.message}`),
    released: 0,
    skipped: 0,
    skippedZones: plan.skippedZones.map((z) => z.zone),
  };
  if (input.dryRun) return result;

  const failures: string[] = [];
  for (let i = 0; i < plan.actions.length; i += PARALLEL_RELEASES) {
    const batch = plan.actions.slice(i, i + PARALLEL_RELEASES);
    const outcomes = await Promise.allSettled(batch.map(release));
    outcomes.forEach((outcome, j) => {
      if (outcome.status === 'rejected') failures.push(`${batch[j]?.message ?? ''}: ${whyFailed(outcome.reason)}`);
      else if (outcome.value.released) result.released++;
      else result.skipped++;
    });
  }
  if (failures.length > 0) {
    // Every other release went ahead; the run fails so the Schedule's list shows it, and the next run tries again.
    log.warn('garbage collection could not release everything', { failures });
    throw ApplicationFailure.nonRetryable(`garbage collection released ${result.released}, failed on ${failures.length}: ${failures.join('; ')}`, 'GarbageCollectionIncomplete');
  }
  return result;
}
