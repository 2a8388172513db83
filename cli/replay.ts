// `npm run replay -- <history.json> [...]`: replays exported workflow histories
// (temporal workflow show -w <id> --output json > history.json) against the
// workflow code of this checkout, and says which ones no longer replay.
// Encrypted histories are decrypted with the key of the environment
// (PAYLOAD_CODEC_KEY, or PAYLOAD_CODEC_KEY_SECRET with KUBECONFIG), as the worker's.
import { basename } from 'node:path';
import { readHistoryFile, replayHistories } from '../worker/replay.ts';
import { loadCodecKeys } from '../runtime/codec-key.ts';
import { loadCodecSettings } from '../runtime/config.ts';
import { AesGcmPayloadCodec } from '../runtime/payload-codec.ts';
import { createKubeRest, loadKubeConfig } from '../kube/rest.ts';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0) {
  console.error('usage: npm run replay -- <history.json> [...]\n  export one with: temporal workflow show -w <workflow-id> --output json > history.json');
  process.exit(2);
}
let outcomes;
try {
  const keys = await loadCodecKeys(loadCodecSettings(), () => createKubeRest(loadKubeConfig(process.env.KUBECONFIG)));
  outcomes = await replayHistories(files.map((file) => ({ workflowId: basename(file, '.json'), history: readHistoryFile(file) })), keys && new AesGcmPayloadCodec(keys));
} catch (err) {
  console.error(`✖ ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
let failed = 0;
for (const outcome of outcomes) {
  if (outcome.error) {
    failed++;
    console.log(`✖ ${outcome.workflowId}: ${outcome.error.message}`);
  } else {
    console.log(`✔ ${outcome.workflowId} replays`);
  }
}
console.log(`${outcomes.length - failed} replayed, ${failed} failed`);
process.exit(failed ? 1 : 0);
