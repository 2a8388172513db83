// Replaying workflow histories against the current workflow code: the guard
// against non-deterministic changes. A history is what `temporal workflow show
// -w <id> --output json` prints, or what the client's fetchHistory() returns.
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { WORKFLOWS_PATH } from './worker.ts';

export type History = temporal.api.history.v1.IHistory;

export interface ReplayOutcome {
  workflowId: string;
  error: Error | undefined;
}

export function readHistoryFile(path: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path, 'utf8')));
}

/** Replays each history; an outcome with an error is a determinism (or code) problem. */
export async function replayHistories(histories: { workflowId: string; history: History }[]): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, replayName: 'scw-karpenter-replay' }, histories);
  for await (const result of results) {
    outcomes.push({ workflowId: result.workflowId, error: result.error });
  }
  return outcomes;
}
