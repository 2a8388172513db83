// No secret anywhere: every workflow history (raw, and decoded with the run's
// codec key, as a Web UI user with the codec server would see it), every log
// line of every process of the run, and every Event, searched for the secrets
// of the run: bootstrap tokens and k3s tokens (as the simulated kubelets found
// them in the user data), the Scaleway secret key, the codec key and the
// kubeconfig's client key.
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { decodeHistoryPayloads, historyText } from '../runtime/history-payloads.ts';
import { logsUnder } from '../test/harness/leaks.ts';

export interface SecretSet {
  /** label → value; the label is what a finding reports (never the value). */
  readonly values: ReadonlyMap<string, string>;
}

/** The distinctive parts of a PEM private key: its base64 lines (one is enough to be a leak). */
export function pemKeyMaterial(pem: string): string[] {
  const body = pem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
  return [...body.slice(0, 2), Buffer.from(pem).toString('base64').slice(0, 64)];
}

/** A join token's secret half (`<id>.<secret>`: the id is public, the secret is not). */
export function tokenSecretPart(token: string): string {
  const dot = token.indexOf('.');
  return dot >= 0 ? token.slice(dot + 1) : token;
}

export function runSecrets(opts: { joinSecrets: Iterable<string>; scalewaySecretKey: string; codecKey: string; keyFiles: Record<string, string>; tokens?: Record<string, string> }): SecretSet {
  const values = new Map<string, string>();
  let n = 0;
  for (const token of opts.joinSecrets) values.set(`join token #${++n}`, tokenSecretPart(token));
  values.set('Scaleway secret key', opts.scalewaySecretKey);
  values.set('payload codec key', opts.codecKey);
  for (const [label, token] of Object.entries(opts.tokens ?? {})) values.set(label, token);
  for (const [label, file] of Object.entries(opts.keyFiles)) {
    pemKeyMaterial(readFileSync(file, 'utf8')).forEach((part, i) => values.set(`${label} (part ${i + 1})`, part));
  }
  return { values };
}

export interface Scanned {
  /** What was searched, e.g. "142 workflow histories, 9 logs, 513 Events". */
  searched: string;
  /** "where: which secret", never the secret. */
  findings: string[];
  /** Payloads the codec could not decode (they were scanned raw only). */
  undecoded: number;
}

export async function scanRun(opts: { secrets: SecretSet; client: Client; codec: PayloadCodec; logDir: string; eventsText: string }): Promise<Scanned> {
  const texts: { label: string; text: string }[] = [];
  let histories = 0;
  let undecoded = 0;
  for await (const execution of opts.client.workflow.list()) {
    const history = await opts.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const { decoded, failures } = await decodeHistoryPayloads(history, opts.codec);
    undecoded += failures.length;
    texts.push({ label: `history of ${execution.workflowId} (raw)`, text: historyText(history) });
    texts.push({ label: `history of ${execution.workflowId} (decoded)`, text: historyText(decoded) });
    histories += 1;
  }
  const logs = logsUnder(opts.logDir);
  for (const log of logs) texts.push({ label: `log ${log.file}`, text: log.text });
  texts.push({ label: 'Events', text: opts.eventsText });
  const findings: string[] = [];
  for (const { label, text } of texts) {
    for (const [secretLabel, value] of opts.secrets.values) if (value && text.includes(value)) findings.push(`${label} contains the ${secretLabel}`);
  }
  return { searched: `${histories} workflow histories, ${logs.length} logs, the Events`, findings, undecoded };
}
