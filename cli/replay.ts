// `npm run replay -- <history.json> [...]`: replays exported workflow histories
// (temporal workflow show -w <id> --output json > history.json) against the
// workflow code of this checkout, and says which ones no longer replay.
import { basename } from 'node:path';
import { readHistoryFile, replayHistories } from '../worker/replay.ts';

const files = process.argv.slice(2).filter((a) => a !== '--');
if (files.length === 0) {
  console.error('usage: npm run replay -- <history.json> [...]\n  export one with: temporal workflow show -w <workflow-id> --output json > history.json');
  process.exit(2);
}
const outcomes = await replayHistories(files.map((file) => ({ workflowId: basename(file, '.json'), history: readHistoryFile(file) })));
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
