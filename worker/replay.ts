// Replaying workflow histories against the current workflow code: the guard
// against non-deterministic changes. A history is what `temporal workflow show
// -w <id> --output json` prints, or what the client's fetchHistory() returns.
// Encrypted histories need the payload codec that wrote them; plain ones
// (recorded before encryption) replay with or without it. The workflow code is
// the worker's (workflow-code.ts): the image's prebuilt bundle when
// WORKFLOW_BUNDLE_PATH is set, where there is no TypeScript to bundle, else
// workflows/ of this checkout.
import { readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { isEncrypted, temporalDataConverter } from '../runtime/payload-codec.ts';
import { payloadsOf } from '../runtime/history-payloads.ts';
import { workflowCode } from './workflow-code.ts';

export type History = temporal.api.history.v1.IHistory;

export interface ReplayOutcome {
  workflowId: string;
  error: Error | undefined;
}

export function readHistoryFile(path: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path, 'utf8')));
}

export const isEncryptedHistory = (history: History): boolean => payloadsOf(history).some((p) => isEncrypted(p.payload));

/** Replays each history; an outcome with an error is a determinism (or code) problem. */
export async function replayHistories(histories: { workflowId: string; history: History }[], codec?: PayloadCodec, env: NodeJS.ProcessEnv = process.env): Promise<ReplayOutcome[]> {
  if (!codec) {
    const encrypted = histories.filter((h) => isEncryptedHistory(h.history)).map((h) => h.workflowId);
    // Without the key the replay would fail on the first payload with an opaque error: say why instead.
    if (encrypted.length) {
      throw new Error(`${encrypted.join(', ')}: the payloads are encrypted; replay needs their key (PAYLOAD_CODEC_KEY or PAYLOAD_CODEC_KEY_SECRET, see README "Payload encryption")`);
    }
  }
  const outcomes: ReplayOutcome[] = [];
  const results = Worker.runReplayHistories({ ...workflowCode(env), replayName: 'scw-karpenter-replay', dataConverter: temporalDataConverter(codec) }, histories);
  for await (const result of results) {
    outcomes.push({ workflowId: result.workflowId, error: result.error });
  }
  return outcomes;
}
