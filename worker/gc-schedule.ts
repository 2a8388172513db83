// The Temporal Schedule that runs garbage collection: created, or brought up
// to date with this worker's settings, when a worker starts. Every worker does
// it; the Schedule is one per cluster, so the second create finds the first
// and updates it to the same settings. It is listed on the Web UI's Schedules page.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction, type ScheduleSpec } from '@temporalio/client';
import type { GarbageCollectionInput } from '../activities/garbage-collection-plan.ts';
import type { GarbageCollectionSettings } from '../runtime/config.ts';
import { gcScheduleId, gcWorkflowId, WORKFLOW, type GarbageCollectWorkflow } from '../workflows/contract.ts';

/** A run that takes longer is stuck on a release; ending it lets the next one start (overlap SKIP). */
const RUN_TIMEOUT = '1 hour';
/** After a Temporal outage, one run makes up for the missed ones: collection is idempotent, not cumulative. */
const CATCHUP_WINDOW = '1 minute';

export async function upsertGarbageCollectionSchedule(
  client: Client,
  opts: { clusterName: string; taskQueue: string; settings: GarbageCollectionSettings },
): Promise<'created' | 'updated'> {
  const input: GarbageCollectionInput = { gracePeriodMs: opts.settings.gracePeriodMs, dryRun: opts.settings.dryRun };
  const spec: ScheduleSpec = { intervals: [{ every: opts.settings.intervalMs }] };
  const action: ScheduleOptionsStartWorkflowAction<GarbageCollectWorkflow> = {
    type: 'startWorkflow',
    workflowType: WORKFLOW.garbageCollect,
    workflowId: gcWorkflowId(opts.clusterName),
    taskQueue: opts.taskQueue,
    args: [input],
    workflowExecutionTimeout: RUN_TIMEOUT,
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW };
  const scheduleId = gcScheduleId(opts.clusterName);
  try {
    await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'scw-karpenter orphan garbage collection' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  // Settings from this worker's environment; a pause set by an operator stays.
  await client.schedule.getHandle(scheduleId).update((current) => ({
    spec,
    action,
    policies,
    state: { paused: current.state.paused, ...(current.state.note ? { note: current.state.note } : {}) },
  }));
  return 'updated';
}
