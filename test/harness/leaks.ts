// Where secrets must never show up: workflow histories (inputs, results,
// failures), this process's output, the logs of the processes it started, and
// the cluster's Events. Histories are scanned twice: as stored (encrypted) and
// decoded with the client's payload codec, so that encryption cannot hide a
// secret from the scan; a payload that does not decode counts as a finding.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { History } from '../../worker/replay.ts';
import { decodeHistoryPayloads, historyText } from '../../runtime/history-payloads.ts';

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

export interface CollectedHistory {
  workflowId: string;
  runId: string;
  /** As the Temporal server stores it (payloads encrypted when a codec is on). */
  history: History;
  /** The stored history as text, every byte field as UTF-8. */
  json: string;
  /** The history with every payload decoded by the client's codecs, as text. */
  decodedJson: string;
  /** Payloads the codecs could not decode (each is a finding: it could hide anything). */
  decodeFailures: string[];
}

/** The client's codecs as one, in decode order (the reverse of encode's). */
function clientCodec(client: Client): PayloadCodec {
  const codecs = [...client.options.loadedDataConverter.payloadCodecs].reverse();
  return {
    encode: () => Promise.reject(new Error('decode only')),
    decode: async (payloads: Payload[]) => {
      let out = payloads;
      for (const codec of codecs) out = await codec.decode(out);
      return out;
    },
  };
}

/** Every run's history in the client's namespace, stored and decoded. */
export async function collectHistories(client: Client): Promise<CollectedHistory[]> {
  const codec = clientCodec(client);
  const out: CollectedHistory[] = [];
  for await (const execution of client.workflow.list()) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const { decoded, failures } = await decodeHistoryPayloads(history, codec);
    out.push({ workflowId: execution.workflowId, runId: execution.runId, history, json: historyText(history), decodedJson: historyText(decoded), decodeFailures: failures });
  }
  return out;
}

/** The texts to scan for one set of histories: each stored and decoded. */
export function historyTexts(histories: readonly CollectedHistory[]): { label: string; text: string }[] {
  return histories.flatMap((h) => [
    { label: `history ${h.workflowId} (${h.runId}) as stored`, text: h.json },
    { label: `history ${h.workflowId} (${h.runId}) decoded`, text: h.decodedJson },
  ]);
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

/**
 * The strings of a PEM block worth searching for: each base64 line of its body
 * (a log that quotes part of a key still leaks it) and the block as a whole.
 * Lines shorter than 16 characters (a block's last) are too likely to match by chance.
 */
export function pemSecrets(pem: string): string[] {
  const lines = pem.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('-----') && l.length >= 16);
  return [...lines, pem.trim()];
}

/**
 * The secret material of a kubeconfig: client keys (the base64 in the file and
 * the PEM lines it holds), tokens and passwords. Certificates are public and
 * left out.
 */
export function kubeconfigSecrets(kubeconfigYaml: string): string[] {
  const doc = parseYaml(kubeconfigYaml) as { users?: { user?: Record<string, unknown> }[] } | null;
  const out: string[] = [];
  for (const { user } of doc?.users ?? []) {
    const keyData = user?.['client-key-data'];
    if (typeof keyData === 'string') out.push(keyData, ...pemSecrets(Buffer.from(keyData, 'base64').toString('utf8')));
    for (const field of ['token', 'password']) {
      const value = user?.[field];
      if (typeof value === 'string' && value) out.push(value);
    }
  }
  return out;
}

export interface SecretScan {
  /** Reads every workflow history of its namespace, with its payload codec. */
  client: Client;
  /** Process logs and captured output. */
  logs: readonly { label: string; text: string }[];
  /** The cluster's Events (core/v1 or events.k8s.io/v1 objects). */
  events: readonly unknown[];
  /** Bootstrap tokens, k3s tokens, the Scaleway secret key, kubeconfig material (kubeconfigSecrets, pemSecrets). */
  secrets: readonly string[];
}

const eventLabel = (event: unknown): string => {
  const e = event as { metadata?: { namespace?: string; name?: string }; involvedObject?: { kind?: string; name?: string }; regarding?: { kind?: string; name?: string } };
  const about = e.involvedObject ?? e.regarding;
  return `Event ${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? '?'} (${about?.kind ?? '?'} ${about?.name ?? '?'})`;
};

/**
 * Every place a secret occurs across the histories (stored and decoded), the
 * logs and the Events, plus every history payload that did not decode. Empty
 * means clean.
 */
export async function scanForSecrets(scan: SecretScan): Promise<string[]> {
  const histories = await collectHistories(scan.client);
  const undecodable = histories.flatMap((h) => h.decodeFailures.map((f) => `history ${h.workflowId} (${h.runId}): payload did not decode, so it was not scanned: ${f}`));
  return [
    ...undecodable,
    ...findSecrets(scan.secrets, [
      ...historyTexts(histories),
      ...scan.logs,
      ...scan.events.map((event) => ({ label: eventLabel(event), text: JSON.stringify(event) })),
    ]),
  ];
}
