// Where secrets must never show up: workflow histories (inputs, results,
// failures), this process's output, and the logs of the processes it started.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { History } from '../../worker/replay.ts';

const captured: string[] = [];
let capturing = false;

/** Tees everything this process writes to stdout and stderr into memory, for a later scan. */
export function captureOutput(): void {
  if (capturing) return;
  capturing = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return write(chunk, ...rest);
    });
  }
}

export function capturedOutput(): string {
  return captured.join('');
}

export async function collectHistories(client: Client): Promise<{ workflowId: string; history: History; json: string }[]> {
  const out: { workflowId: string; history: History; json: string }[] = [];
  for await (const execution of client.workflow.list()) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    // Payload bytes as text, so that a secret inside a JSON payload is found by a plain search.
    const json = JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value));
    out.push({ workflowId: execution.workflowId, history, json });
  }
  return out;
}

/** The text of every file under `dir` (process logs), skipping binary stores. */
export function logsUnder(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...logsUnder(path));
    else if (name.endsWith('.log')) out.push({ file: path, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/** The places (labels) where any of the secrets occur. */
export function findSecrets(secrets: readonly string[], texts: readonly { label: string; text: string }[]): string[] {
  const hits: string[] = [];
  for (const { label, text } of texts) {
    for (const secret of secrets) if (secret && text.includes(secret)) hits.push(`${label} contains ${secret.slice(0, 4)}…`);
  }
  return hits;
}
