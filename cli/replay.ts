// `scw-karpenter replay FILE...` (also `npm run replay -- FILE...`): replays
// exported workflow histories (temporal workflow show -w <id> --output json >
// history.json) against the workflow code this CLI runs (the image's bundle,
// or this checkout's workflows/), and says which ones no longer replay.
// Encrypted histories are decrypted with the key of the environment
// (PAYLOAD_CODEC_KEY, or PAYLOAD_CODEC_KEY_SECRET with KUBECONFIG), as the worker's.
import { basename } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readHistoryFile, replayHistories, type History } from '../worker/replay.ts';
import { loadCodecKeys } from '../runtime/codec-key.ts';
import { loadCodecSettings } from '../runtime/config.ts';
import { AesGcmPayloadCodec } from '../runtime/payload-codec.ts';
import { connectKube } from './clients.ts';
import { CliError, COMMON_OPTIONS, configOrUsageError, errorText, EXIT, json, outputFormat, parseCommandArgs, progressReporter, usageError } from './output.ts';

export const REPLAY_USAGE = `usage: scw-karpenter replay FILE... [--output table|json] [--progress]
  Replays exported workflow histories against this build's workflow code; exit 1 if one no longer replays.
  Export one with: temporal workflow show -w <workflow-id> --output json > history.json
  -o, --output  table (default: one line per history) or json
  --progress    progress lines on stderr even when it is not a terminal`;

export interface ReplayReport {
  workflowId: string;
  file: string;
  replays: boolean;
  error: string | undefined;
}

export async function runReplay(args: string[]): Promise<number> {
  const { values, positionals: files } = parseCommandArgs(args, COMMON_OPTIONS, REPLAY_USAGE, true);
  if (values.help) {
    console.log(REPLAY_USAGE);
    return EXIT.ok;
  }
  const format = outputFormat(values.output);
  if (files.length === 0) throw usageError(`which histories?\n${REPLAY_USAGE}`);
  const progress = progressReporter(values.progress);
  const codecSettings = configOrUsageError(() => loadCodecSettings());

  const histories: { workflowId: string; file: string; history: History }[] = [];
  for (const file of files) {
    try {
      histories.push({ workflowId: basename(file, '.json'), file, history: readHistoryFile(file) });
    } catch (err) {
      throw usageError(`reading history ${file}: ${errorText(err)}`);
    }
  }
  let keys;
  try {
    keys = await loadCodecKeys(codecSettings, () => connectKube(process.env.KUBECONFIG));
  } catch (err) {
    throw new CliError(`reading the payload codec key: ${errorText(err)}`, EXIT.usage);
  }
  progress(`replaying ${histories.length} histor${histories.length === 1 ? 'y' : 'ies'}${process.env.WORKFLOW_BUNDLE_PATH ? ` on the workflow bundle ${process.env.WORKFLOW_BUNDLE_PATH}` : ' (bundling the workflows first)'}...`);
  // The replay worker's state changes are the SDK's INFO lines: warnings and errors only, on stderr.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  let outcomes;
  try {
    outcomes = await replayHistories(histories, keys && new AesGcmPayloadCodec(keys));
  } catch (err) {
    throw new CliError(errorText(err), EXIT.usage);
  }
  const reports: ReplayReport[] = outcomes.map((o, i) => ({ workflowId: o.workflowId, file: histories[i]?.file ?? '', replays: !o.error, error: o.error?.message }));
  const failed = reports.filter((r) => !r.replays).length;
  if (format === 'json') {
    console.log(json(reports));
  } else {
    for (const r of reports) console.log(r.replays ? `✔ ${r.workflowId} replays` : `✖ ${r.workflowId}: ${r.error ?? ''}`);
    console.log(`${reports.length - failed} replayed, ${failed} failed`);
  }
  return failed ? EXIT.failed : EXIT.ok;
}
