// What each of our provisioning workflows cost Temporal, read from its history after a
// round: when it started and when its first workflow task started (two stages of the
// time from a NodeClaim to its createServer call), and its size (workflow tasks, events,
// bytes as Temporal stores them, activities and local activities).
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';

type IHistory = temporal.api.history.v1.IHistory;
type ITimestamp = temporal.api.history.v1.IHistoryEvent['eventTime'];
const HistoryMessage = proto.temporal.api.history.v1.History;

/** The marker the TypeScript SDK's core records for each local activity it ran. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface WorkflowFigures {
  workflowId: string;
  /** Temporal's clock (this machine's): WorkflowExecutionStarted. */
  startedAt: number | undefined;
  /** The first WorkflowTaskStarted: a worker picked up the workflow's first task. */
  firstTaskStartedAt: number | undefined;
  /** WorkflowTaskStarted events (a task that ran; failed or timed-out ones included). */
  workflowTasks: number;
  events: number;
  /** The history's protobuf encoding: what the persistence layer writes and a replay reads. */
  bytes: number;
  activities: number;
  localActivities: number;
  /** WorkflowExecutionSignaled events: each wakes the workflow for a task of its own (or joins one). */
  signals: number;
  /** TimerFired events: a wait that ran out (the workflow's periodic checks among them). */
  timersFired: number;
  /** Activities scheduled, by type: which step a workflow repeated. */
  activityTypes: Record<string, number>;
  /** No close event yet: the workflow was still running when its history was read. */
  running: boolean;
}

function ms(ts: ITimestamp): number | undefined {
  if (!ts) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds?.toNumber() ?? 0;
  return seconds * 1000 + (ts.nanos ?? 0) / 1e6;
}

export function workflowFigures(workflowId: string, history: IHistory): WorkflowFigures {
  const events = history.events ?? [];
  let startedAt: number | undefined;
  let firstTaskStartedAt: number | undefined;
  let workflowTasks = 0;
  let activities = 0;
  let localActivities = 0;
  let signals = 0;
  let timersFired = 0;
  let closed = false;
  const activityTypes: Record<string, number> = {};
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) startedAt ??= ms(e.eventTime);
    if (e.workflowTaskStartedEventAttributes) {
      workflowTasks++;
      firstTaskStartedAt ??= ms(e.eventTime);
    }
    if (e.activityTaskScheduledEventAttributes) {
      activities++;
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      activityTypes[type] = (activityTypes[type] ?? 0) + 1;
    }
    if (e.workflowExecutionSignaledEventAttributes) signals++;
    if (e.timerFiredEventAttributes) timersFired++;
    if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionCanceledEventAttributes
      || e.workflowExecutionTerminatedEventAttributes || e.workflowExecutionTimedOutEventAttributes || e.workflowExecutionContinuedAsNewEventAttributes) closed = true;
    if (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) localActivities++;
  }
  return {
    workflowId, startedAt, firstTaskStartedAt, workflowTasks, events: events.length,
    bytes: HistoryMessage.encode(HistoryMessage.fromObject(history)).finish().byteLength,
    activities, localActivities, signals, timersFired, activityTypes, running: !closed,
  };
}

/** Reads the histories of `workflowIds`, a few at a time (the dev server has one SQLite connection); a missing one is left out. */
export async function readWorkflowFigures(client: Client, workflowIds: readonly string[], concurrency = 8): Promise<Map<string, WorkflowFigures>> {
  const out = new Map<string, WorkflowFigures>();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, workflowIds.length) }, async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++] ?? '';
      try {
        out.set(id, workflowFigures(id, await client.workflow.getHandle(id).fetchHistory()));
      } catch {
        // not started (yet), or gone: the stage table counts it as missing
      }
    }
  }));
  return out;
}
